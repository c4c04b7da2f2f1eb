//! What every request of the console shares, and the follower that keeps
//! its event history current.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use tenure_core::{Admin, SessionState};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::auth::Auth;
use super::hub::Hub;
use super::reasons;
use super::snapshot::Snapshots;
use crate::output::schema::{EventDoc, millis};

/// The console: the cluster it shows and how.
pub struct Console {
    /// The admin handle of the cluster.
    pub admin: Admin,
    /// The cluster's name.
    pub cluster: String,
    /// `zookeeper` or `etcd`.
    pub backend: &'static str,
    /// The servers, as `--connect` gave them.
    pub servers: String,
    /// The status cache.
    pub snapshots: Snapshots,
    /// The ownership events seen.
    pub hub: Hub,
    /// Who may operate.
    pub auth: Auth,
    /// Cancelled when the console stops: ends the event streams.
    pub shutdown: CancellationToken,
}

/// The console as handlers get it.
pub type Shared = Arc<Console>;

/// Follows the cluster's ownership events into the hub until the task is
/// aborted; every event also makes the next status read fresh.
pub async fn follow(console: Arc<Console>) {
    loop {
        let mut events = Box::pin(console.admin.ownership_events());
        while let Some(event) = events.next().await {
            let reason = reasons::explain(&console.admin, &event).await;
            console.hub.push_event(EventDoc::from(&event), reason);
            console.snapshots.invalidate();
        }
        let ended_ms = millis(SystemTime::now());
        info!("the ownership event stream ended; following again once connected");
        let mut states = console.admin.store().session_events();
        loop {
            let state = *states.borrow_and_update();
            match state {
                SessionState::Connected(_) => break,
                SessionState::Closed => {
                    debug!("the store is closed: no more events");
                    return;
                }
                _ => {}
            }
            // The state may change without the watch firing when a
            // backend coalesces; look again every second.
            let _ = tokio::time::timeout(Duration::from_secs(1), states.changed()).await;
        }
        console.hub.push_gap(
            ended_ms,
            millis(SystemTime::now()),
            "the event stream ended (the session ended or the servers were away) and started \
             again: changes in between are not shown"
                .into(),
        );
        console.snapshots.invalidate();
    }
}

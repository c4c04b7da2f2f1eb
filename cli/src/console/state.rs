//! What every request of the console shares.

use std::sync::Arc;

use tenure_core::Admin;
use tokio_util::sync::CancellationToken;

use super::auth::Auth;
use super::hub::Hub;
use super::snapshot::Snapshots;

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

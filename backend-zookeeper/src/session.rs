//! The session supervisor: turns the client library's session states into
//! tenure's, and opens a new session when the server has ended the old one.
//!
//! | ZooKeeper client state | tenure state |
//! |---|---|
//! | `SyncConnected` | `Connected(s)` |
//! | `Disconnected` | `Suspended(s)` |
//! | `Expired`, `AuthFailed`, `Closed` (not asked for) | `Expired(s)`, then a new session: `Connected(t)` |
//!
//! The supervisor holds only a weak reference to the store, so dropping the
//! store ends it.

use std::sync::Weak;

use tenure_core::backoff::Backoff;
use tenure_core::{SessionId, SessionState};
use zookeeper_client as zk;

use crate::connect;
use crate::shared::{Live, Shared};

/// Follows the session of `watcher` (id `session`) and its successors until
/// the store is closed or dropped.
pub(crate) async fn supervise(
    shared: Weak<Shared>,
    mut watcher: zk::StateWatcher,
    mut session: SessionId,
) {
    let Some(closed) = shared.upgrade().map(|s| s.closed.clone()) else {
        return;
    };
    loop {
        let mut state = watcher.state();
        loop {
            let Some(store) = shared.upgrade() else {
                return;
            };
            match state {
                zk::SessionState::SyncConnected => store.publish(SessionState::Connected(session)),
                zk::SessionState::Disconnected | zk::SessionState::ConnectedReadOnly => {
                    tracing::info!(%session, "ZooKeeper connection lost: session suspended");
                    store.publish(SessionState::Suspended(session));
                }
                zk::SessionState::Expired
                | zk::SessionState::AuthFailed
                | zk::SessionState::Closed => {
                    if closed.is_cancelled() {
                        return;
                    }
                    tracing::warn!(%session, %state, "ZooKeeper session ended");
                    store.publish(SessionState::Expired(session));
                    break;
                }
            }
            drop(store);
            state = tokio::select! {
                next = watcher.changed() => next,
                _ = closed.cancelled() => return,
            };
        }
        match renew(&shared, &closed).await {
            Some((next_watcher, next_session)) => {
                watcher = next_watcher;
                session = next_session;
            }
            None => return,
        }
    }
}

/// Opens a new session, retrying with a capped exponential backoff until it
/// succeeds or the store is closed or dropped; installs it as the live one.
async fn renew(
    shared: &Weak<Shared>,
    closed: &tokio_util::sync::CancellationToken,
) -> Option<(zk::StateWatcher, SessionId)> {
    let config = shared.upgrade()?.config.clone();
    let (min, max) = config.reconnect_backoff;
    let mut backoff =
        Backoff::new(min, max).seeded(&format!("{}#{}", config.servers, std::process::id()));
    let mut pause = backoff.next_pause();
    for attempt in 1u64.. {
        let config = shared.upgrade()?.config.clone();
        let opened = tokio::select! {
            opened = connect::open(&config) => opened,
            _ = closed.cancelled() => return None,
        };
        match opened {
            Ok(opened) => {
                let store = shared.upgrade()?;
                let watcher = opened.client.state_watcher();
                let session = opened.session;
                {
                    // Checked under the lock `close` takes the client with,
                    // so a session opened during close is never left live.
                    let mut current = store.current.write().unwrap_or_else(|p| p.into_inner());
                    if closed.is_cancelled() {
                        return None;
                    }
                    *current = Some(Live {
                        client: opened.client,
                        session,
                        timeout: opened.timeout,
                    });
                }
                store.begin(session, opened.started);
                tracing::info!(%session, attempt, "new ZooKeeper session opened");
                store.publish(SessionState::Connected(session));
                return Some((watcher, session));
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, retry_in = ?pause, "could not open a new ZooKeeper session");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = closed.cancelled() => return None,
        }
        pause = backoff.next_pause();
    }
    None
}

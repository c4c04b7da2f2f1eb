//! What every clone of a [`ZkStore`](crate::ZkStore) and its session
//! supervisor share: the configuration, the live session's client, the
//! session state published, and the plumbing every request goes through.

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tenure_core::{Error, Path, Result, SessionId, SessionState};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

use crate::config::ZkConfig;
use crate::errors::{self, ServerAnswer};
use crate::proof::{Proof, Reach};

/// What every clone of a store and its session supervisor share.
pub(crate) struct Shared {
    pub(crate) config: ZkConfig,
    /// The live session's client; `None` once closed.
    pub(crate) current: RwLock<Option<Live>>,
    pub(crate) state: watch::Sender<SessionState>,
    pub(crate) closed: CancellationToken,
    /// What the leader has provably seen of the live session.
    pub(crate) proof: Mutex<Option<Proof>>,
    /// The shortest deadline lag asked for with `fit_renewal`, if any.
    pub(crate) renew_within: Mutex<Option<Duration>>,
    /// Wakes the renewal when the lag asked for changes.
    pub(crate) renew_changed: Arc<Notify>,
}

/// One session: its client object, id and granted timeout.
#[derive(Clone)]
pub(crate) struct Live {
    pub(crate) client: zk::Client,
    pub(crate) session: SessionId,
    pub(crate) timeout: Duration,
}

impl Drop for Shared {
    /// The last store handle is gone: pending watches resolve `Lost` and the
    /// supervisor stops; dropping the client ends the session.
    fn drop(&mut self) {
        self.closed.cancel();
    }
}

impl Shared {
    /// The session to send a request on, or why there is none usable.
    pub(crate) fn live(&self) -> Result<Live> {
        if self.closed.is_cancelled() {
            return Err(Error::Closed);
        }
        let Some(live) = self.live_client() else {
            // A session given up (`restart`), before the next one opens.
            return Err(match *self.state.borrow() {
                SessionState::Closed => Error::Closed,
                state => Error::SessionExpired {
                    session: state.session().map_or(0, |s| s.0),
                },
            });
        };
        match live.client.state() {
            zk::SessionState::SyncConnected => Ok(live),
            zk::SessionState::Disconnected | zk::SessionState::ConnectedReadOnly => {
                Err(Error::ConnectionLost {
                    detail: format!(
                        "no connection to ZooKeeper at {}; session {} may still be alive",
                        self.config.servers, live.session
                    ),
                })
            }
            zk::SessionState::AuthFailed => {
                Err(errors::map_session(zk::Error::AuthFailed, live.session))
            }
            zk::SessionState::Expired | zk::SessionState::Closed => Err(Error::SessionExpired {
                session: live.session.0,
            }),
        }
    }

    /// Sends a request (already built into `request`) on `live`, bounded by
    /// the session timeout, and notes the answer for the session deadline
    /// with who saw the request (`reach`: [`Reach::Quorum`] for create,
    /// set, delete and multi). The inner result is ZooKeeper's answer, for
    /// the caller to interpret.
    pub(crate) async fn request<T, E: ServerAnswer>(
        &self,
        live: &Live,
        what: &str,
        path: &Path,
        reach: Reach,
        request: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, E>> {
        let sent = Instant::now();
        let answer = tokio::time::timeout(live.timeout, request)
            .await
            .map_err(|_| Error::Timeout {
                operation: format!("ZooKeeper {what} of {path}"),
                after: live.timeout,
            })?;
        if answer
            .as_ref()
            .err()
            .is_none_or(ServerAnswer::server_answered)
        {
            self.note_answer(live.session, sent, reach);
        }
        Ok(answer)
    }

    pub(crate) fn live_client(&self) -> Option<Live> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Publishes a session state; nothing follows `Closed`.
    pub(crate) fn publish(&self, next: SessionState) {
        self.state.send_if_modified(|state| {
            if *state == SessionState::Closed || *state == next {
                return false;
            }
            *state = next;
            true
        });
    }
}

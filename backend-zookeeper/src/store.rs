//! [`ZkStore`]: one live ZooKeeper session at a time, and the plumbing every
//! request goes through.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tenure_core::{Error, Path, Result, SessionId, SessionState};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

use crate::config::ZkConfig;
use crate::connect::{self, Opened};
use crate::errors::{self, Kind, ServerAnswer};
use crate::proof::{Proof, Reach};
use crate::shared::{Live, Shared};
use crate::{renewal, session};

/// How long [`close`](tenure_core::CoordinationStore::close) waits at most
/// for the server to confirm the end of the session.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A [`CoordinationStore`](tenure_core::CoordinationStore) on a ZooKeeper
/// ensemble.
///
/// The store holds one session at a time. When the server ends it
/// (expiry), the state goes `Expired(s)` and the store opens a new session
/// on its own, retrying with a capped backoff for as long as the store is
/// open, then reports `Connected(t)`; nothing is ever re-created under the
/// old session: requests go to the client object of the session they were
/// meant for, which refuses once that session is gone.
///
/// Versions are ZooKeeper's data versions (`Stat.version`): compare them
/// for equality only. ZooKeeper restarts a node's version at 0 when it is
/// deleted and created again, so a version names a state of one incarnation
/// of a node; the runtime never compares versions across a deletion.
///
/// [`session_deadline`](tenure_core::CoordinationStore::session_deadline)
/// counts only from requests proven to have renewed the session *at the
/// leader*, which alone expires sessions: a follower cut off from its
/// leader keeps answering for up to `syncLimit × tickTime`, so an answer
/// alone proves nothing. A request is proven once two later writes went
/// through the leader in a row, the first at least a leader ping interval
/// after it was answered (see the `proof` module). The store writes on its
/// own for that (a `multi` that checks its root and changes nothing) every
/// period of its renewal, which callers fit with
/// [`fit_renewal`](tenure_core::CoordinationStore::fit_renewal); the
/// deadline lags "now + session timeout" by at most the reported
/// [`renewal_period`](tenure_core::StoreInfo::renewal_period) plus two
/// answer latencies. The leader's ping interval is bounded with
/// [`ZkConfig::with_tick_time`], or from the granted session timeout.
///
/// Cloning is cheap and shares the session. Dropping the last clone without
/// [`close`](tenure_core::CoordinationStore::close) ends the session as
/// well, without waiting for the server.
#[derive(Clone)]
pub struct ZkStore {
    pub(crate) shared: Arc<Shared>,
}

impl ZkStore {
    /// Connects to the servers of `config` and opens a session.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed configuration;
    /// [`Error::Timeout`] naming the servers when no session could be
    /// opened within the connect timeout (unreachable or refusing servers);
    /// [`Error::Unauthorized`] when the chroot's ACL refuses the configured
    /// credentials (or their absence).
    pub async fn connect(config: ZkConfig) -> Result<ZkStore> {
        config.validate()?;
        let opened = connect::open(&config).await?;
        let Opened {
            client,
            session,
            timeout,
            started,
        } = opened;
        let watcher = client.state_watcher();
        let (state, _) = watch::channel(SessionState::Connected(session));
        let shared = Arc::new(Shared {
            config,
            current: RwLock::new(Some(Live {
                client,
                session,
                timeout,
            })),
            state,
            closed: CancellationToken::new(),
            proof: Mutex::new(Some(Proof::new(session, started))),
            renew_within: Mutex::new(None),
            renew_changed: Arc::new(Notify::new()),
        });
        tokio::spawn(session::supervise(
            Arc::downgrade(&shared),
            watcher,
            session,
        ));
        tokio::spawn(renewal::run(Arc::downgrade(&shared)));
        Ok(ZkStore { shared })
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &ZkConfig {
        &self.shared.config
    }

    /// The live session's id and password, for reattaching the session from
    /// another client (for example to end it on purpose in a test: connect
    /// with it, then drop that client). `None` once closed.
    pub fn session_info(&self) -> Option<zk::SessionInfo> {
        self.shared
            .live_client()
            .map(|l| l.client.session().clone())
    }

    /// The ACL of nodes this store creates.
    pub(crate) fn acls(&self) -> zk::Acls<'_> {
        crate::acl::acls(self.shared.config.credentials.as_ref())
    }

    /// The chroot's length in bytes (0 without one), for packet sizes.
    pub(crate) fn chroot_len(&self) -> usize {
        self.shared
            .config
            .chroot
            .as_ref()
            .map_or(0, |c| c.as_str().len())
    }

    /// The session to send a request on, or why there is none usable (see
    /// [`Shared::live`]).
    pub(crate) fn live(&self) -> Result<Live> {
        self.shared.live()
    }

    /// Sends a request on `live` (see [`Shared::request`]).
    pub(crate) async fn request<T, E: ServerAnswer>(
        &self,
        live: &Live,
        what: &str,
        path: &Path,
        reach: Reach,
        request: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, E>> {
        self.shared.request(live, what, path, reach, request).await
    }

    /// Maps a ZooKeeper error of a request of `kind` on `path`.
    pub(crate) fn fail(&self, err: zk::Error, kind: Kind, path: &Path, live: &Live) -> Error {
        if self.shared.closed.is_cancelled() {
            return Error::Closed;
        }
        errors::map(err, kind, path, live.session)
    }

    /// Checks that an ephemeral node is meant for the live session.
    pub(crate) fn check_owner(&self, owner: SessionId, live: &Live) -> Result<()> {
        if owner == live.session {
            Ok(())
        } else {
            Err(Error::SessionExpired { session: owner.0 })
        }
    }

    /// Gives the live session up: drops its client (the library closes the
    /// session), waits (bounded) for the server to confirm the end, and
    /// reports the session `Expired` unless a newer one is reported
    /// already; the supervisor opens a new one.
    pub(crate) async fn restart(&self) -> Result<()> {
        if self.shared.closed.is_cancelled() {
            return Err(Error::Closed);
        }
        if let Some(live) = self.take_live() {
            let session = live.session;
            end_client(live).await;
            self.shared.state.send_if_modified(|state| match *state {
                SessionState::Connected(s) | SessionState::Suspended(s) if s == session => {
                    *state = SessionState::Expired(s);
                    true
                }
                _ => false,
            });
        }
        Ok(())
    }

    /// Takes the live session's client, so that no request uses it again.
    fn take_live(&self) -> Option<Live> {
        self.shared
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Ends the session and waits (bounded) for the server to confirm.
    pub(crate) async fn shut(&self) {
        self.shared.closed.cancel();
        if let Some(live) = self.take_live() {
            end_client(live).await;
        }
        self.shared.publish(SessionState::Closed);
    }
}

/// Drops the last client object of a session, which makes the library
/// close it, and waits (bounded) for the end to be confirmed.
async fn end_client(live: Live) {
    let (session, live_timeout) = (live.session, live.timeout);
    let mut watcher = live.client.state_watcher();
    // Requests still in flight hold clones for a moment.
    drop(live);
    let ended = async {
        let mut state = watcher.state();
        while !state.is_terminated() {
            state = watcher.changed().await;
        }
        state
    };
    // Past the session timeout the server ends the session anyway.
    let limit = CLOSE_WAIT.min(live_timeout);
    match tokio::time::timeout(limit, ended).await {
        Ok(state) => tracing::debug!(%session, %state, "ZooKeeper session closed"),
        Err(_) => tracing::warn!(
            %session,
            "ZooKeeper did not confirm the end of the session within {limit:?}"
        ),
    }
}

impl fmt::Debug for ZkStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZkStore")
            .field("servers", &self.shared.config.servers)
            .field("chroot", &self.shared.config.chroot)
            .field("state", &*self.shared.state.borrow())
            .finish()
    }
}

impl fmt::Display for ZkStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zookeeper://{}", self.shared.config.servers)?;
        match &self.shared.config.chroot {
            Some(chroot) => write!(f, "{chroot}"),
            None => Ok(()),
        }
    }
}

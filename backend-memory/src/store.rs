//! A client of the in-memory server: how it connects, and the
//! [`CoordinationStore`] it offers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{
    CoordinationStore, CreateMode, Error, Name, Node, Op, OpResult, Path, Result, SessionState,
    StoreInfo, Version, Watch,
};
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::answers::{AnswerFaults, from_server};
use crate::client::{ClientEntry, ClientId};
use crate::server::MemoryServer;

/// A client of a [`MemoryServer`], with one session at a time: the
/// [`CoordinationStore`] the runtime uses, plus fault hooks for simulation
/// tests (see [`MemoryStore::suspend`] and its neighbours).
///
/// Clones share the client and its session. Closing any clone closes the
/// client. When every clone is dropped without [`close`](Self::close), the
/// server treats it as a dead process: the connection drops and the session
/// ends after its timeout.
///
/// Every request yields to the tokio scheduler once before it reaches the
/// server, as a network round trip would, so a task looping on requests
/// cannot starve the others of a single-threaded runtime.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<ClientHandle>,
}

struct ClientHandle {
    server: MemoryServer,
    id: ClientId,
    timeout: Duration,
    max_payload: usize,
    state: watch::Sender<SessionState>,
    /// False while silently partitioned.
    reachable: watch::Receiver<bool>,
    /// Answers lost or delayed on their way back (see
    /// [`MemoryStore::lose_answers`], [`MemoryStore::delay_answers`]).
    answers: AnswerFaults,
}

impl Drop for ClientHandle {
    fn drop(&mut self) {
        self.server.detach(self.id);
    }
}

impl MemoryServer {
    /// Connects a new client with a session of (about) `session_timeout`,
    /// clamped to the configured range. The client is connected at once.
    ///
    /// Timers of the client (session expiry while suspended, delayed watch
    /// events) run on the tokio runtime this is called from.
    ///
    /// # Errors
    /// [`Error::ConnectionLost`] when [`MemoryConfig::max_sessions`](crate::MemoryConfig::max_sessions) sessions
    /// are already open; [`Error::Backend`] when called outside a tokio
    /// runtime.
    pub async fn connect(&self, session_timeout: Duration) -> Result<MemoryStore> {
        let handle = Handle::try_current().map_err(|e| {
            Error::backend(
                "memory",
                "the in-memory server needs a tokio runtime for its timers",
                e,
            )
        })?;
        let (id, timeout, state, reachable) = self.apply(|st| {
            if st.sessions.len() >= st.config.max_sessions {
                return Err(Error::ConnectionLost {
                    detail: format!(
                        "the in-memory server refuses new sessions: the limit of {} open sessions is reached",
                        st.config.max_sessions
                    ),
                });
            }
            st.next_client += 1;
            let id = ClientId(st.next_client);
            let timeout = st.config.negotiate(session_timeout);
            let entry = ClientEntry::new(timeout, handle);
            let state = entry.state.clone();
            let reachable = entry.reachable.subscribe();
            st.clients.insert(id, entry);
            let session = st.open_session(id);
            tracing::debug!(client = %id, %session, ?timeout, "memory client connected");
            Ok((id, timeout, state, reachable))
        })?;
        Ok(MemoryStore::new(
            self.clone(),
            id,
            timeout,
            state,
            reachable,
        ))
    }
}

impl MemoryStore {
    pub(crate) fn new(
        server: MemoryServer,
        id: ClientId,
        timeout: Duration,
        state: watch::Sender<SessionState>,
        reachable: watch::Receiver<bool>,
    ) -> Self {
        let max_payload = server.config().max_payload;
        MemoryStore {
            inner: Arc::new(ClientHandle {
                server,
                id,
                timeout,
                max_payload,
                state,
                reachable,
                answers: AnswerFaults::default(),
            }),
        }
    }

    /// The server this client is connected to.
    pub fn server(&self) -> &MemoryServer {
        &self.inner.server
    }

    pub(crate) fn id(&self) -> ClientId {
        self.inner.id
    }

    pub(crate) fn answer_faults(&self) -> &AnswerFaults {
        &self.inner.answers
    }

    /// The server's answer to a request that wrote `written` (empty for a
    /// read), as the client gets it: lost while
    /// [`MemoryStore::lose_answers`] says so; held on its way for the delay
    /// of [`MemoryStore::delay_answers`], and then lost if the connection
    /// dropped or the session ended meanwhile, or held further while the
    /// connection is silently partitioned.
    async fn reply<T>(&self, written: &[&Path], result: Result<T>) -> Result<T> {
        let result = self.inner.answers.lost_or(written, result);
        let delay = self.inner.answers.delay_of(written);
        if delay.is_zero() || !from_server(&result) {
            return result;
        }
        let left_on = self.inner.server.connection_of(self.inner.id);
        tokio::time::sleep(delay).await;
        self.through_partition().await?;
        if self.inner.server.connection_of(self.inner.id) != left_on {
            return Err(Error::ConnectionLost {
                detail: "the connection dropped while the answer was on its way".into(),
            });
        }
        result
    }

    fn check_payload(&self, data: &[u8]) -> Result<()> {
        if data.len() > self.inner.max_payload {
            return Err(Error::PayloadTooLarge {
                size: data.len(),
                limit: self.inner.max_payload,
            });
        }
        Ok(())
    }

    /// Yields once, as a round trip to a server would. While silently
    /// partitioned, waits for the connection to heal; a request whose
    /// session ended meanwhile fails, as on a connection the server dropped.
    async fn round_trip(&self) -> Result<()> {
        tokio::task::yield_now().await;
        self.through_partition().await
    }

    /// Passes at once unless silently partitioned; then waits for the heal,
    /// and fails if the session ended meanwhile.
    async fn through_partition(&self) -> Result<()> {
        let mut reachable = self.inner.reachable.clone();
        if *reachable.borrow_and_update() {
            return Ok(());
        }
        let sent_in = self.inner.server.session_of(self.inner.id);
        // The sender lives in the server's client entry; if it is gone the
        // client is gone too, and the request below fails as closed.
        let _ = reachable.wait_for(|r| *r).await;
        if self.inner.server.session_of(self.inner.id) != sent_in {
            return Err(Error::ConnectionLost {
                detail: "the session ended while the request waited in a partition".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl CoordinationStore for MemoryStore {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            backend: "memory",
            max_payload: self.inner.max_payload,
            session_timeout: self.inner.timeout,
            // The in-process connection renews the session continuously.
            renewal_period: Duration::ZERO,
        }
    }

    fn fit_renewal(&self, _at_most: Duration) -> Duration {
        Duration::ZERO
    }

    /// Connected: the server ends the session at once (ephemeral nodes
    /// deleted) and the client gets a new one, as after an expiry. Cut off
    /// (suspended or partitioned): the request cannot reach the server, so
    /// the session ends when the server times it out.
    async fn restart_session(&self) -> Result<()> {
        let state = *self.inner.state.borrow();
        if state == SessionState::Closed {
            return Err(Error::Closed);
        }
        if state.is_connected() && *self.inner.reachable.borrow() {
            self.inner.server.apply(|st| st.expire(self.inner.id));
        }
        Ok(())
    }

    fn session_state(&self) -> SessionState {
        *self.inner.state.borrow()
    }

    fn session_events(&self) -> watch::Receiver<SessionState> {
        self.inner.state.subscribe()
    }

    /// Connected: now plus the session timeout (the in-process connection
    /// renews the session continuously). Suspended: the instant the server
    /// times the session out (or ended it, if it already did).
    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        self.inner.server.deadline(self.inner.id)
    }

    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        self.check_payload(data)?;
        self.round_trip().await?;
        let result = self.inner.server.create(self.inner.id, path, data, mode);
        self.reply(&[path], result).await
    }

    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        self.round_trip().await?;
        let result = self.inner.server.get(self.inner.id, path);
        self.reply(&[], result).await
    }

    /// One request, read at one instant (one step of the server).
    async fn get_many(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        self.round_trip().await?;
        let result = self.inner.server.get_many(self.inner.id, paths);
        self.reply(&[], result).await
    }

    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        self.round_trip().await?;
        let result = self.inner.server.get_and_watch(self.inner.id, path);
        self.reply(&[], result).await
    }

    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        self.check_payload(data)?;
        self.round_trip().await?;
        let result = self.inner.server.set(self.inner.id, path, data, expected);
        self.reply(&[path], result).await
    }

    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        self.round_trip().await?;
        let result = self.inner.server.delete(self.inner.id, path, expected);
        self.reply(&[path], result).await
    }

    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        self.round_trip().await?;
        let result = self.inner.server.children(self.inner.id, path);
        self.reply(&[], result).await
    }

    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        self.round_trip().await?;
        let result = self.inner.server.children_and_watch(self.inner.id, path);
        self.reply(&[], result).await
    }

    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        for op in ops {
            if let Op::Create { data, .. } | Op::Set { data, .. } = op {
                self.check_payload(data)?;
            }
        }
        self.round_trip().await?;
        let result = self.inner.server.multi(self.inner.id, ops);
        let written: Vec<&Path> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Create { path, .. } | Op::Set { path, .. } | Op::Delete { path, .. } => {
                    Some(path)
                }
                _ => None,
            })
            .collect();
        self.reply(&written, result).await
    }

    async fn close(&self) -> Result<()> {
        self.inner.server.close(self.inner.id);
        Ok(())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("client", &self.inner.id.0)
            .field("state", &self.session_state())
            .field("session_timeout", &self.inner.timeout)
            .finish()
    }
}

impl fmt::Display for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory store {} ", self.inner.id)?;
        match self.session_state() {
            SessionState::Connecting => write!(f, "(connecting)"),
            SessionState::Connected(s) => write!(f, "(session {s})"),
            SessionState::Suspended(s) => write!(f, "(session {s}, suspended)"),
            SessionState::Expired(s) => write!(f, "(session {s}, expired)"),
            SessionState::Closed => write!(f, "(closed)"),
        }
    }
}

//! The shared in-process server: one lock around the tree, the sessions,
//! the watches and the clients.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tenure_core::{Result, SessionId};

use crate::client::{ClientEntry, ClientId, Delivery};
use crate::config::MemoryConfig;
use crate::counts::{OpCounts, OpKind};
use crate::tree::Tree;
use crate::watches::{Fired, WatchTable};

/// A session as the server tracks it.
#[derive(Debug)]
pub(crate) struct SessionEntry {
    /// The client the session belongs to.
    pub(crate) client: ClientId,
    /// While the client is cut off: the epoch of the cut, which the expiry
    /// timer of that cut must still find here to end the session.
    pub(crate) cut: Option<u64>,
}

/// Everything the server holds, behind one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: MemoryConfig,
    pub(crate) tree: Tree,
    pub(crate) watches: WatchTable,
    pub(crate) sessions: BTreeMap<SessionId, SessionEntry>,
    pub(crate) clients: HashMap<ClientId, ClientEntry>,
    pub(crate) next_session: u64,
    pub(crate) next_client: u64,
    pub(crate) next_epoch: u64,
    pub(crate) counts: OpCounts,
    /// Watches fired by the request being handled, routed when it ends.
    pub(crate) pending: Vec<Fired>,
}

impl State {
    /// Routes the fired watches to their clients' delivery paths.
    fn flush(&mut self) -> Vec<Delivery> {
        let fired = std::mem::take(&mut self.pending);
        fired
            .into_iter()
            .filter_map(|f| match self.clients.get_mut(&f.client) {
                Some(client) => client.route(f.sender, f.event),
                None => Some(Delivery::Now(f.sender, f.event)),
            })
            .collect()
    }
}

/// A handle to an in-process coordination server: a tree of versioned nodes,
/// sessions with ephemeral nodes, one-shot watches. Cloning the handle is
/// cheap and every clone is the same server.
///
/// The server is deterministic: versions and session ids come from
/// counters, timers run on tokio time (so `tokio::time::pause()` drives
/// session expiry), and nothing depends on the wall clock or randomness.
///
/// Semantics are ZooKeeper's (parents must exist and not be ephemeral, only
/// empty nodes can be deleted, one-shot watches, data versions that start
/// at 0 for every new node, so a node deleted and created again may repeat
/// a version; its incarnation, like ZooKeeper's `czxid`, never repeats).
/// When the server ends a connected client's session, the client renews at
/// once: it reports `Expired(s)` and then `Connected(t)` with a new session
/// before the call that ended the session returns.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> tenure_core::Result<()> {
/// use std::time::Duration;
/// use tenure_core::{CoordinationStore, CreateMode, Path};
/// use tenure_memory::MemoryServer;
///
/// let server = MemoryServer::new();
/// let store = server.connect(Duration::from_secs(2)).await?;
/// let v = store.create(&Path::new("/a")?, b"x", CreateMode::Persistent).await?;
/// assert_eq!(store.get(&Path::new("/a")?).await?.map(|n| n.version), Some(v));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryServer {
    shared: Arc<Mutex<State>>,
}

impl Default for MemoryServer {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryServer {
    /// A server with the default [`MemoryConfig`].
    pub fn new() -> Self {
        Self::with_config(MemoryConfig::default())
    }

    /// A server with the given limits.
    pub fn with_config(config: MemoryConfig) -> Self {
        let state = State {
            config,
            tree: Tree::new(),
            watches: WatchTable::default(),
            sessions: BTreeMap::new(),
            clients: HashMap::new(),
            next_session: 0,
            next_client: 0,
            next_epoch: 0,
            counts: OpCounts::default(),
            pending: Vec::new(),
        };
        MemoryServer {
            shared: Arc::new(Mutex::new(state)),
        }
    }

    /// The server's limits.
    pub fn config(&self) -> MemoryConfig {
        self.lock().config.clone()
    }

    /// The requests every client sent to this server so far.
    pub fn op_counts(&self) -> OpCounts {
        self.lock().counts
    }

    /// How many nodes the tree holds, the root included.
    pub fn node_count(&self) -> usize {
        self.lock().tree.len()
    }

    /// How many watches are armed on the server and not fired yet, for
    /// every client.
    pub fn watch_count(&self) -> usize {
        self.lock().watches.len()
    }

    /// How many sessions are alive on the server.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a consistent state: every
        // mutation is either a single step or undone before returning.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` under the lock, then delivers the watches it fired.
    pub(crate) fn apply<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (out, deliveries) = {
            let mut st = self.lock();
            let out = f(&mut st);
            (out, st.flush())
        };
        for delivery in deliveries {
            delivery.run();
        }
        out
    }

    /// Runs one request of `client`: refused if the client is closed or cut
    /// off (a silently cut-off client's store waits before asking), counted otherwise, then handled by `f` with the live session.
    pub(crate) fn request<T>(
        &self,
        client: ClientId,
        kind: OpKind,
        f: impl FnOnce(&mut State, SessionId) -> Result<T>,
    ) -> Result<T> {
        self.apply(|st| {
            let session = st.admit(client, kind)?;
            f(st, session)
        })
    }
}

impl fmt::Debug for MemoryServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("MemoryServer")
            .field("nodes", &st.tree.len())
            .field("sessions", &st.sessions.len())
            .field("clients", &st.clients.len())
            .field("watches", &st.watches.len())
            .field("counts", &st.counts)
            .finish()
    }
}

impl fmt::Display for MemoryServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        write!(
            f,
            "in-memory server ({} nodes, {} sessions)",
            st.tree.len(),
            st.sessions.len()
        )
    }
}

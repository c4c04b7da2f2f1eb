//! The values that cross the store contract: versions, sessions, nodes and
//! the operations of an atomic multi.

use std::fmt;

use super::path::Path;

/// The version of a node's data, as the backend counts it.
///
/// Versions are opaque: compare them only for equality. Every successful
/// write of a node gives it a version different from every earlier version
/// of that node while the node exists (ZooKeeper's data version, etcd's
/// `mod_revision`). A node deleted and created again may get a version it
/// had before (ZooKeeper starts every new node at 0): whoever compares
/// versions across a delete compares [`Incarnation`]s too.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub u64);

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Which creation of a node at its path this is: the same for as long as the
/// node exists, different from that of every node created at the same path
/// before it (ZooKeeper's `czxid`, etcd's `create_revision`).
///
/// Together with the [`Version`], it names one state of a node's data
/// exactly, even across a delete and a re-create: `(incarnation, version)`
/// never repeats at one path. Opaque: compare for equality only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Incarnation(pub u64);

impl fmt::Debug for Incarnation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

impl fmt::Display for Incarnation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The identity of one session with the server (ZooKeeper session id, etcd
/// lease id). Ephemeral nodes belong to exactly one session.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session:{:#x}", self.0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// The state of a store's session with its server.
///
/// A store goes `Connecting → Connected(s)`; a lost connection makes it
/// `Suspended(s)` (the session may still be alive: the server keeps it for
/// the session timeout); it returns to `Connected(s)` if the connection comes
/// back in time, or becomes `Expired(s)` when the server has ended the
/// session and deleted its ephemeral nodes. After `Expired(s)` the store opens
/// a new session and reports `Connected(t)` with `t != s`. `Closed` is
/// terminal.
///
/// Observers of the state stream may miss intermediate states: a change of
/// session id means the previous session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// No session yet.
    Connecting,
    /// The session is established and the connection is up.
    Connected(SessionId),
    /// The connection is lost; the session may still be alive on the server.
    Suspended(SessionId),
    /// The session has ended on the server; its ephemeral nodes are gone.
    Expired(SessionId),
    /// The store was closed; no further operation will succeed.
    Closed,
}

impl SessionState {
    /// The session this state is about, if any.
    pub fn session(&self) -> Option<SessionId> {
        match self {
            SessionState::Connected(s) | SessionState::Suspended(s) | SessionState::Expired(s) => {
                Some(*s)
            }
            SessionState::Connecting | SessionState::Closed => None,
        }
    }

    /// Whether the connection is up.
    pub fn is_connected(&self) -> bool {
        matches!(self, SessionState::Connected(_))
    }
}

/// How a node is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateMode {
    /// The node lives until it is deleted.
    Persistent,
    /// The node belongs to the given session and is deleted when the session
    /// ends. Creating it fails with [`Error::SessionExpired`] when the
    /// session is not the store's live session, so no ephemeral node is ever
    /// created under a session the caller did not expect.
    ///
    /// [`Error::SessionExpired`]: crate::Error::SessionExpired
    Ephemeral(SessionId),
}

/// A node read from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node's data.
    pub data: Vec<u8>,
    /// The version of that data, for compare-and-set.
    pub version: Version,
    /// Which creation of the node at this path it is.
    pub incarnation: Incarnation,
    /// The owning session, for an ephemeral node.
    pub ephemeral_owner: Option<SessionId>,
}

/// One operation of an atomic [`multi`](super::CoordinationStore::multi).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Succeeds only if the node exists and, when given, has this version.
    Check {
        /// The node to check.
        path: Path,
        /// The version it must have, or `None` for any.
        version: Option<Version>,
    },
    /// Creates a node.
    Create {
        /// The node to create; its parent must exist.
        path: Path,
        /// Its data.
        data: Vec<u8>,
        /// Persistent or ephemeral.
        mode: CreateMode,
    },
    /// Sets a node's data.
    Set {
        /// The node to write.
        path: Path,
        /// Its new data.
        data: Vec<u8>,
        /// The version it must have, or `None` to write unconditionally.
        version: Option<Version>,
    },
    /// Deletes a node without children.
    Delete {
        /// The node to delete.
        path: Path,
        /// The version it must have, or `None` to delete unconditionally.
        version: Option<Version>,
    },
}

impl Op {
    /// The path the operation is about.
    pub fn path(&self) -> &Path {
        match self {
            Op::Check { path, .. }
            | Op::Create { path, .. }
            | Op::Set { path, .. }
            | Op::Delete { path, .. } => path,
        }
    }
}

/// The result of one operation of a successful multi.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// The check passed.
    Checked,
    /// The node was created with this version.
    Created(Version),
    /// The node was written and now has this version.
    Set(Version),
    /// The node was deleted.
    Deleted,
}

/// What a store is and what it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreInfo {
    /// The backend's name: `memory`, `zookeeper`, `etcd`.
    pub backend: &'static str,
    /// The largest node payload the backend accepts, in bytes.
    pub max_payload: usize,
    /// The session timeout the server granted (ZooKeeper negotiated
    /// timeout, etcd lease TTL).
    pub session_timeout: std::time::Duration,
    /// How long the store may go without renewing its session while the
    /// connection is healthy (etcd: the keep-alive period; ZooKeeper: the
    /// period of the store's own renewal). While healthy, the
    /// [session deadline](super::CoordinationStore::session_deadline)
    /// stays at least `session_timeout − renewal_period − answer latency`
    /// ahead of now. Zero when the deadline moves with every answered
    /// request, so that the caller's own requests renew it.
    pub renewal_period: std::time::Duration,
}

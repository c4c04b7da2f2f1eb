//! The coordination store contract: what the runtime needs from a backend.
//!
//! A backend implements [`CoordinationStore`]; the convenience methods of
//! [`StoreExt`] come for free. [`Observed`] layers a [`StoreObserver`]
//! over any store (metrics, request logs). The conformance suite in `tenure-tests` is the
//! executable form of this contract: every backend runs it unchanged.

mod ext;
mod layer;
pub(crate) mod path;
mod types;
mod validate;
mod watch;

use std::fmt::{Debug, Display};
use std::sync::Arc;

use async_trait::async_trait;

pub use ext::StoreExt;
pub use layer::{Completed, Observed, Operation, Request, StoreObserver};
pub use path::{MAX_NAME_LEN, MAX_PATH_LEN, Name, Path};
pub use types::{
    CreateMode, Incarnation, Node, Op, OpResult, SessionId, SessionState, StoreInfo, Version,
};
pub use watch::{Watch, WatchEvent, WatchSender};

use crate::error::Result;

/// A shared, type-erased store: what the runtime holds.
pub type DynStore = Arc<dyn CoordinationStore>;

/// A client of a hierarchical coordination service (ZooKeeper, etcd, the
/// in-memory server): one session at a time, versioned nodes, ephemeral
/// nodes tied to the session, one-shot watches armed with a read, atomic
/// multi-operations.
///
/// Every method that takes data checks it against
/// [`StoreInfo::max_payload`] before sending and refuses it with
/// [`Error::PayloadTooLarge`](crate::Error::PayloadTooLarge).
///
/// # Cancel safety
/// Dropping a pending call abandons the wait, not the request: a write may
/// still have been applied. Re-read before deciding again.
#[async_trait]
pub trait CoordinationStore: Debug + Display + Send + Sync + 'static {
    /// What this store is and what it accepts.
    fn info(&self) -> StoreInfo;

    /// The current session state.
    fn session_state(&self) -> SessionState {
        *self.session_events().borrow()
    }

    /// A stream of session states; the receiver sees the latest state and
    /// every later change (intermediate states may be coalesced).
    fn session_events(&self) -> tokio::sync::watch::Receiver<SessionState>;

    /// The earliest instant at which the server may end the current session,
    /// as far as this client knows: the send time of the last request the
    /// server answered that renewed the session (ZooKeeper: any request or
    /// ping; etcd: a lease keep-alive) plus the session timeout or lease TTL.
    /// `None` when there is no live session, or when the backend cannot tell
    /// (the runtime then tracks the answers to its own requests).
    ///
    /// The runtime stops task handlers before this instant, whatever the
    /// client library says about its connection.
    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        None
    }

    /// Asks the store to renew its session at least every `at_most`, so
    /// that the [session deadline](CoordinationStore::session_deadline)
    /// stays far enough ahead of now for a caller that must act before it
    /// (a worker stops its handlers a *stop lead* before the deadline; if
    /// the deadline kept less than that ahead of now, it would stop them on
    /// every renewal). A store renews no faster than its own floor; one
    /// whose deadline moves with every answered request ignores the
    /// request. Several requests: the shortest wins.
    ///
    /// Returns the renewal period now in effect, also reported by
    /// [`StoreInfo::renewal_period`].
    fn fit_renewal(&self, at_most: std::time::Duration) -> std::time::Duration;

    /// Gives the current session up and opens a new one: the current
    /// session ends as with [`close`](CoordinationStore::close) (its
    /// ephemeral nodes are deleted, or, if the server cannot be reached,
    /// end when it expires; pending watches fire [`WatchEvent::Lost`]),
    /// the state becomes [`SessionState::Expired`] and then, once the
    /// server grants one, [`SessionState::Connected`] under a new session.
    /// The store stays usable throughout.
    ///
    /// For a caller that holds ephemeral nodes it can no longer act on (a
    /// worker that cannot prove its session alive in time): giving the
    /// session up lets others take over at once instead of never.
    ///
    /// # Errors
    /// [`Closed`](crate::Error::Closed) if the store was closed.
    async fn restart_session(&self) -> Result<()>;

    /// Creates a node. Its parent must exist and must not be ephemeral.
    ///
    /// # Errors
    /// [`AlreadyExists`](crate::Error::AlreadyExists),
    /// [`NoParent`](crate::Error::NoParent),
    /// [`EphemeralParent`](crate::Error::EphemeralParent),
    /// [`SessionExpired`](crate::Error::SessionExpired) for an ephemeral
    /// node of a session that is not the live one,
    /// [`PayloadTooLarge`](crate::Error::PayloadTooLarge).
    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version>;

    /// Reads a node, or `None` if it does not exist.
    async fn get(&self, path: &Path) -> Result<Option<Node>>;

    /// Reads several nodes in one request where the backend can (ZooKeeper
    /// `multiRead`, one etcd transaction of ranges, one step of the memory
    /// server): one answer per path, in the order of `paths`, `None` for a
    /// node that does not exist. The nodes of one request are read at one
    /// instant of the server; a backend may split a long list into several
    /// requests (etcd: 128 reads per transaction), so a caller that must
    /// know the nodes did not change since checks their versions in its
    /// next write, as a claim does.
    ///
    /// The default reads each path with [`get`](CoordinationStore::get),
    /// all at once: one request per path, not read at one instant.
    ///
    /// # Errors
    /// As [`get`](CoordinationStore::get); nothing for a missing node.
    async fn get_many(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        futures::future::try_join_all(paths.iter().map(|p| self.get(p))).await
    }

    /// Reads a node and arms a watch that fires at its next creation,
    /// change or deletion, with no gap between the read and the watch.
    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)>;

    /// Reads several nodes and arms a watch on each, as
    /// [`get_and_watch`](CoordinationStore::get_and_watch) does for one:
    /// one answer per path, in the order of `paths`. Where the backend can
    /// it takes fewer requests (etcd: one transaction of reads per 128
    /// paths, each watch from that transaction's revision on the store's
    /// watch stream); the default calls `get_and_watch` for each path, all
    /// at once, so a caller bounds how many paths it passes.
    ///
    /// # Errors
    /// As [`get_and_watch`](CoordinationStore::get_and_watch).
    async fn get_many_and_watch(&self, paths: &[Path]) -> Result<Vec<(Option<Node>, Watch)>> {
        futures::future::try_join_all(paths.iter().map(|p| self.get_and_watch(p))).await
    }

    /// Writes a node's data; with `expected`, only if the node still has that
    /// version (compare-and-set). Returns the new version.
    ///
    /// # Errors
    /// [`NotFound`](crate::Error::NotFound),
    /// [`VersionConflict`](crate::Error::VersionConflict).
    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version>;

    /// Deletes a node without children; with `expected`, only if the node
    /// still has that version.
    ///
    /// # Errors
    /// [`NotFound`](crate::Error::NotFound),
    /// [`VersionConflict`](crate::Error::VersionConflict),
    /// [`NotEmpty`](crate::Error::NotEmpty).
    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()>;

    /// The names of a node's children, sorted.
    ///
    /// # Errors
    /// [`NotFound`](crate::Error::NotFound) if the node does not exist.
    async fn children(&self, path: &Path) -> Result<Vec<Name>>;

    /// Lists a node's children (sorted) and arms a watch that fires when a
    /// child is created or deleted (or the node itself is deleted), with no
    /// gap between the read and the watch.
    ///
    /// # Errors
    /// [`NotFound`](crate::Error::NotFound) if the node does not exist.
    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)>;

    /// Applies all operations atomically: either every one succeeds, or none
    /// is applied and the error of the first failing operation is returned
    /// (the error names its path).
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>>;

    /// Ends the session: its ephemeral nodes are deleted at once, pending
    /// watches fire [`WatchEvent::Lost`], and the state becomes
    /// [`SessionState::Closed`]. Closing twice is harmless.
    async fn close(&self) -> Result<()>;
}

#[async_trait]
impl<T: CoordinationStore + ?Sized> CoordinationStore for Arc<T> {
    fn info(&self) -> StoreInfo {
        (**self).info()
    }
    fn session_state(&self) -> SessionState {
        (**self).session_state()
    }
    fn session_events(&self) -> tokio::sync::watch::Receiver<SessionState> {
        (**self).session_events()
    }
    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        (**self).session_deadline()
    }
    fn fit_renewal(&self, at_most: std::time::Duration) -> std::time::Duration {
        (**self).fit_renewal(at_most)
    }
    async fn restart_session(&self) -> Result<()> {
        (**self).restart_session().await
    }
    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        (**self).create(path, data, mode).await
    }
    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        (**self).get(path).await
    }
    async fn get_many(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        (**self).get_many(paths).await
    }
    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        (**self).get_and_watch(path).await
    }
    async fn get_many_and_watch(&self, paths: &[Path]) -> Result<Vec<(Option<Node>, Watch)>> {
        (**self).get_many_and_watch(paths).await
    }
    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        (**self).set(path, data, expected).await
    }
    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        (**self).delete(path, expected).await
    }
    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        (**self).children(path).await
    }
    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        (**self).children_and_watch(path).await
    }
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        (**self).multi(ops).await
    }
    async fn close(&self) -> Result<()> {
        (**self).close().await
    }
}

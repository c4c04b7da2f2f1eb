//! An observing layer over any [`CoordinationStore`]: one wrapper that
//! forwards every method to the store beneath and tells a
//! [`StoreObserver`] about each request, before it is sent and once it
//! is answered (or failed), with the operation, the path, the session and
//! the latency. Metrics, request logs and request counts are observers;
//! none of them forwards the store's methods by hand.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use tenure_core::store::{Completed, Observed, StoreObserver};
//! use tenure_core::DynStore;
//!
//! /// Counts the failed requests.
//! #[derive(Default)]
//! struct Failures(AtomicU64);
//!
//! impl StoreObserver for Failures {
//!     fn after(&self, request: &Completed<'_>) {
//!         if request.error.is_some() {
//!             self.0.fetch_add(1, Ordering::Relaxed);
//!         }
//!     }
//! }
//!
//! fn layered(store: DynStore) -> DynStore {
//!     Arc::new(Observed::new(store, Failures::default()))
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{
    CoordinationStore, CreateMode, Name, Node, Op, OpResult, Path, SessionId, SessionState,
    StoreInfo, Version, Watch,
};
use crate::error::{Error, Result};

/// A request a store sends to its server: one per async method of
/// [`CoordinationStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`CoordinationStore::restart_session`].
    RestartSession,
    /// [`CoordinationStore::create`].
    Create,
    /// [`CoordinationStore::get`].
    Get,
    /// [`CoordinationStore::get_many`].
    GetMany,
    /// [`CoordinationStore::get_and_watch`].
    GetAndWatch,
    /// [`CoordinationStore::get_many_and_watch`].
    GetManyAndWatch,
    /// [`CoordinationStore::set`].
    Set,
    /// [`CoordinationStore::delete`].
    Delete,
    /// [`CoordinationStore::children`].
    Children,
    /// [`CoordinationStore::children_and_watch`].
    ChildrenAndWatch,
    /// [`CoordinationStore::multi`].
    Multi,
    /// [`CoordinationStore::close`].
    Close,
}

impl Operation {
    /// The method's name, in snake case (`get_and_watch`): the `operation`
    /// label of the store metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::RestartSession => "restart_session",
            Operation::Create => "create",
            Operation::Get => "get",
            Operation::GetMany => "get_many",
            Operation::GetAndWatch => "get_and_watch",
            Operation::GetManyAndWatch => "get_many_and_watch",
            Operation::Set => "set",
            Operation::Delete => "delete",
            Operation::Children => "children",
            Operation::ChildrenAndWatch => "children_and_watch",
            Operation::Multi => "multi",
            Operation::Close => "close",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request about to be sent.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Request<'a> {
    /// Which method.
    pub operation: Operation,
    /// The path it touches; for a multi, the path of its first operation
    /// that is not a check, else of its first; for a read of several
    /// nodes, the first path (`None` for an empty multi or read, a session
    /// restart and a close).
    pub path: Option<&'a Path>,
    /// The store's session when the request was sent.
    pub session: Option<SessionId>,
    /// When it was sent.
    pub sent: Instant,
    /// How many nodes it reads: the paths of `get_many` and
    /// `get_many_and_watch`, 1 for every other method. A backend may
    /// send such a call as several requests (one per 128 paths on etcd;
    /// `get_many_and_watch` is one per path where the backend has no
    /// batched form).
    pub nodes: usize,
}

/// A request whose call returned.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Completed<'a> {
    /// The request.
    pub request: Request<'a>,
    /// When the call returned.
    pub returned: Instant,
    /// Its error, if it failed.
    pub error: Option<&'a Error>,
}

impl Completed<'_> {
    /// How long the call took.
    pub fn latency(&self) -> Duration {
        self.returned.saturating_duration_since(self.request.sent)
    }

    /// Whether the server answered: anything but a request that never got
    /// through, whose answer never came, or that met a closed store.
    pub fn answered(&self) -> bool {
        !matches!(
            self.error,
            Some(Error::ConnectionLost { .. } | Error::Timeout { .. } | Error::Closed)
        )
    }
}

/// Told about every request of an [`Observed`] store. Both methods do
/// nothing by default; they run on the caller's task, so they must be
/// quick and must not block.
pub trait StoreObserver: Send + Sync + 'static {
    /// A request is about to be sent.
    fn before(&self, request: &Request<'_>) {
        let _ = request;
    }

    /// A request's call returned, with or without an error. A call that
    /// is dropped before it returns (see the cancel safety of
    /// [`CoordinationStore`]) is not told.
    fn after(&self, completed: &Completed<'_>) {
        let _ = completed;
    }
}

impl<O: StoreObserver + ?Sized> StoreObserver for std::sync::Arc<O> {
    fn before(&self, request: &Request<'_>) {
        (**self).before(request);
    }
    fn after(&self, completed: &Completed<'_>) {
        (**self).after(completed);
    }
}

/// A store whose requests an observer sees; otherwise the store beneath,
/// unchanged (its `Display` too).
pub struct Observed<S, O> {
    store: S,
    observer: O,
}

impl<S: CoordinationStore, O: StoreObserver> Observed<S, O> {
    /// `store`, with every request told to `observer`.
    pub fn new(store: S, observer: O) -> Self {
        Observed { store, observer }
    }

    /// The store beneath.
    pub fn inner(&self) -> &S {
        &self.store
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.observer
    }

    async fn tell<T>(
        &self,
        operation: Operation,
        path: Option<&Path>,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        self.tell_many(operation, path, 1, call).await
    }

    /// As `tell`, for a call that reads `nodes` nodes.
    async fn tell_many<T>(
        &self,
        operation: Operation,
        path: Option<&Path>,
        nodes: usize,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let request = Request {
            operation,
            path,
            session: self.store.session_state().session(),
            sent: Instant::now(),
            nodes,
        };
        self.observer.before(&request);
        let result = call.await;
        self.observer.after(&Completed {
            request,
            returned: Instant::now(),
            error: result.as_ref().err(),
        });
        result
    }
}

/// The path a multi is told under: its first operation that is not a
/// check, else its first.
fn multi_path(ops: &[Op]) -> Option<&Path> {
    ops.iter()
        .find(|op| !matches!(op, Op::Check { .. }))
        .or(ops.first())
        .map(Op::path)
}

#[async_trait]
impl<S: CoordinationStore, O: StoreObserver> CoordinationStore for Observed<S, O> {
    fn info(&self) -> StoreInfo {
        self.store.info()
    }
    fn session_state(&self) -> SessionState {
        self.store.session_state()
    }
    fn session_events(&self) -> tokio::sync::watch::Receiver<SessionState> {
        self.store.session_events()
    }
    fn session_deadline(&self) -> Option<Instant> {
        self.store.session_deadline()
    }
    fn fit_renewal(&self, at_most: Duration) -> Duration {
        self.store.fit_renewal(at_most)
    }
    async fn restart_session(&self) -> Result<()> {
        let call = self.store.restart_session();
        self.tell(Operation::RestartSession, None, call).await
    }
    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        let call = self.store.create(path, data, mode);
        self.tell(Operation::Create, Some(path), call).await
    }
    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        let call = self.store.get(path);
        self.tell(Operation::Get, Some(path), call).await
    }
    async fn get_many(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        let call = self.store.get_many(paths);
        self.tell_many(Operation::GetMany, paths.first(), paths.len(), call)
            .await
    }
    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        let call = self.store.get_and_watch(path);
        self.tell(Operation::GetAndWatch, Some(path), call).await
    }
    async fn get_many_and_watch(&self, paths: &[Path]) -> Result<Vec<(Option<Node>, Watch)>> {
        let call = self.store.get_many_and_watch(paths);
        self.tell_many(Operation::GetManyAndWatch, paths.first(), paths.len(), call)
            .await
    }
    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        let call = self.store.set(path, data, expected);
        self.tell(Operation::Set, Some(path), call).await
    }
    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        let call = self.store.delete(path, expected);
        self.tell(Operation::Delete, Some(path), call).await
    }
    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        let call = self.store.children(path);
        self.tell(Operation::Children, Some(path), call).await
    }
    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        let call = self.store.children_and_watch(path);
        self.tell(Operation::ChildrenAndWatch, Some(path), call)
            .await
    }
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        let call = self.store.multi(ops);
        self.tell(Operation::Multi, multi_path(ops), call).await
    }
    async fn close(&self) -> Result<()> {
        let call = self.store.close();
        self.tell(Operation::Close, None, call).await
    }
}

impl<S: fmt::Debug, O> fmt::Debug for Observed<S, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observed")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl<S: fmt::Display, O> fmt::Display for Observed<S, O> {
    /// As the store beneath: observing changes nothing it does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.store, f)
    }
}

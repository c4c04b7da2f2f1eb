//! A store that tells an observer about every request the server answered:
//! its kind, the path it touched, the session it was sent under, when it
//! was sent and when its answer came. The answer log of the runtime tests
//! and the request counts of the scale benchmark are two such observers.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use tenure_core::{
    CoordinationStore, CreateMode, DynStore, Error, Name, Node, Op, OpResult, Path, Result,
    SessionId, SessionState, StoreInfo, Version, Watch,
};
use tokio::time::Instant;

/// What kind of request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `get` or `get_and_watch`: one node.
    Get,
    /// `children` or `children_and_watch`: one listing.
    List,
    /// `create`, `set` or `delete`.
    Write,
    /// One `multi`, whatever it holds.
    Multi,
}

/// A request the server answered.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// What kind of request.
    pub kind: Kind,
    /// The path it touched; for a multi, the path of its first operation
    /// that is not a check (`None` for an empty multi).
    pub path: Option<&'a Path>,
    /// The client's session when it sent the request.
    pub session: Option<SessionId>,
    /// When it was sent.
    pub sent: Instant,
    /// When its answer came.
    pub answered: Instant,
}

/// Told about every request a wrapped store's server answered.
pub trait Observer: Send + Sync + 'static {
    /// One answered request.
    fn answered(&self, request: &Request<'_>);
}

/// `store`, with every answered request told to `observer`.
pub fn observe(store: DynStore, observer: Arc<dyn Observer>) -> DynStore {
    Arc::new(Observed { store, observer })
}

/// Whether the server answered: anything but a request that never got
/// through, whose answer never came, or that met a closed store.
fn answered<T>(result: &Result<T>) -> bool {
    !matches!(
        result,
        Err(Error::ConnectionLost { .. } | Error::Timeout { .. } | Error::Closed)
    )
}

struct Observed {
    store: DynStore,
    observer: Arc<dyn Observer>,
}

impl Observed {
    async fn tell<T>(
        &self,
        kind: Kind,
        path: Option<&Path>,
        request: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let session = self.store.session_state().session();
        let sent = Instant::now();
        let result = request.await;
        if answered(&result) {
            self.observer.answered(&Request {
                kind,
                path,
                session,
                sent,
                answered: Instant::now(),
            });
        }
        result
    }
}

#[async_trait]
impl CoordinationStore for Observed {
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
    fn fit_renewal(&self, at_most: std::time::Duration) -> std::time::Duration {
        self.store.fit_renewal(at_most)
    }
    async fn restart_session(&self) -> Result<()> {
        self.store.restart_session().await
    }
    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        let request = self.store.create(path, data, mode);
        self.tell(Kind::Write, Some(path), request).await
    }
    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        self.tell(Kind::Get, Some(path), self.store.get(path)).await
    }
    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        let request = self.store.get_and_watch(path);
        self.tell(Kind::Get, Some(path), request).await
    }
    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        let request = self.store.set(path, data, expected);
        self.tell(Kind::Write, Some(path), request).await
    }
    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        let request = self.store.delete(path, expected);
        self.tell(Kind::Write, Some(path), request).await
    }
    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        let request = self.store.children(path);
        self.tell(Kind::List, Some(path), request).await
    }
    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        let request = self.store.children_and_watch(path);
        self.tell(Kind::List, Some(path), request).await
    }
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        let first = ops
            .iter()
            .find(|op| !matches!(op, Op::Check { .. }))
            .or(ops.first());
        let request = self.store.multi(ops);
        self.tell(Kind::Multi, first.map(Op::path), request).await
    }
    async fn close(&self) -> Result<()> {
        self.store.close().await
    }
}

impl fmt::Debug for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observed")
            .field("store", &self.store)
            .finish()
    }
}

impl fmt::Display for Observed {
    /// As the wrapped store: observing changes nothing it does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.store, f)
    }
}

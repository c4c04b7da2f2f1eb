//! A store that writes down, for each of its requests the server answered,
//! when it was sent and when the answer came: what the earliest end of a
//! session is counted from (ARCHITECTURE.md, "Why two runners are
//! impossible", 3), seen from outside the worker.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tenure_core::{
    CoordinationStore, CreateMode, DynStore, Error, Name, Node, Op, OpResult, Path, Result,
    SessionId, SessionState, StoreInfo, Version, Watch,
};
use tokio::time::Instant;

/// A request the server answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The client's session when it sent the request.
    pub session: Option<SessionId>,
    /// When it was sent.
    pub sent: Instant,
    /// When its answer came.
    pub answered: Instant,
}

/// The answers of the stores it wrapped, in the order they came; clones
/// share it.
#[derive(Clone, Debug, Default)]
pub struct AnswerLog {
    answers: Arc<Mutex<Vec<Answer>>>,
}

impl AnswerLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// `store`, with every answer written down here.
    pub fn wrap(&self, store: DynStore) -> DynStore {
        Arc::new(Logged {
            store,
            log: self.clone(),
        })
    }

    /// The answers so far.
    pub fn answers(&self) -> Vec<Answer> {
        self.answers.lock().unwrap().clone()
    }
}

/// Whether the server answered: anything but a request that never got
/// through or whose answer never came.
fn answered<T>(result: &Result<T>) -> bool {
    !matches!(
        result,
        Err(Error::ConnectionLost { .. } | Error::Timeout { .. } | Error::Closed)
    )
}

struct Logged {
    store: DynStore,
    log: AnswerLog,
}

impl Logged {
    async fn logged<T>(&self, request: impl Future<Output = Result<T>>) -> Result<T> {
        let session = self.store.session_state().session();
        let sent = Instant::now();
        let result = request.await;
        if answered(&result) {
            self.log.answers.lock().unwrap().push(Answer {
                session,
                sent,
                answered: Instant::now(),
            });
        }
        result
    }
}

#[async_trait]
impl CoordinationStore for Logged {
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
    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        self.logged(self.store.create(path, data, mode)).await
    }
    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        self.logged(self.store.get(path)).await
    }
    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        self.logged(self.store.get_and_watch(path)).await
    }
    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        self.logged(self.store.set(path, data, expected)).await
    }
    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        self.logged(self.store.delete(path, expected)).await
    }
    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        self.logged(self.store.children(path)).await
    }
    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        self.logged(self.store.children_and_watch(path)).await
    }
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        self.logged(self.store.multi(ops)).await
    }
    async fn close(&self) -> Result<()> {
        self.store.close().await
    }
}

impl fmt::Debug for Logged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logged")
            .field("store", &self.store)
            .finish()
    }
}

impl fmt::Display for Logged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (answers logged)", self.store)
    }
}

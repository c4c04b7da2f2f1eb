//! A store wrapper that counts compare-and-set conflicts (a version that
//! moved, a node that appeared first): lost races, which the runtime
//! retries, made visible as `tenure_store_conflicts_total`.

use std::fmt;

use async_trait::async_trait;
use tenure_core::error::Result;
use tenure_core::{
    CoordinationStore, CreateMode, DynStore, Error, Node, Op, OpResult, Path, SessionState,
    StoreInfo, Version, Watch,
};

use crate::observe::metrics::STORE_CONFLICTS;

/// Counts the conflicts of the store it wraps; otherwise transparent.
#[derive(Debug)]
pub struct Metered {
    inner: DynStore,
}

impl Metered {
    /// Wraps `inner`.
    pub fn new(inner: DynStore) -> Self {
        Metered { inner }
    }
}

impl fmt::Display for Metered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

fn count<T>(operation: &'static str, result: Result<T>) -> Result<T> {
    if let Err(Error::VersionConflict { .. } | Error::AlreadyExists { .. }) = &result {
        metrics::counter!(STORE_CONFLICTS, "operation" => operation).increment(1);
    }
    result
}

#[async_trait]
impl CoordinationStore for Metered {
    fn info(&self) -> StoreInfo {
        self.inner.info()
    }
    fn session_state(&self) -> SessionState {
        self.inner.session_state()
    }
    fn session_events(&self) -> tokio::sync::watch::Receiver<SessionState> {
        self.inner.session_events()
    }
    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        self.inner.session_deadline()
    }
    fn fit_renewal(&self, at_most: std::time::Duration) -> std::time::Duration {
        self.inner.fit_renewal(at_most)
    }
    async fn restart_session(&self) -> Result<()> {
        self.inner.restart_session().await
    }
    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        count("create", self.inner.create(path, data, mode).await)
    }
    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        self.inner.get(path).await
    }
    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        self.inner.get_and_watch(path).await
    }
    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        count("set", self.inner.set(path, data, expected).await)
    }
    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        count("delete", self.inner.delete(path, expected).await)
    }
    async fn children(&self, path: &Path) -> Result<Vec<tenure_core::Name>> {
        self.inner.children(path).await
    }
    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<tenure_core::Name>, Watch)> {
        self.inner.children_and_watch(path).await
    }
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        count("multi", self.inner.multi(ops).await)
    }
    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

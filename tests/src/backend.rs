//! What the conformance suite needs from a backend under test: fresh
//! clients (one session each) and the faults it can inject into them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{DynStore, Path, Result};

/// What a backend under test can do, so the suite adapts by capability,
/// never by backend name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// [`ClientControl::suspend`] and [`ClientControl::resume`] work.
    pub suspend: bool,
    /// Time is tokio's (paused time drives session expiry); otherwise the
    /// suite waits in real time.
    pub virtual_time: bool,
    /// The shortest session timeout the server grants.
    pub min_session_timeout: Duration,
}

/// Faults that can be injected into one client.
#[async_trait]
pub trait ClientControl: Send + Sync {
    /// Makes the server end the client's current session now, as if it had
    /// timed out: its ephemeral nodes go, its watches fire.
    async fn expire(&self) -> Result<()>;
    /// Cuts the client's connection without ending the session on the
    /// server (which then expires it after the session timeout unless
    /// resumed in time).
    async fn suspend(&self) -> Result<()>;
    /// Restores a suspended connection.
    async fn resume(&self) -> Result<()>;
}

/// A client under test: the store and its fault controls.
#[derive(Clone)]
pub struct TestClient {
    /// The store, as the runtime would hold it.
    pub store: DynStore,
    /// Its fault controls.
    pub control: Arc<dyn ClientControl>,
}

/// A backend under test: a running server and a way to connect to it.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The backend's name, for messages only.
    fn name(&self) -> &'static str;
    /// What it can do.
    fn capabilities(&self) -> Capabilities;
    /// Connects a new client with its own session; waits until connected.
    async fn connect(&self, session_timeout: Duration) -> Result<TestClient>;
}

/// A path no other test uses: `/<prefix>/<prefix>-<pid>-<n>` where `n`
/// counts up in this process. Tests sharing a server stay apart this way.
pub fn unique_root(prefix: &str) -> Path {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Path::new(&format!("/{prefix}/{prefix}-{}-{n}", std::process::id()))
        .expect("prefix is a valid name")
}

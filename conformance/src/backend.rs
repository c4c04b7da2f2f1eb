//! What the conformance suite needs from a backend under test: fresh
//! clients (one session each), the faults it can inject into them, and
//! what it can do.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{DynStore, Path, Result};

/// What a backend under test can do, so the suite adapts by capability,
/// never by backend name. A clause that needs a capability the backend
/// lacks passes after saying on standard error that it was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// [`ClientControl::expire`] works: the server can be made to end a
    /// session on demand.
    pub expire: bool,
    /// [`ClientControl::suspend`] and [`ClientControl::resume`] work.
    pub suspend: bool,
    /// Time is tokio's (paused time drives session expiry); otherwise the
    /// suite waits in real time.
    pub virtual_time: bool,
    /// The shortest session timeout the server grants.
    pub min_session_timeout: Duration,
    /// What a watch promises about the events it delivers.
    pub watch_delivery: WatchDelivery,
    /// Payloads over [`StoreInfo::max_payload`](tenure_core::StoreInfo::max_payload)
    /// are refused with an error naming the limit (rather than failing in
    /// the transport, or being accepted).
    pub payload_limit_enforced: bool,
}

impl Capabilities {
    /// Everything the suite can test, with the given shortest session
    /// timeout: what the memory, ZooKeeper and etcd backends offer.
    pub fn all(min_session_timeout: Duration) -> Self {
        Capabilities {
            expire: true,
            suspend: true,
            virtual_time: false,
            min_session_timeout,
            watch_delivery: WatchDelivery::Exact,
            payload_limit_enforced: true,
        }
    }
}

/// What a watch promises about the events it delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchDelivery {
    /// A watch fires once, for the first change of what it watches after
    /// the read that set it, and never for anything else (a sibling, a
    /// grandchild, a failed multi-operation).
    Exact,
    /// A watch fires for the first change after the read that set it, but
    /// may also fire early for a change that does not concern it; the
    /// clauses that prove a watch stays quiet are skipped.
    MayFireEarly,
}

/// Says on standard error that a clause was skipped, and why.
pub(crate) fn skipped(backend: &dyn Backend, clause: &str, lacks: &str) {
    eprintln!(
        "{} backend: conformance clause {clause} skipped: the backend {lacks}",
        backend.name()
    );
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

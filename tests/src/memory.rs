//! The memory backend under test: a fresh in-process server per backend
//! value, clients with every fault hook.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::Result;
use tenure_memory::{MemoryServer, MemoryStore};

use crate::backend::{Backend, Capabilities, ClientControl, TestClient};

/// A [`Backend`] over one [`MemoryServer`].
///
/// `virtual_time` is off: the conformance suite runs on a multi-thread
/// tokio runtime, which cannot pause time, so session timeouts run in real
/// time (the suite uses short ones). The unit tests of `tenure-memory`
/// cover the fault hooks under paused time.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    server: MemoryServer,
}

impl MemoryBackend {
    /// A backend over a new server with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A backend over the given server.
    pub fn on(server: MemoryServer) -> Self {
        MemoryBackend { server }
    }

    /// The server, for request counts and direct clients.
    pub fn server(&self) -> &MemoryServer {
        &self.server
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all(self.server.config().min_session_timeout)
    }

    async fn connect(&self, session_timeout: Duration) -> Result<TestClient> {
        let store = self.server.connect(session_timeout).await?;
        Ok(TestClient {
            store: Arc::new(store.clone()),
            control: Arc::new(MemoryControl(store)),
        })
    }
}

/// The fault hooks of one memory client, as [`ClientControl`].
struct MemoryControl(MemoryStore);

#[async_trait]
impl ClientControl for MemoryControl {
    async fn expire(&self) -> Result<()> {
        self.0.expire_session();
        Ok(())
    }

    async fn suspend(&self) -> Result<()> {
        self.0.suspend();
        Ok(())
    }

    async fn resume(&self) -> Result<()> {
        self.0.resume();
        Ok(())
    }
}

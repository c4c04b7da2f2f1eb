//! etcd as a [`Backend`] under test: every client connects through its own
//! [`Proxy`], so suspending one client's connection leaves the others
//! alone; expiry is a lease revoke from a separate admin client.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{Error, Result};
use tenure_etcd::etcd_client;
use tenure_etcd::{EtcdConfig, EtcdStore, TlsConfig};

use super::server::{EtcdServer, MIN_SESSION_TIMEOUT};
use crate::backend::{Backend, Capabilities, TestClient};
use crate::proxy::Proxy;
use crate::upstream::{EndSession, ProxiedControl, Upstream};

/// How long connecting a test client may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The namespace test clients use.
pub const NAMESPACE: &str = "/tenure-test";

/// A [`Backend`] over a running etcd server (or one member of a cluster).
#[derive(Clone, Debug)]
pub struct EtcdBackend {
    upstream: Upstream,
}

impl EtcdBackend {
    /// A backend over the test binary's shared server (started on first
    /// use, off the async runtime's worker threads).
    pub async fn shared() -> EtcdBackend {
        let server = tokio::task::spawn_blocking(EtcdServer::shared)
            .await
            .expect("starting the shared etcd server");
        EtcdBackend::on(server.addr())
    }

    /// A backend over the server at `upstream`.
    pub fn on(upstream: SocketAddr) -> EtcdBackend {
        EtcdBackend {
            upstream: Upstream::plain(upstream),
        }
    }

    /// A backend over `server` (started with [`EtcdServer::start_tls`])
    /// whose clients connect to its TLS client port with `tls`.
    pub fn over_tls(server: &EtcdServer, tls: TlsConfig) -> EtcdBackend {
        EtcdBackend {
            upstream: Upstream::tls(server.addr(), server.secure_addr(), tls),
        }
    }

    /// The server's address.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream.addr()
    }

    /// The default configuration of test clients: this server, the test
    /// namespace, the given session timeout, [`CONNECT_TIMEOUT`], and TLS
    /// for a backend made with [`over_tls`](Self::over_tls).
    pub fn config(&self, session_timeout: Duration) -> EtcdConfig {
        let config = EtcdConfig::new([self.upstream.addr().to_string()])
            .with_namespace(NAMESPACE)
            .with_session_timeout(session_timeout)
            .with_connect_timeout(CONNECT_TIMEOUT);
        match self.upstream.client_tls() {
            Some(tls) => config.with_tls(tls.clone()),
            None => config,
        }
    }

    /// Connects a store with `config` through a new proxy (the config's
    /// endpoints are replaced by the proxy's address); returns both.
    ///
    /// # Errors
    /// As [`EtcdStore::connect`]; a proxy that cannot bind is a
    /// [`Error::Backend`].
    pub async fn connect_with(&self, config: EtcdConfig) -> Result<(EtcdStore, Proxy)> {
        let proxy = self.upstream.proxy("etcd").await?;
        let store = config
            .with_endpoints([proxy.addr().to_string()])
            .connect()
            .await?;
        Ok((store, proxy))
    }

    /// A test client (store and controls) with `config`, through its own
    /// proxy.
    ///
    /// # Errors
    /// As [`EtcdBackend::connect_with`].
    pub async fn client_with(&self, config: EtcdConfig) -> Result<TestClient> {
        let (store, proxy) = self.connect_with(config).await?;
        Ok(EtcdControl::client(store, proxy, self.upstream.addr()))
    }

    /// An etcd client straight to the server (no proxy), for what tests do
    /// behind the stores' backs: revoking leases, compacting, reading raw
    /// keys.
    ///
    /// # Errors
    /// When the client cannot be built.
    pub async fn admin(&self) -> Result<etcd_client::Client> {
        admin_client(self.upstream.addr()).await
    }
}

/// An etcd client straight to `server`.
///
/// # Errors
/// When the client cannot be built.
pub async fn admin_client(server: SocketAddr) -> Result<etcd_client::Client> {
    etcd_client::Client::connect([server.to_string()], None)
        .await
        .map_err(|e| Error::backend("etcd", "connecting the admin client", e))
}

#[async_trait]
impl Backend for EtcdBackend {
    fn name(&self) -> &'static str {
        "etcd"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all(MIN_SESSION_TIMEOUT)
    }

    async fn connect(&self, session_timeout: Duration) -> Result<TestClient> {
        self.client_with(self.config(session_timeout)).await
    }
}

/// The fault controls of one etcd test client.
pub type EtcdControl = ProxiedControl<EtcdStore>;

#[async_trait]
impl EndSession for EtcdStore {
    /// Revokes the client's current lease from an admin client straight to
    /// the server: its keys go at once; the store learns it at its next
    /// keep-alive.
    async fn end_session(&self, _proxy: &Proxy, server: SocketAddr) -> Result<()> {
        let lease = self.lease_id().ok_or(Error::Closed)?;
        let mut admin = admin_client(server).await?;
        admin
            .lease_revoke(lease)
            .await
            .map_err(|e| Error::backend("etcd", format!("revoking lease {lease:#x}"), e))?;
        Ok(())
    }
}

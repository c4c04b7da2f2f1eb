//! ZooKeeper as a [`Backend`] under test: every client connects through its
//! own [`Proxy`], so suspending one client's connection leaves the others
//! alone.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use tenure_core::{Error, Result, SessionState};
use tenure_zookeeper::zookeeper_client as zk;
use tenure_zookeeper::{TlsConfig, ZkConfig, ZkStore};

use super::server::{MIN_SESSION_TIMEOUT, ZkServer};
use crate::backend::{Backend, Capabilities, TestClient};
use crate::proxy::Proxy;
use crate::upstream::{EndSession, ProxiedControl, Upstream};

/// How long connecting a test client may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`ClientControl::expire`] waits for the server to end the
/// session.
const EXPIRE_LIMIT: Duration = Duration::from_secs(5);

/// A [`Backend`] over a running ZooKeeper server (or ensemble).
#[derive(Clone, Debug)]
pub struct ZkBackend {
    upstream: Upstream,
}

impl ZkBackend {
    /// A backend over the test binary's shared server (started on first
    /// use, off the async runtime's worker threads).
    pub async fn shared() -> ZkBackend {
        let server = tokio::task::spawn_blocking(ZkServer::shared)
            .await
            .expect("starting the shared ZooKeeper server");
        ZkBackend::on(server.addr())
    }

    /// A backend over the server at `upstream`.
    pub fn on(upstream: SocketAddr) -> ZkBackend {
        ZkBackend {
            upstream: Upstream::plain(upstream),
        }
    }

    /// A backend over `server` (started with
    /// [`ZkServer::start_tls`]) whose clients connect to its secure client
    /// port with `tls`.
    pub fn over_tls(server: &ZkServer, tls: TlsConfig) -> ZkBackend {
        ZkBackend {
            upstream: Upstream::tls(server.addr(), server.secure_addr(), tls),
        }
    }

    /// The server's address.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream.addr()
    }

    /// Connects a store with `config` through a new proxy (the config's
    /// servers are replaced by the proxy's address); returns both.
    ///
    /// # Errors
    /// As [`ZkStore::connect`]; a proxy that cannot bind is a
    /// [`Error::Backend`].
    pub async fn connect_with(&self, config: ZkConfig) -> Result<(ZkStore, Proxy)> {
        let proxy = self.upstream.proxy("zookeeper").await?;
        let store = config
            .with_servers(proxy.addr().to_string())
            .connect()
            .await?;
        Ok((store, proxy))
    }

    /// A test client (store and controls) with `config`, through its own
    /// proxy.
    ///
    /// # Errors
    /// As [`ZkBackend::connect_with`].
    pub async fn client_with(&self, config: ZkConfig) -> Result<TestClient> {
        let (store, proxy) = self.connect_with(config).await?;
        Ok(ZkControl::client(store, proxy, self.upstream.addr()))
    }

    /// The default configuration of test clients: this server, the given
    /// session timeout, [`CONNECT_TIMEOUT`], and TLS for a backend made
    /// with [`over_tls`](Self::over_tls).
    pub fn config(&self, session_timeout: Duration) -> ZkConfig {
        let config = ZkConfig::new(self.upstream.addr().to_string())
            .with_session_timeout(session_timeout)
            .with_connect_timeout(CONNECT_TIMEOUT);
        match self.upstream.client_tls() {
            Some(tls) => config.with_tls(tls.clone()),
            None => config,
        }
    }
}

#[async_trait]
impl Backend for ZkBackend {
    fn name(&self) -> &'static str {
        "zookeeper"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all(MIN_SESSION_TIMEOUT)
    }

    async fn connect(&self, session_timeout: Duration) -> Result<TestClient> {
        self.client_with(self.config(session_timeout)).await
    }
}

/// The fault controls of one ZooKeeper test client.
pub type ZkControl = ProxiedControl<ZkStore>;

#[async_trait]
impl EndSession for ZkStore {
    /// Ends the session on the server now: a second client reattaches the
    /// session (its id and password) directly at the server and closes it.
    /// The proxy is suspended meanwhile, so the store cannot take the
    /// session back before it is closed.
    async fn end_session(&self, proxy: &Proxy, server: SocketAddr) -> Result<()> {
        let info = self.session_info().ok_or(Error::Closed)?;
        proxy.suspend();
        let ended = end_session(server, info).await;
        proxy.resume();
        ended
    }
}

/// Reattaches `info`'s session at `server` and closes it, waiting until the
/// server confirms.
async fn end_session(server: SocketAddr, info: zk::SessionInfo) -> Result<()> {
    let session = info.id();
    let fail = |what: &str, e: zk::Error| {
        Error::backend("zookeeper", format!("{what} session {session}"), e)
    };
    let server = server.to_string();
    let connect = zk::Client::connector().with_session(info).connect(&server);
    let client = tokio::time::timeout(EXPIRE_LIMIT, connect)
        .await
        .map_err(|_| Error::Timeout {
            operation: format!("reattaching session {session} to expire it"),
            after: EXPIRE_LIMIT,
        })?
        .map_err(|e| fail("reattaching", e))?;
    let mut watcher = client.state_watcher();
    drop(client);
    let closed = async {
        let mut state = watcher.state();
        while !state.is_terminated() {
            state = watcher.changed().await;
        }
        state
    };
    match tokio::time::timeout(EXPIRE_LIMIT, closed).await {
        Ok(zk::SessionState::Closed) => Ok(()),
        Ok(other) => Err(Error::Backend {
            backend: "zookeeper",
            message: format!("closing session {session} ended in {other}"),
            source: None,
        }),
        Err(_) => Err(Error::Timeout {
            operation: format!("closing session {session}"),
            after: EXPIRE_LIMIT,
        }),
    }
}

/// Waits until `client`'s session state satisfies `want`, for at most
/// `limit` (panicking with the last state otherwise); returns how long it
/// took.
pub async fn wait_for_state(
    client: &TestClient,
    limit: Duration,
    want: impl Fn(SessionState) -> bool,
) -> Duration {
    let start = std::time::Instant::now();
    let mut events = client.store.session_events();
    let wait = async {
        while !want(*events.borrow_and_update()) {
            if events.changed().await.is_err() {
                panic!("session stream ended in {:?}", client.store.session_state());
            }
        }
    };
    if tokio::time::timeout(limit, wait).await.is_err() {
        panic!(
            "session state {:?} after {limit:?}",
            client.store.session_state()
        );
    }
    start.elapsed()
}

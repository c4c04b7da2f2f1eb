//! Where the clients of a networked test backend (ZooKeeper, etcd) go:
//! the server's plain address, or its TLS port with the client settings,
//! each client through a [`Proxy`] of its own so that cutting one client
//! leaves the others alone ([`ProxiedControl`]). Fault controls and admin
//! clients always use the plain address.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use tenure_core::{CoordinationStore, Error, Result, TlsConfig};

use crate::backend::{ClientControl, TestClient};
use crate::proxy::Proxy;

/// A test server's addresses, and the TLS settings of its clients.
#[derive(Clone, Debug)]
pub struct Upstream {
    plain: SocketAddr,
    /// The TLS client port clients go to instead, and their TLS settings.
    tls: Option<(SocketAddr, TlsConfig)>,
}

impl Upstream {
    /// Clients go to `plain` without TLS.
    pub fn plain(plain: SocketAddr) -> Upstream {
        Upstream { plain, tls: None }
    }

    /// Clients go to `secure` with `tls`; controls still use `plain`.
    pub fn tls(plain: SocketAddr, secure: SocketAddr, tls: TlsConfig) -> Upstream {
        Upstream {
            plain,
            tls: Some((secure, tls)),
        }
    }

    /// The server's plain address.
    pub fn addr(&self) -> SocketAddr {
        self.plain
    }

    /// The clients' TLS settings, if they use TLS.
    pub fn client_tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref().map(|(_, tls)| tls)
    }

    /// A new proxy to where clients go (the TLS port if any).
    ///
    /// # Errors
    /// [`Error::Backend`] of `backend` when the proxy cannot bind.
    pub async fn proxy(&self, backend: &'static str) -> Result<Proxy> {
        let target = self.tls.as_ref().map_or(self.plain, |(at, _)| *at);
        Proxy::start(target)
            .await
            .map_err(|e| Error::backend(backend, "starting the test proxy", e))
    }
}

/// How a networked store under test has the server end its session now
/// (the fault [`ClientControl::expire`]), given the client's proxy and
/// the server's plain address.
#[async_trait]
pub trait EndSession: CoordinationStore + Clone + fmt::Debug + 'static {
    /// Ends the store's current session on `server`.
    ///
    /// # Errors
    /// [`Error::Closed`] when the store has no session; what the server
    /// answered otherwise.
    async fn end_session(&self, proxy: &Proxy, server: SocketAddr) -> Result<()>;
}

/// The fault controls of one client that reaches its server through a
/// proxy of its own: suspending and resuming cut and restore the proxy,
/// expiring is the store's [`EndSession`].
#[derive(Debug)]
pub struct ProxiedControl<S> {
    store: S,
    proxy: Proxy,
    server: SocketAddr,
}

impl<S: EndSession> ProxiedControl<S> {
    /// A test client of `store`, connected through `proxy` to the server
    /// whose plain address is `server`.
    pub fn client(store: S, proxy: Proxy, server: SocketAddr) -> TestClient {
        TestClient {
            store: Arc::new(store.clone()),
            control: Arc::new(ProxiedControl {
                store,
                proxy,
                server,
            }),
        }
    }

    /// The client's proxy.
    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }
}

#[async_trait]
impl<S: EndSession> ClientControl for ProxiedControl<S> {
    async fn expire(&self) -> Result<()> {
        self.store.end_session(&self.proxy, self.server).await
    }

    async fn suspend(&self) -> Result<()> {
        self.proxy.suspend();
        Ok(())
    }

    async fn resume(&self) -> Result<()> {
        self.proxy.resume();
        Ok(())
    }
}

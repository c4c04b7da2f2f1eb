//! The servers a scale benchmark runs on, and worker connections that can
//! be cut: a memory server in this process, or a real ZooKeeper or etcd
//! server started by the test harness on a free loopback port (killed when
//! dropped, and with this process in any case).

use std::sync::Arc;
use std::time::Duration;

use tenure_core::{DynStore, Result};
use tenure_memory::{MemoryServer, MemoryStore};

use tenure_etcd::EtcdConfig;
use tenure_tests::etcd::{EtcdBackend, EtcdServer};
use tenure_tests::proxy::Proxy;
use tenure_tests::zookeeper::{TICK, ZkBackend, ZkServer};
use tenure_zookeeper::ZkConfig;

/// How long closing a store may take before it is dropped instead.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// A backend to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum BackendKind {
    /// The in-process memory server (no setup).
    Memory,
    /// A standalone ZooKeeper 3.8 server (`tickTime` 200 ms).
    Zookeeper,
    /// A single-member etcd 3.4 server (election timeout 500 ms).
    Etcd,
}

/// A running server of one backend.
#[derive(Debug)]
pub enum Server {
    /// In this process.
    Memory(MemoryServer),
    /// A ZooKeeper process.
    Zookeeper(ZkServer),
    /// An etcd process.
    Etcd(EtcdServer),
}

impl Server {
    /// Starts a server of `kind` and waits until it serves; panics (with
    /// the install command or the server's log) if it cannot.
    pub async fn start(kind: BackendKind) -> Server {
        match kind {
            BackendKind::Memory => Server::Memory(MemoryServer::new()),
            BackendKind::Zookeeper => Server::Zookeeper(
                tokio::task::spawn_blocking(ZkServer::start)
                    .await
                    .expect("starting ZooKeeper"),
            ),
            BackendKind::Etcd => Server::Etcd(
                tokio::task::spawn_blocking(EtcdServer::start)
                    .await
                    .expect("starting etcd"),
            ),
        }
    }

    /// The backend's name, as in the tables.
    pub fn name(&self) -> &'static str {
        match self {
            Server::Memory(_) => "memory",
            Server::Zookeeper(_) => "ZooKeeper",
            Server::Etcd(_) => "etcd",
        }
    }

    /// The server's version and settings, for the report.
    pub fn describe(&self) -> String {
        match self {
            Server::Memory(_) => "memory: tenure-memory, in this process".to_owned(),
            Server::Zookeeper(zk) => {
                let srvr = zk.four_letter("srvr").unwrap_or_default();
                let version = srvr.lines().next().unwrap_or("version unknown").trim();
                format!("ZooKeeper: {version}, standalone, tickTime 200 ms, forceSync=no")
            }
            Server::Etcd(_) => {
                let out = std::process::Command::new("etcd")
                    .arg("--version")
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                let version = out.lines().next().unwrap_or("version unknown").trim();
                format!("etcd: {version}, single member, election timeout 500 ms")
            }
        }
    }

    /// A client for a worker, with its own session and a connection that
    /// [`Connection::cut`] can partition.
    ///
    /// # Errors
    /// When the client cannot connect.
    pub async fn connect(&self, session: Duration) -> Result<Connection> {
        Ok(match self {
            Server::Memory(server) => {
                let store = server.connect(session).await?;
                Connection {
                    store: Arc::new(store.clone()),
                    link: Link::Memory(store),
                    cut: false,
                }
            }
            Server::Zookeeper(zk) => {
                let backend = ZkBackend::on(zk.addr());
                let (store, proxy) = backend.connect_with(backend.config(session)).await?;
                Connection::proxied(Arc::new(store), proxy)
            }
            Server::Etcd(etcd) => {
                let backend = EtcdBackend::on(etcd.addr());
                let (store, proxy) = backend.connect_with(backend.config(session)).await?;
                Connection::proxied(Arc::new(store), proxy)
            }
        })
    }

    /// A client configured as `tenure` configures one (no proxy, the
    /// default namespace), so it shares its clusters with `tenure`
    /// processes given [`Server::cli_args`]. Its connection cannot be cut.
    ///
    /// # Errors
    /// When the client cannot connect.
    pub async fn connect_direct(&self, session: Duration) -> Result<Connection> {
        let store: DynStore = match self {
            Server::Memory(server) => Arc::new(server.connect(session).await?),
            Server::Zookeeper(zk) => Arc::new(
                ZkConfig::new(zk.addr().to_string())
                    .with_session_timeout(session)
                    .connect()
                    .await?,
            ),
            Server::Etcd(etcd) => Arc::new(
                EtcdConfig::new([etcd.addr().to_string()])
                    .with_session_timeout(session)
                    .connect()
                    .await?,
            ),
        };
        Ok(Connection {
            store,
            link: Link::Direct,
            cut: false,
        })
    }

    /// The connection options of a `tenure` process that reaches this
    /// server; `None` for the memory server, which lives in this process.
    pub fn cli_args(&self) -> Option<Vec<String>> {
        match self {
            Server::Memory(_) => None,
            Server::Zookeeper(zk) => Some(vec![
                "--backend".into(),
                "zookeeper".into(),
                "--connect".into(),
                zk.addr().to_string(),
                // The server's tick, so short sessions leave room for a grace.
                "--zk-tick-time".into(),
                format!("{}ms", TICK.as_millis()),
            ]),
            Server::Etcd(etcd) => Some(vec![
                "--backend".into(),
                "etcd".into(),
                "--connect".into(),
                etcd.addr().to_string(),
            ]),
        }
    }
}

/// How a worker's client reaches the server.
#[derive(Debug)]
enum Link {
    /// A memory client (its own fault hooks).
    Memory(MemoryStore),
    /// A loopback proxy in front of the server.
    Proxy(Proxy),
    /// Straight to the server: cannot be cut.
    Direct,
}

/// One client with its own session.
#[derive(Debug)]
pub struct Connection {
    /// The store.
    pub store: DynStore,
    link: Link,
    cut: bool,
}

impl Connection {
    fn proxied(store: DynStore, proxy: Proxy) -> Connection {
        let link = Link::Proxy(proxy);
        Connection {
            store,
            link,
            cut: false,
        }
    }

    /// Partitions the client from the server silently, as a host that
    /// died or fell off the network: nothing passes either way and the
    /// client is not told, so the server ends its session when the session
    /// timeout runs out.
    pub fn cut(&mut self) {
        self.cut = true;
        match &self.link {
            Link::Memory(store) => store.partition(),
            Link::Proxy(proxy) => proxy.suspend(),
            Link::Direct => {}
        }
    }

    /// Closes the session (bounded); a cut client is dropped instead, its
    /// session ends on the server by itself.
    pub async fn close(self) {
        if !self.cut {
            let _ = tokio::time::timeout(CLOSE_LIMIT, self.store.close()).await;
        }
    }
}

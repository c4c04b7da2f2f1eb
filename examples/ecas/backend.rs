//! Where the ECAS demo keeps its cluster: an in-process memory server by
//! default, or a real ZooKeeper or etcd server.

use std::sync::Arc;
use std::time::Duration;

use tenure::{CoordinationStore, DynStore};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Command-line options of the demo.
pub struct Options {
    backend: String,
    connect: Option<String>,
    session: Duration,
}

impl Options {
    /// Parses `--backend memory|zookeeper|etcd`, `--connect HOSTS` and
    /// `--session-ms N`.
    pub fn parse() -> Self {
        let mut options = Options {
            backend: "memory".into(),
            connect: None,
            session: Duration::from_secs(2),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--backend" => options.backend = args.next().unwrap_or_default(),
                "--connect" => options.connect = args.next(),
                "--session-ms" => {
                    let ms = args.next().and_then(|v| v.parse().ok()).unwrap_or(2000);
                    options.session = Duration::from_millis(ms);
                }
                other => {
                    eprintln!(
                        "unknown argument {other:?}; usage: ecas [--backend memory|zookeeper|etcd] [--connect HOSTS] [--session-ms N]"
                    );
                    std::process::exit(2);
                }
            }
        }
        options
    }
}

/// A running backend the demo connects its clients to.
pub enum Backend {
    /// The in-process server.
    Memory(tenure::memory::MemoryServer, Duration),
    /// A ZooKeeper server.
    Zookeeper(String, Duration),
    /// An etcd server.
    Etcd(String, Duration),
}

impl Backend {
    /// Picks the backend the options name.
    pub async fn start(options: &Options) -> Result<Self, Error> {
        let connect = || {
            options
                .connect
                .clone()
                .ok_or_else(|| format!("--backend {} needs --connect HOST:PORT", options.backend))
        };
        Ok(match options.backend.as_str() {
            "memory" => Backend::Memory(tenure::memory::MemoryServer::new(), options.session),
            "zookeeper" => Backend::Zookeeper(connect()?, options.session),
            "etcd" => Backend::Etcd(connect()?, options.session),
            other => {
                return Err(format!("unknown backend {other:?}: memory, zookeeper or etcd").into());
            }
        })
    }

    /// A new client with its own session.
    pub async fn connect(&self) -> Result<Client, Error> {
        Ok(match self {
            Backend::Memory(server, session) => {
                let memory = server.connect(*session).await?;
                Client {
                    store: Arc::new(memory.clone()),
                    memory: Some(memory),
                }
            }
            Backend::Zookeeper(hosts, session) => Client {
                store: zookeeper(hosts, *session).await?,
                memory: None,
            },
            Backend::Etcd(endpoints, session) => Client {
                store: etcd(endpoints, *session).await?,
                memory: None,
            },
        })
    }
}

/// One client of the backend.
#[derive(Clone)]
pub struct Client {
    /// The store, as workers and the admin hold it.
    pub store: DynStore,
    memory: Option<tenure::memory::MemoryStore>,
}

impl Client {
    /// The host of this client dies: the server stops hearing from it. In
    /// memory the connection is cut and the server ends the session when
    /// its timeout runs out, as it would for a real crash; with a real
    /// server the demo closes the session (a real crash would take the
    /// session timeout longer).
    pub async fn kill_host(&self) -> Result<(), Error> {
        match &self.memory {
            Some(memory) => memory.suspend(),
            None => self.store.close().await?,
        }
        Ok(())
    }
}

async fn zookeeper(_hosts: &str, _session: Duration) -> Result<DynStore, Error> {
    Err("the ZooKeeper backend is not wired into the demo yet".into())
}

async fn etcd(_endpoints: &str, _session: Duration) -> Result<DynStore, Error> {
    Err("the etcd backend is not wired into the demo yet".into())
}

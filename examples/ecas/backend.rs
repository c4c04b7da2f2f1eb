//! Where the ECAS demo keeps its cluster: an in-process memory server by
//! default, or a real ZooKeeper or etcd server.
//!
//! With a real server every client of the demo reaches it through its own
//! loopback [`Link`], so that "the host of ECAS_1 dies" is a real crash as
//! the server sees it: the worker stops without handing anything off, its
//! connections are closed and new ones refused, and the server ends the
//! session when the session timeout runs out, which deletes the worker's
//! ephemeral records and lets the survivor take over.

use std::sync::Arc;
use std::time::Duration;

use tenure::DynStore;

use crate::proxy::Link;

/// What can go wrong in the demo.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long connecting to a real server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const USAGE: &str = "usage: ecas [--backend memory|zookeeper|etcd] [--connect HOSTS] [--session-ms N] [--cluster NAME]";

/// Command-line options of the demo.
#[derive(Clone, Debug)]
pub struct Options {
    /// `memory`, `zookeeper` or `etcd`.
    pub backend: String,
    /// `host:port[,host:port…]` of the servers (ZooKeeper: a trailing
    /// `/path` is a chroot).
    pub connect: Option<String>,
    /// The session timeout to ask for.
    pub session: Duration,
    /// The cluster's name: its data lives under `/tenure/NAME`.
    pub cluster: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: "memory".into(),
            connect: None,
            session: Duration::from_secs(2),
            cluster: "ecas".into(),
        }
    }
}

impl Options {
    /// Parses `--backend memory|zookeeper|etcd`, `--connect HOSTS`,
    /// `--session-ms N` and `--cluster NAME`; exits with code 2 on anything
    /// else.
    pub fn parse() -> Self {
        let mut options = Options::default();
        let mut args = std::env::args().skip(1);
        let usage = |why: String| -> ! {
            eprintln!("{why}; {USAGE}");
            std::process::exit(2);
        };
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .unwrap_or_else(|| usage(format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--backend" => options.backend = value(),
                "--connect" => options.connect = Some(value()),
                "--cluster" => options.cluster = value(),
                "--session-ms" => {
                    let text = value();
                    let ms: u64 = text.parse().unwrap_or_else(|_| {
                        usage(format!("--session-ms {text:?} is not a number"))
                    });
                    options.session = Duration::from_millis(ms);
                }
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => usage(format!("unknown argument {other:?}")),
            }
        }
        options
    }
}

/// A running backend the demo connects its clients to.
pub enum Backend {
    /// The in-process server.
    Memory(tenure::memory::MemoryServer, Duration),
    /// ZooKeeper servers, and the chroot if any.
    Zookeeper {
        /// `host:port` of each server.
        servers: Vec<String>,
        /// The chroot (`/path`), if the connect string had one.
        chroot: Option<String>,
        /// The session timeout.
        session: Duration,
    },
    /// etcd endpoints.
    Etcd {
        /// `host:port` of each endpoint.
        endpoints: Vec<String>,
        /// The session timeout (the lease TTL, rounded up to seconds).
        session: Duration,
    },
}

impl Backend {
    /// Picks the backend the options name.
    ///
    /// # Errors
    /// An unknown backend, or a real one without `--connect`.
    pub fn start(options: &Options) -> Result<Self, Error> {
        let hosts = || {
            options
                .connect
                .clone()
                .ok_or_else(|| format!("--backend {} needs --connect HOST:PORT", options.backend))
        };
        let list = |text: &str| -> Vec<String> {
            text.split(',')
                .map(|h| h.trim().trim_start_matches("http://").to_owned())
                .filter(|h| !h.is_empty())
                .collect()
        };
        let session = options.session;
        Ok(match options.backend.as_str() {
            "memory" => Backend::Memory(tenure::memory::MemoryServer::new(), session),
            "zookeeper" | "zk" => {
                let hosts = hosts()?;
                let (servers, chroot) = match hosts.find('/') {
                    Some(at) => (&hosts[..at], Some(hosts[at..].to_owned())),
                    None => (hosts.as_str(), None),
                };
                Backend::Zookeeper {
                    servers: list(servers),
                    chroot,
                    session,
                }
            }
            "etcd" => Backend::Etcd {
                endpoints: list(&hosts()?),
                session,
            },
            other => {
                return Err(format!("unknown backend {other:?}: memory, zookeeper or etcd").into());
            }
        })
    }

    /// A new client with its own session.
    ///
    /// # Errors
    /// When the server cannot be reached or refuses the session.
    pub async fn connect(&self) -> Result<Client, Error> {
        Ok(match self {
            Backend::Memory(server, session) => {
                let memory = server.connect(*session).await?;
                Client {
                    store: Arc::new(memory.clone()),
                    host: Host::Memory(memory),
                }
            }
            Backend::Zookeeper {
                servers,
                chroot,
                session,
            } => {
                let links = links(servers).await?;
                let mut config = tenure_zookeeper::ZkConfig::new(addrs(&links).join(","))
                    .with_session_timeout(*session)
                    .with_connect_timeout(CONNECT_TIMEOUT);
                if let Some(chroot) = chroot {
                    config = config.with_chroot(tenure::Path::new(chroot)?);
                }
                config.validate()?;
                Client {
                    store: Arc::new(config.connect().await?),
                    host: Host::Network(links),
                }
            }
            Backend::Etcd { endpoints, session } => {
                let links = links(endpoints).await?;
                let store = crate::etcd::connect(&addrs(&links), *session, CONNECT_TIMEOUT).await?;
                Client {
                    store,
                    host: Host::Network(links),
                }
            }
        })
    }
}

async fn links(servers: &[String]) -> Result<Vec<Link>, Error> {
    if servers.is_empty() {
        return Err("--connect names no server (expected host:port[,host:port…])".into());
    }
    let mut links = Vec::with_capacity(servers.len());
    for server in servers {
        links.push(Link::start(server).await?);
    }
    Ok(links)
}

fn addrs(links: &[Link]) -> Vec<String> {
    links.iter().map(|l| l.addr().to_owned()).collect()
}

/// One client of the backend.
pub struct Client {
    /// The store, as workers and the admin hold it.
    pub store: DynStore,
    host: Host,
}

/// How the client's host can die.
enum Host {
    Memory(tenure::memory::MemoryStore),
    Network(Vec<Link>),
}

impl Client {
    /// The host of this client dies: the server stops hearing from it and
    /// ends its session when the timeout runs out, as for a real crash. In
    /// memory the server stops hearing from the client; with a real
    /// server the client's connections are closed and refused from now on.
    pub fn kill_host(&self) {
        match &self.host {
            Host::Memory(memory) => memory.suspend(),
            Host::Network(links) => links.iter().for_each(Link::cut),
        }
    }
}

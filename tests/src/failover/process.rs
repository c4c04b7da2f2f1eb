//! Worker processes: the `failover_worker` program started by tests, one
//! process per worker, killed with the test binary (it is started through
//! [`ServerProcess`], so `PR_SET_PDEATHSIG` applies).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tenure_core::{DynStore, Error, Result};
use tenure_etcd::EtcdConfig;
use tenure_zookeeper::ZkConfig;

use super::runlog::{Kill, unix_nanos};
use crate::server_util::ServerProcess;

/// How long connecting a store may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The namespace of every etcd store of these tests.
const ETCD_NAMESPACE: &str = "/tenure-failover";

/// Which client a worker process (and the test's admin) speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// ZooKeeper; the connect string is `host:port[,host:port…]`.
    Zookeeper,
    /// etcd; the connect string is `host:port[,host:port…]` (endpoints).
    Etcd,
}

impl StoreKind {
    /// The name given to the worker program.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Zookeeper => "zookeeper",
            StoreKind::Etcd => "etcd",
        }
    }

    /// Connects a store with its own session.
    ///
    /// # Errors
    /// As the backend's `connect`.
    pub async fn connect(self, servers: &str, session_timeout: Duration) -> Result<DynStore> {
        Ok(match self {
            StoreKind::Zookeeper => Arc::new(
                ZkConfig::new(servers)
                    .with_session_timeout(session_timeout)
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .connect()
                    .await?,
            ),
            StoreKind::Etcd => Arc::new(
                EtcdConfig::new(servers.split(','))
                    .with_namespace(ETCD_NAMESPACE)
                    .with_session_timeout(session_timeout)
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .connect()
                    .await?,
            ),
        })
    }
}

impl FromStr for StoreKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "zookeeper" => Ok(StoreKind::Zookeeper),
            "etcd" => Ok(StoreKind::Etcd),
            other => Err(Error::InvalidInput(format!(
                "unknown backend {other:?} (zookeeper or etcd)"
            ))),
        }
    }
}

/// Where worker processes connect and how: everything a scenario needs
/// besides its own cluster name.
#[derive(Clone, Debug)]
pub struct FailoverEnv {
    /// The worker program (`env!("CARGO_BIN_EXE_failover_worker")`).
    pub program: PathBuf,
    /// The backend.
    pub kind: StoreKind,
    /// The servers, as a connect string.
    pub servers: String,
    /// The session timeout (ZooKeeper) or lease TTL (etcd) asked for.
    pub session_timeout: Duration,
}

impl FailoverEnv {
    /// Workers run `program` against `servers` of `kind` with
    /// `session_timeout`.
    pub fn new(
        program: impl Into<PathBuf>,
        kind: StoreKind,
        servers: String,
        session_timeout: Duration,
    ) -> Self {
        FailoverEnv {
            program: program.into(),
            kind,
            servers,
            session_timeout,
        }
    }
}

/// One running worker process.
#[derive(Debug)]
pub struct WorkerProcess {
    worker: String,
    process: ServerProcess,
}

impl WorkerProcess {
    /// Starts worker `worker` of `cluster`, appending its runs to `run_log`
    /// and its own output to `output`.
    pub fn start(
        env: &FailoverEnv,
        cluster: &str,
        worker: &str,
        run_log: &Path,
        output: &Path,
    ) -> Self {
        let mut command = Command::new(&env.program);
        command
            .arg(env.kind.name())
            .arg(&env.servers)
            .arg(cluster)
            .arg(worker)
            .arg(env.session_timeout.as_millis().to_string())
            .arg(run_log);
        WorkerProcess::spawn(worker, &command, output)
    }

    /// Starts `command` as worker `worker` (any worker program), its
    /// output appended to `output`; it dies with this process.
    pub fn spawn(worker: &str, command: &Command, output: &Path) -> Self {
        let name = format!("worker {worker}");
        let process = ServerProcess::spawn(&name, command, output).unwrap_or_else(|e| {
            panic!("starting {}: {e}", command.get_program().to_string_lossy())
        });
        WorkerProcess {
            worker: worker.to_string(),
            process,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends the signal named `signal` (`STOP`, `CONT`, …; see
    /// [`ServerProcess::signal`]).
    pub fn signal(&self, signal: &str) {
        self.process.signal(signal);
    }

    /// The worker's name.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn sigkill(&mut self) -> Kill {
        let at = unix_nanos();
        self.process.kill();
        Kill {
            worker: self.worker.clone(),
            at,
            dead: unix_nanos(),
        }
    }

    /// Asks the process to stop gracefully (SIGTERM).
    pub fn sigterm(&self) {
        self.process.sigterm();
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.process.wait_exit(limit)
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// The loopback ports this process has established TCP connections
    /// to (which servers it talks to), read from `/proc`.
    pub fn connected_ports(&self) -> Vec<u16> {
        let pid = self.process.pid();
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|dir| {
                dir.flatten()
                    .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                    .filter_map(|link| {
                        let link = link.to_string_lossy().into_owned();
                        Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
        let mut ports: Vec<u16> = table
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // remote address, state (01 = established), inode
                let (remote, state, inode) = (fields.get(2)?, fields.get(3)?, fields.get(9)?);
                if *state != "01" || !inodes.iter().any(|i| i == inode) {
                    return None;
                }
                u16::from_str_radix(remote.split(':').nth(1)?, 16).ok()
            })
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// The last lines of the process's own output.
    pub fn output_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }
}

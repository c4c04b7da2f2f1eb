//! The `tenure worker` processes of a soak, each connected through loopback
//! proxies of its own (one per server), and the `tenure tasks …` commands
//! that change the task set. Worker processes die with the soak (they are
//! started like the servers, see [`server_util`](crate::server_util)); the
//! proxies live on a runtime the fleet owns.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::failover::StoreKind;
use crate::failover::{Kill, WorkerProcess, unix_nanos};
use crate::proxy::Proxy;

/// How long a `tenure tasks …` command may take.
const ADMIN_LIMIT: Duration = Duration::from_secs(30);

/// Where and how the workers run.
#[derive(Clone, Debug)]
pub struct FleetSpec {
    /// The `tenure` program.
    pub tenure: PathBuf,
    /// The backend.
    pub backend: StoreKind,
    /// The cluster's name.
    pub cluster: String,
    /// The session timeout the workers ask for.
    pub session: Duration,
    /// The command every worker runs for each task (after `--`).
    pub command: Vec<String>,
    /// Where the workers' output and the admin log go.
    pub dir: PathBuf,
    /// The servers, for the admin commands (no proxy).
    pub servers: String,
}

/// The worker processes and their proxies.
#[derive(Debug)]
pub struct Fleet {
    spec: FleetSpec,
    names: Vec<String>,
    workers: Vec<Option<WorkerProcess>>,
    /// Per worker, one proxy per server.
    proxies: Vec<Vec<Proxy>>,
    // Dropped after the proxies that run on it.
    _runtime: tokio::runtime::Runtime,
}

impl Fleet {
    /// `count` workers `w1…`, each with a proxy to every one of `servers`;
    /// none started yet.
    pub fn new(spec: FleetSpec, count: usize, servers: &[std::net::SocketAddr]) -> Fleet {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("soak-proxies")
            .enable_all()
            .build()
            .expect("a runtime for the proxies");
        let proxies = (0..count)
            .map(|_| {
                servers
                    .iter()
                    .map(|&addr| {
                        runtime
                            .block_on(Proxy::start(addr))
                            .unwrap_or_else(|e| panic!("starting a proxy to {addr}: {e}"))
                    })
                    .collect()
            })
            .collect();
        Fleet {
            spec,
            names: (1..=count).map(|i| format!("w{i}")).collect(),
            workers: (0..count).map(|_| None).collect(),
            proxies,
            _runtime: runtime,
        }
    }

    /// How many workers there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Worker `i`'s name.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    fn tenure(&self, connect: &str) -> Command {
        let mut command = Command::new(&self.spec.tenure);
        command
            .args(["--backend", self.spec.backend.name()])
            .args(["--connect", connect])
            .args(["--cluster", &self.spec.cluster])
            .env_remove("TENURE_ZK_TICK_TIME")
            .env_remove("TENURE_USER")
            .env_remove("TENURE_PASSWORD");
        if self.spec.backend == StoreKind::Zookeeper {
            // The test servers' tick: without it a 1 s session leaves no
            // room for a grace, and `tenure worker` refuses it.
            command
                .arg("--zk-tick-time")
                .arg(format!("{}ms", crate::zookeeper::TICK.as_millis()));
        }
        command
    }

    /// Starts worker `i` (again: same name, a new process).
    pub fn start(&mut self, i: usize) {
        let connect: Vec<String> = self.proxies[i]
            .iter()
            .map(|p| p.addr().to_string())
            .collect();
        let mut command = self.tenure(&connect.join(","));
        command
            .arg("--session-timeout")
            .arg(format!("{}ms", self.spec.session.as_millis()))
            .args(["worker", "--id", &self.names[i], "--"])
            .args(&self.spec.command);
        let output = self.spec.dir.join(format!("{}.out", self.names[i]));
        self.workers[i] = Some(WorkerProcess::spawn(&self.names[i], &command, &output));
    }

    fn process(&mut self, i: usize) -> &mut WorkerProcess {
        self.workers[i]
            .as_mut()
            .unwrap_or_else(|| panic!("worker {} is not started", i + 1))
    }

    /// SIGKILLs worker `i`.
    pub fn sigkill(&mut self, i: usize) -> Kill {
        let kill = self.process(i).sigkill();
        self.workers[i] = None;
        kill
    }

    /// SIGTERMs worker `i` and waits up to `limit` for it to exit (then
    /// kills it); returns its exit status (`None`: killed) and when it was
    /// seen gone.
    pub fn sigterm(&mut self, i: usize, limit: Duration) -> (Option<ExitStatus>, u128) {
        self.process(i).sigterm();
        self.wait_exit(i, limit)
    }

    /// Waits up to `limit` for worker `i` to exit (then kills it); returns
    /// its exit status (`None`: killed) and when it was seen gone.
    pub fn wait_exit(&mut self, i: usize, limit: Duration) -> (Option<ExitStatus>, u128) {
        let status = self.process(i).wait_exit(limit);
        self.workers[i] = None;
        (status, unix_nanos())
    }

    /// Sends `signal` (`STOP`, `CONT`) to worker `i`.
    pub fn signal(&mut self, i: usize, signal: &str) {
        self.process(i).signal(signal);
    }

    /// Holds every byte between worker `i` and the servers (or lets them
    /// flow again).
    pub fn blackhole(&self, i: usize, on: bool) {
        for proxy in &self.proxies[i] {
            if on {
                proxy.suspend();
            } else {
                proxy.resume();
            }
        }
    }

    /// The workers that should run but exited by themselves: their index
    /// and output tail. They count as not started from now on.
    pub fn exited(&mut self) -> Vec<(usize, String)> {
        let mut exited = Vec::new();
        for (i, slot) in self.workers.iter_mut().enumerate() {
            if let Some(process) = slot
                && !process.is_running()
            {
                exited.push((i, process.output_tail(30)));
                *slot = None;
            }
        }
        exited
    }

    /// Whether worker `i` is started.
    pub fn is_started(&self, i: usize) -> bool {
        self.workers[i].is_some()
    }

    /// Runs `tenure tasks ARGS` against the servers directly.
    ///
    /// # Errors
    /// Its exit status and output when it fails or takes over 30 s.
    pub fn admin(&self, args: &[&str]) -> Result<(), String> {
        let log = self.spec.dir.join("admin.log");
        let mut command = self.tenure(&self.spec.servers);
        command.arg("tasks").args(args);
        run_bounded(&mut command, &log, ADMIN_LIMIT)
            .map_err(|e| format!("tenure tasks {}: {e}", args.join(" ")))
    }
}

/// Runs `command` to its end with its output appended to `log`, killing
/// it after `limit`.
fn run_bounded(command: &mut Command, log: &Path, limit: Duration) -> Result<(), String> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let began = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(5).collect();
                return Err(format!("{status}; {}", tail.join(" | ")));
            }
            Ok(None) if began.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not end within {limit:?}"));
            }
        }
    }
}

//! Helpers for tests that run real server processes (ZooKeeper, etcd):
//! loopback ports, scratch directories, processes that die with the test
//! binary, bounded waits and a raw request over TCP.
//!
//! # Why servers never outlive the test binary
//! A server shared by a test binary sits in a `static`, and Rust never drops
//! statics, so no `Drop` runs at exit. Instead every server is started as
//! `setpriv --pdeathsig KILL -- <program> <args>`: the kernel kills it the
//! moment its parent dies. The parent-death signal follows the *thread*
//! that forked, and test threads end with their test, so every server is
//! forked by one spawner thread that lives as long as the process. A
//! server owned by a value (a per-test server, a stopped ensemble member)
//! is also killed when that value is dropped, panics included.
//!
//! Scratch directories live under `$TMPDIR/tenure-test-servers/<pid>-…`;
//! those left by processes that are gone are deleted the next time a
//! directory is made.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The command that installs every server binary the tests use.
pub const INSTALL_HINT: &str = "apt-get install -y --no-install-recommends zookeeper etcd-server etcd-client protobuf-compiler libprotobuf-dev";

/// Panics, naming the install command, unless `path` exists.
pub fn require_file(path: &str, what: &str) {
    if !Path::new(path).exists() {
        panic!("{what} not found at {path}: install it with `{INSTALL_HINT}`");
    }
}

/// The full path of `program` on `PATH`; panics naming the install command
/// when it is missing.
pub fn require_program(program: &str, what: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{what} (`{program}`) not found on PATH: install it with `{INSTALL_HINT}`")
    })
}

/// A loopback port that nothing listens on and that this process has not
/// handed out before. Ports are drawn below the kernel's range for outgoing
/// connections (`net.ipv4.ip_local_port_range`), so a client socket cannot
/// take a server's port while that server is stopped for a restart.
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(Default::default);
    let (low, high) = server_port_range();
    let seed = u64::from(std::process::id()) ^ nanos_now();
    for attempt in 0..2000u64 {
        let port = low + (mix(seed.wrapping_add(attempt)) % u64::from(high - low)) as u16;
        let mut taken = given.lock().unwrap_or_else(|p| p.into_inner());
        if taken.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            taken.insert(port);
            return port;
        }
    }
    panic!("no free loopback port found in 2000 attempts in {low}..{high}");
}

/// Ports for servers: from 10000 up to the start of the kernel's range for
/// outgoing connections (or 10000..32768 if that range cannot be read or
/// leaves too little room).
fn server_port_range() -> (u16, u16) {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok());
    match start {
        Some(start) if start >= 12_000 => (10_000, start),
        _ => (10_000, 32_768),
    }
}

fn nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A 64-bit mixer (splitmix64), enough to spread port choices.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fresh scratch directory for one server, deleted when the returned
/// value is dropped (a server held in a `static` leaves it behind; it is
/// swept once its process is gone).
///
/// In memory (`/dev/shm`) where the machine has it: etcd 3.4 cannot turn
/// its fsyncs off, and on a busy disk one of them stalled every answer of
/// a test server for over a second, long enough to put a 2 s session at
/// risk. Tests measure tenure, not the disk.
pub fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    let root = scratch_root();
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("creating {}: {e}", root.display()));
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| sweep_stale(&root));
    tempfile::Builder::new()
        .prefix(&format!("{}-{prefix}-", std::process::id()))
        .tempdir_in(&root)
        .unwrap_or_else(|e| panic!("creating a scratch dir in {}: {e}", root.display()))
}

/// Where servers keep their data: `/dev/shm` if it is a writable
/// directory, the system's temporary directory otherwise.
fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let in_memory =
        shm.is_dir() && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly());
    let base = if in_memory {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join("tenure-test-servers")
}

/// Deletes the scratch directories of processes that no longer run.
fn sweep_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.split('-').next()) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Forks `command` from the one spawner thread, which never ends before
/// the process does (see the module docs).
fn spawn_from_lasting_thread(command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("server-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop only ends
                // with the process.
                while let Ok((mut command, reply)) = rx.recv() {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starting the server spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, reply_tx))
        .map_err(|_| io::Error::other("the server spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the server spawner thread dropped the request"))?
}

/// A server process that is killed when this value is dropped and, in any
/// case, when the test binary exits (see the module docs).
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command` (its program, arguments, environment changes and
    /// working directory) with stdout and stderr appended to `log`.
    ///
    /// # Errors
    /// When the log cannot be opened or the process cannot be started.
    pub fn spawn(name: &str, command: &Command, log: &Path) -> io::Result<Self> {
        let setpriv = require_program("setpriv", "setpriv (util-linux)");
        let mut wrapped = Command::new(setpriv);
        wrapped
            .args(["--pdeathsig", "KILL", "--"])
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(v) => wrapped.env(key, v),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        let out = File::options().create(true).append(true).open(log)?;
        wrapped
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = spawn_from_lasting_thread(wrapped)?;
        Ok(ServerProcess {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// The server's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM), waits up to `grace`, then kills.
    pub fn terminate(&mut self, grace: Duration) {
        self.sigterm();
        let _ = self.wait_exit(grace);
    }

    /// Sends SIGTERM (asks the process to stop) and returns at once.
    pub fn sigterm(&self) {
        self.signal("TERM");
    }

    /// Sends the signal named `signal` (`TERM`, `STOP`, `CONT`, …, as
    /// `kill -SIGNAL` takes it) and returns at once.
    pub fn signal(&self, signal: &str) {
        send_signal(self.pid(), signal);
    }

    /// Waits up to `limit` for the process to exit and returns its exit
    /// status; `None` (after killing it) if it did not exit in time.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= until {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Polls `ready` every 20 ms until it holds, for at most `limit`; fails
    /// early (with the log's tail) if the process exits. Returns how long
    /// it took.
    ///
    /// # Errors
    /// A message naming the server, what was awaited and the log's tail.
    pub fn wait_ready(
        &mut self,
        what: &str,
        limit: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            if ready() {
                return Ok(start.elapsed());
            }
            if !self.is_running() {
                return Err(format!(
                    "{} exited while waiting for {what}; log tail:\n{}",
                    self.name,
                    self.log_tail(40)
                ));
            }
            if start.elapsed() >= limit {
                return Err(format!(
                    "{} not {what} after {limit:?}; log tail:\n{}",
                    self.name,
                    self.log_tail(40)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A server that can be killed and started again on the same data: at most
/// one [`ServerProcess`] at a time, under a name and with one log file.
#[derive(Debug)]
pub struct RestartableProcess {
    name: String,
    log: PathBuf,
    current: Mutex<Option<ServerProcess>>,
}

impl RestartableProcess {
    /// Not started yet; its output will be appended to `log`.
    pub fn new(name: String, log: PathBuf) -> Self {
        RestartableProcess {
            name,
            log,
            current: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ServerProcess>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts `command()` unless the process runs already; does not wait
    /// for it to serve. Panics when it cannot be started.
    pub fn launch(&self, command: impl FnOnce() -> Command) {
        let mut current = self.lock();
        if let Some(p) = current.as_mut()
            && p.is_running()
        {
            return;
        }
        let started = ServerProcess::spawn(&self.name, &command(), &self.log)
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.name));
        *current = Some(started);
    }

    /// Waits up to `limit` until `ready` holds (see
    /// [`ServerProcess::wait_ready`]); returns how long it took. Panics with
    /// the log's tail if it never does.
    pub fn wait_ready(&self, what: &str, limit: Duration, ready: impl FnMut() -> bool) -> Duration {
        let mut current = self.lock();
        let process = current
            .as_mut()
            .unwrap_or_else(|| panic!("{} is not started", self.name));
        process
            .wait_ready(what, limit, ready)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Kills the process (SIGKILL, as a crash) and reaps it.
    pub fn stop(&self) {
        if let Some(mut p) = self.lock().take() {
            p.kill();
        }
    }

    /// Whether the process runs.
    pub fn is_running(&self) -> bool {
        self.lock().as_mut().is_some_and(ServerProcess::is_running)
    }

    /// The process id, while started.
    pub fn pid(&self) -> Option<u32> {
        self.lock().as_ref().map(ServerProcess::pid)
    }

    /// The last `lines` lines of the log, while started.
    pub fn log_tail(&self, lines: usize) -> String {
        self.lock()
            .as_ref()
            .map(|p| p.log_tail(lines))
            .unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends the signal named `signal` (as `kill -SIGNAL` takes it) to
/// process `pid`; whether it arrived is not reported (the process may be
/// gone).
pub fn send_signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Polls `check` every 20 ms until it holds, for at most `limit`; returns
/// how long it took, or `None` if it never held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if check() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `request` to `addr`, then reads until the server closes the
/// connection; everything bounded by `timeout` per step. For ZooKeeper's
/// four-letter words and other one-shot text protocols.
///
/// # Errors
/// Connection, write or read failures and time-outs.
pub fn tcp_request(addr: SocketAddr, request: &[u8], timeout: Duration) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(request)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

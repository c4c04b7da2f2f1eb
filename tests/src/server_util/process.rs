//! Server processes that die with the test binary (see the parent
//! module's docs), restartable ones, and signals.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use super::require_program;

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Starts `command` so that it dies with the test binary (see the module
/// docs): wrapped as `setpriv --pdeathsig KILL -- COMMAND` (its program,
/// arguments, environment changes and working directory kept) and forked
/// from the one spawner thread. Its standard streams are set on the
/// wrapper by `streams` before it starts.
///
/// # Errors
/// When the process cannot be started.
pub fn spawn_dying_with_binary(
    command: &Command,
    streams: impl FnOnce(&mut Command) -> io::Result<()>,
) -> io::Result<Child> {
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
    streams(&mut wrapped)?;
    spawn_from_lasting_thread(wrapped)
}

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
        let child = spawn_dying_with_binary(command, |wrapped| {
            let out = File::options().create(true).append(true).open(log)?;
            wrapped
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out);
            Ok(())
        })?;
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

//! One run of a task's command, and how it ends.
//!
//! The process tree of one run:
//!
//! ```text
//! tenure worker                      (the supervisor)
//! └─ tenure __child --parent PID     (the shim; leads a new process group)
//!    └─ COMMAND ARGS…                (same group, with its descendants)
//! ```
//!
//! - The shim's parent-death signal is SIGHUP, armed before `exec` from the
//!   supervisor's lasting spawner thread: if the supervisor dies (even by
//!   SIGKILL), the shim kills its whole process group with SIGKILL, so no
//!   descendant keeps running a task another worker has taken over. The
//!   command's own parent-death signal is SIGKILL, for the case where the
//!   shim itself is killed.
//! - To stop a run, the supervisor sends SIGTERM to the shim, which relays
//!   it to the whole group; after the grace, the supervisor sends SIGKILL to
//!   the group. It returns only once the shim has exited.
//! - Once the shim has exited, whatever is left in the group (background
//!   processes the command started) is killed with SIGKILL.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tempfile::NamedTempFile;

use crate::sys::{self, Pid};
use crate::worker::spawner;

/// Payloads longer than this, or holding a NUL byte, go to a file named by
/// `TENURE_PAYLOAD_FILE` instead of `TENURE_PAYLOAD` (Linux limits one
/// environment string to 128 KiB).
pub const MAX_ENV_PAYLOAD: usize = 64 * 1024;

/// The environment of one run.
#[derive(Debug, Default)]
pub struct RunEnv {
    /// `(name, value)` pairs.
    pub vars: Vec<(&'static str, OsString)>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// How a run ended when the supervisor stopped it.
#[derive(Debug)]
pub enum Stopped {
    /// It exited within the grace after SIGTERM.
    Terminated(ExitStatus),
    /// It needed SIGKILL.
    Killed(ExitStatus),
}

/// The process groups of the runs alive now.
static LIVE: Mutex<BTreeSet<Pid>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<Pid>> {
    // The set stays consistent whatever panicked while holding it.
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Kills every run's process group with SIGKILL at once (an impatient
/// second Ctrl-C).
pub fn kill_all() {
    for &group in live().iter() {
        let _ = sys::signal_group(group, sys::SIGKILL);
    }
}

/// One running command, behind its shim.
#[derive(Debug)]
pub struct Run {
    /// The shim's pid, which is also the process group's id.
    pid: Pid,
    shim: tokio::process::Child,
    exited: bool,
    _payload_file: Option<NamedTempFile>,
}

impl Run {
    /// Starts `command` with `env`.
    ///
    /// # Errors
    /// Failing to write the payload file or to start the shim. (A command
    /// that cannot be executed makes the shim exit with 127 or 126.)
    pub async fn start(command: &[OsString], env: RunEnv) -> io::Result<Run> {
        let me = sys::own_pid();
        let mut shim = std::process::Command::new("/proc/self/exe");
        shim.arg0("tenure")
            .arg("__child")
            .arg("--parent")
            .arg(me.to_string())
            .arg("--")
            .args(command)
            .env_remove("TENURE_PASSWORD")
            .env_remove("TENURE_USER")
            .env_remove("TENURE_PAYLOAD")
            .env_remove("TENURE_PAYLOAD_FILE")
            .envs(env.vars)
            .stdin(Stdio::null())
            .process_group(0);
        let payload_file = if env.payload.len() <= MAX_ENV_PAYLOAD && !env.payload.contains(&0) {
            shim.env("TENURE_PAYLOAD", std::ffi::OsStr::from_bytes(&env.payload));
            None
        } else {
            let file = tempfile::Builder::new()
                .prefix("tenure-payload-")
                .tempfile()?;
            std::fs::write(file.path(), &env.payload)?;
            shim.env("TENURE_PAYLOAD_FILE", file.path());
            Some(file)
        };
        sys::die_with_parent(&mut shim, sys::SIGHUP, me);
        let shim = spawner::spawn(shim).await?;
        let pid = shim
            .id()
            .and_then(|id| Pid::try_from(id).ok())
            .ok_or_else(|| io::Error::other("the command's process has no id"))?;
        live().insert(pid);
        Ok(Run {
            pid,
            shim,
            exited: false,
            _payload_file: payload_file,
        })
    }

    /// The shim's pid (and process group).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits until the run ends by itself.
    ///
    /// # Errors
    /// Failing to wait for the process.
    ///
    /// # Cancel safety
    /// Cancel-safe: the run keeps going, and can be waited for again.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.shim.wait().await?;
        self.ended();
        Ok(status)
    }

    /// Stops the run: SIGTERM to the command (through the shim), SIGKILL
    /// to the whole group after `grace`; returns once the shim has exited.
    ///
    /// # Errors
    /// Failing to wait for the process.
    pub async fn stop(&mut self, grace: Duration) -> io::Result<Stopped> {
        let _ = sys::signal_process(self.pid, sys::SIGTERM);
        if let Ok(status) = tokio::time::timeout(grace, self.shim.wait()).await {
            let status = status?;
            self.ended();
            return Ok(Stopped::Terminated(status));
        }
        let _ = sys::signal_group(self.pid, sys::SIGKILL);
        let status = self.shim.wait().await?;
        self.ended();
        Ok(Stopped::Killed(status))
    }

    /// The shim has exited: kill what is left of its group.
    fn ended(&mut self) {
        if !self.exited {
            self.exited = true;
            let _ = sys::signal_group(self.pid, sys::SIGKILL);
            live().remove(&self.pid);
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Dropped while running (the runtime gave up waiting for the stop):
        // the group must not outlive its claim. Tokio reaps the shim.
        if !self.exited {
            let _ = sys::signal_group(self.pid, sys::SIGKILL);
            live().remove(&self.pid);
        }
    }
}

/// Describes an exit status the way shells do: `exit 3`, `signal 9`.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => "unknown status".to_owned(),
    }
}

/// The exit code a shell would report: the code, or 128 + the signal.
pub fn shell_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(255),
        (None, None) => 1,
    }
}

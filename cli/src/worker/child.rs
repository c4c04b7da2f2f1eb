//! One run of a task's command, and how it ends.
//!
//! The process tree of one run:
//!
//! ```text
//! tenure worker                      (the supervisor)
//! └─ tenure __child --parent PID     (the shim; leads a new process group;
//!    │                                a child subreaper)
//!    └─ COMMAND ARGS…                (same group, with its descendants,
//!                                     wherever they moved)
//! ```
//!
//! - The shim's parent-death signal is SIGHUP, armed before `exec` from the
//!   supervisor's lasting spawner thread: if the supervisor dies (even by
//!   SIGKILL), the shim kills every descendant with SIGKILL, so none keeps
//!   running a task another worker has taken over. The command's own
//!   parent-death signal is SIGKILL, for the case where the shim itself is
//!   killed (then descendants that left the process group escape: nothing
//!   but the shim kills them).
//! - The shim holds the run's deadline, which the supervisor renews through
//!   a pipe ([`deadline`](super::deadline)) from the worker's session
//!   clock, and stops the run before it passes unrenewed: a frozen or hung
//!   supervisor stops renewing, and its commands stop in time anyway.
//! - To stop a run, the supervisor sends SIGTERM to the shim, which sends
//!   it on to the command's process group and every descendant outside it,
//!   and after the grace kills every descendant with SIGKILL. The
//!   supervisor waits for the shim to exit; if it does not within the grace
//!   and half the kill allowance, the supervisor kills the tree itself
//!   ([`tree::kill_tree`]).
//! - The shim exits only once every descendant is gone; then whatever is
//!   left in its process group (nothing, unless the shim was killed) is
//!   killed with SIGKILL.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tempfile::NamedTempFile;
use tokio::time::Instant;
use tracing::debug;

use crate::args::CREDENTIAL_ENV;
use crate::sys::{self, Pid};
use crate::worker::deadline::DeadlineWriter;
use crate::worker::grace::{KILL_ALLOWANCE, stop_timeout};
use crate::worker::{spawner, tree};

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
    /// It needed SIGKILL (the shim ends itself with SIGKILL to say so).
    Killed(ExitStatus),
}

/// The process groups of the runs alive now.
static LIVE: Mutex<BTreeSet<Pid>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<Pid>> {
    // The set stays consistent whatever panicked while holding it.
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Kills every run's processes with SIGKILL at once (an impatient second
/// Ctrl-C).
pub fn kill_all() {
    for &shim in live().iter() {
        tree::kill_tree(shim);
    }
}

/// One running command, behind its shim.
#[derive(Debug)]
pub struct Run {
    /// The shim's pid, which is also the process group's id.
    pid: Pid,
    shim: tokio::process::Child,
    exited: bool,
    deadline: DeadlineWriter,
    _payload_file: Option<NamedTempFile>,
}

impl Run {
    /// Starts `command` with `env`: its shim stops it `grace` after
    /// SIGTERM, and holds `deadline` (`None`: stop at once) until
    /// [`Run::renew`] moves it.
    ///
    /// # Errors
    /// Failing to write the payload file, to create the deadline pipe, to
    /// read the clock or to start the shim. (A command that cannot be
    /// executed makes the shim exit with 127 or 126.)
    pub async fn start(
        command: &[OsString],
        env: RunEnv,
        grace: Duration,
        deadline: Option<Instant>,
    ) -> io::Result<Run> {
        let me = sys::own_pid();
        let (reader, writer) = io::pipe()?;
        let mut fence = DeadlineWriter::new(writer, stop_timeout(grace))?;
        // Waits in the pipe for the shim's first read.
        fence.send(deadline)?;
        let mut shim = std::process::Command::new("/proc/self/exe");
        shim.arg0("tenure")
            .arg("__child")
            .arg("--parent")
            .arg(me.to_string())
            .arg("--grace-ms")
            .arg(grace.as_millis().to_string())
            .arg("--")
            .args(command)
            .env_remove("TENURE_PAYLOAD")
            .env_remove("TENURE_PAYLOAD_FILE");
        keep_credentials(&mut shim);
        shim.envs(env.vars)
            .stdin(Stdio::from(reader))
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
            deadline: fence,
            _payload_file: payload_file,
        })
    }

    /// Whether the shim may have stopped the run by itself at its
    /// deadline: it was told to stop, or the SIGTERM instant of a deadline
    /// it held has passed (perhaps before a renewal that came too late).
    pub fn deadline_lapsed(&self) -> bool {
        self.deadline.lapsed()
    }

    /// Passes the run's deadline on to its shim if it changed (`None`:
    /// stop now). A failure is logged: the shim then keeps the deadline it
    /// holds, which only makes it stop the command sooner.
    pub fn renew(&mut self, deadline: Option<Instant>) {
        if let Err(e) = self.deadline.send(deadline) {
            debug!(error = %e, "cannot pass the deadline on to the command's shim");
        }
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

    /// Stops the run: SIGTERM to the shim, which stops the command and
    /// every descendant (SIGTERM, then SIGKILL after `grace`); returns once
    /// the shim has exited. A shim that has not exited half the kill
    /// allowance after the grace is stuck: its tree is killed from here.
    ///
    /// # Errors
    /// Failing to wait for the process.
    pub async fn stop(&mut self, grace: Duration) -> io::Result<Stopped> {
        let _ = sys::signal_process(self.pid, sys::SIGTERM);
        let limit = grace + KILL_ALLOWANCE / 2;
        let status = match tokio::time::timeout(limit, self.shim.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                tree::kill_tree(self.pid);
                let status = self.shim.wait().await?;
                self.ended();
                return Ok(Stopped::Killed(status));
            }
        };
        self.ended();
        Ok(if status.signal() == Some(sys::SIGKILL) {
            Stopped::Killed(status)
        } else {
            Stopped::Terminated(status)
        })
    }

    /// The shim has exited (having waited for every descendant): kill what
    /// is left of its group, which is something only if the shim was
    /// killed.
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
        // nothing of the run may outlive its claim. Tokio reaps the shim.
        if !self.exited {
            tree::kill_tree(self.pid);
            live().remove(&self.pid);
        }
    }
}

/// Removes the credential variables ([`CREDENTIAL_ENV`]) and
/// `TENURE_CONFIG` from what `command` inherits: a task's command cannot
/// read the worker's password, key or console token, nor start another
/// `tenure worker` on the worker's configuration file by accident.
fn keep_credentials(command: &mut std::process::Command) {
    for var in CREDENTIAL_ENV.iter().chain(&["TENURE_CONFIG"]) {
        command.env_remove(var);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What a spawned command sees of the variables `command` was told
    /// about: each removed one is there with `None`.
    fn removed(command: &std::process::Command) -> Vec<String> {
        command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn credentials_and_the_configuration_file_are_not_inherited() {
        let mut command = std::process::Command::new("env");
        keep_credentials(&mut command);
        let removed = removed(&command);
        for var in [
            "TENURE_USER",
            "TENURE_PASSWORD",
            "TENURE_CA",
            "TENURE_CERT",
            "TENURE_KEY",
            "TENURE_CONSOLE_TOKEN",
            "TENURE_CONFIG",
        ] {
            assert!(removed.iter().any(|r| r == var), "{var}: {removed:?}");
        }
    }
}

//! The hidden `tenure __child` process: it sits between the supervisor
//! and the command, holds the run's deadline, and makes sure that nothing
//! the command started outlives the run.
//!
//! It is single-threaded, blocks the signals it handles, and makes itself
//! a child subreaper, so every descendant of the command stays in its
//! tree (see [`tree`](super::tree)): one that leaves the process group
//! (`setsid`, as service scripts daemonize) or whose parent dies is still
//! its descendant. Then it:
//! - starts the command in its own process group (which the supervisor
//!   created for it), with SIGKILL as the command's parent-death signal and
//!   standard input from `/dev/null`;
//! - holds the deadline the supervisor renews on the shim's standard input
//!   ([`deadline`](super::deadline)) and stops the run when it would pass
//!   unrenewed, whether or not the supervisor still runs (it may be frozen
//!   or hung): SIGTERM at `deadline − KILL_ALLOWANCE − grace`, SIGKILL at
//!   `deadline − KILL_ALLOWANCE`. `stop` or a closed pipe stops the run at
//!   once;
//! - stops the run when SIGTERM comes (the supervisor's stop) and when the
//!   command's main process exits (what it left behind is stopped too):
//!   SIGTERM to the process group and to every descendant outside it,
//!   then after the grace (or at the deadline's SIGKILL instant, if
//!   earlier) SIGKILL to every descendant, again and again until none is
//!   left;
//! - relays SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 and SIGHUP to the process
//!   group;
//! - when a stop it was asked for (SIGTERM, `stop`, the deadline) needed
//!   SIGKILL, ends itself with SIGKILL once every descendant is gone, so
//!   the supervisor can tell a command that ignored SIGTERM;
//! - when the supervisor dies (its parent-death signal SIGHUP arrives, or
//!   its parent changes), kills every descendant with SIGKILL at once;
//! - reaps every process reparented to it, and exits only once it has no
//!   child left, with the command's exit code, or 128 + the signal that
//!   killed it (unless it ends itself as above).
//!
//! The command starts with the signal mask the shim was given, not the one
//! the shim blocks for itself.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::Duration;

use crate::args::ChildArgs;
use crate::sys::{self, Pid, Reaped, SignalSet};
use crate::worker::child::shell_code;
use crate::worker::deadline::{DeadlineReader, Held};
use crate::worker::grace::KILL_ALLOWANCE;
use crate::worker::tree;

/// How often the shim checks on its parent and its deadline pipe when no
/// signal comes.
const POLL: Duration = Duration::from_millis(100);

/// The pause between two rounds of the final SIGKILL sweep.
const KILL_ROUND: Duration = Duration::from_millis(5);
/// Rounds of the final sweep at most (about 5 s with the scans).
const KILL_ROUNDS: u32 = 1000;

/// The shim failed before the command could start.
const SHIM_FAILED: u8 = 125;
/// The command was found but could not be executed.
const CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
const NOT_FOUND: u8 = 127;
/// The exit code when the command's own status is unknown (killed before
/// it could be reaped, or never started because the supervisor was gone).
const KILLED: u8 = 128 + 9;

const RELAYED: [libc::c_int; 6] = [
    sys::SIGTERM,
    sys::SIGINT,
    sys::SIGQUIT,
    sys::SIGUSR1,
    sys::SIGUSR2,
    sys::SIGHUP,
];

/// Runs the shim; returns its exit code.
pub fn main(args: &ChildArgs) -> ExitCode {
    let mut handled = RELAYED.to_vec();
    handled.push(sys::SIGCHLD);
    let signals = SignalSet::new(&handled);
    let inherited = match signals.block() {
        Ok(mask) => mask,
        Err(e) => return failed("cannot block signals", &e),
    };
    if let Err(e) = sys::become_subreaper() {
        return failed("cannot become a subreaper", &e);
    }
    // Had the supervisor died before the signals were blocked, SIGHUP would
    // have ended this process; had it died since, the parent changed.
    if sys::parent_pid() != args.parent {
        return ExitCode::from(KILLED);
    }
    let deadline = match std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .and_then(DeadlineReader::new)
    {
        Ok(reader) => reader,
        Err(e) => return failed("cannot read the deadline pipe", &e),
    };
    let Some((program, rest)) = args.command.split_first() else {
        eprintln!("tenure: no command given");
        return ExitCode::from(SHIM_FAILED);
    };
    let me = sys::own_pid();
    let mut command = Command::new(program);
    command.args(rest).stdin(Stdio::null());
    inherited.restore_in_child(&mut command);
    sys::die_with_parent(&mut command, sys::SIGKILL, me);
    let main = match command
        .spawn()
        .map(|child| Pid::try_from(child.id()).unwrap_or(Pid::MAX))
    {
        Ok(pid) => pid,
        Err(e) => return cannot_start(program, &e),
    };
    Shim {
        me,
        parent: args.parent,
        main,
        grace: Duration::from_millis(args.grace_ms),
        signals: &signals,
        deadline,
        status: None,
        stopping: None,
    }
    .run()
}

/// Why a run is being stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    /// SIGTERM, `stop` or a closed pipe, or the deadline.
    Asked,
    /// The command's main process exited; the rest goes with it.
    Exited,
}

/// One run, from the command's start to the shim's exit.
struct Shim<'a> {
    me: Pid,
    parent: Pid,
    /// The command's main process.
    main: Pid,
    grace: Duration,
    signals: &'a SignalSet,
    deadline: DeadlineReader,
    /// How the main process ended, once it has.
    status: Option<ExitStatus>,
    /// Since when (boot time) and why the run is being stopped.
    stopping: Option<(Duration, Why)>,
}

impl Shim<'_> {
    fn run(&mut self) -> ExitCode {
        loop {
            let children_left = self.reap();
            if sys::parent_pid() != self.parent {
                return self.kill_all().0;
            }
            let Ok(now) = sys::boottime() else {
                return self.kill_all().0;
            };
            let held = self.deadline.poll();
            if self.stopping.is_none() {
                if held.stop || now >= term_at(held, self.grace) {
                    self.begin_stop(now, Why::Asked);
                } else if self.status.is_some() {
                    self.begin_stop(now, Why::Exited);
                }
            }
            let mut wake = now + POLL;
            if let Some((since, why)) = self.stopping {
                if !children_left {
                    return self.exit_code();
                }
                let kill_at = kill_at(held).min(since + self.grace);
                if now >= kill_at {
                    let (code, killed) = self.kill_all();
                    if killed && why == Why::Asked {
                        // Tells the supervisor the stop needed SIGKILL.
                        let _ = sys::signal_process(self.me, sys::SIGKILL);
                    }
                    return code;
                }
                wake = wake.min(kill_at);
            } else {
                wake = wake.min(term_at(held, self.grace));
            }
            match self.signals.wait(wake.saturating_sub(now)) {
                Some((sys::SIGCHLD, _)) | None => {}
                // A relayed signal coming back to the relay.
                Some((_, sender)) if sender == self.me => {}
                // The parent-death signal. It comes when the supervisor's
                // spawner thread ends, which happens only as the supervisor
                // dies; the parent may not have changed yet (the other
                // threads of the dying supervisor can still be exiting).
                Some((sys::SIGHUP, sender)) if sender == self.parent => return self.kill_all().0,
                Some((sys::SIGTERM, _)) => match self.stopping {
                    // The grace counts from now, not from before the wait.
                    None => self.begin_stop(sys::boottime().unwrap_or(now), Why::Asked),
                    // Asked now: what is left of the exited command must go
                    // within this stop's grace too.
                    Some((since, Why::Exited)) => self.stopping = Some((since, Why::Asked)),
                    Some((_, Why::Asked)) => {}
                },
                Some((signal, _)) => {
                    let _ = sys::signal_own_group(signal);
                }
            }
        }
    }

    /// Reaps every ended child (the main process, and descendants
    /// reparented here); returns whether any child is left.
    fn reap(&mut self) -> bool {
        loop {
            match sys::reap_child() {
                Ok(Reaped::Exited(pid, status)) => {
                    if pid == self.main {
                        self.status = Some(status);
                    }
                }
                Ok(Reaped::Running) => return true,
                // An error other than "no children" cannot happen with
                // these arguments; treat it as nothing left to reap.
                Ok(Reaped::NoChildren) | Err(_) => return false,
            }
        }
    }

    /// SIGTERM to the process group and to every descendant outside it.
    fn begin_stop(&mut self, now: Duration, why: Why) {
        self.stopping = Some((now, why));
        let _ = sys::signal_own_group(sys::SIGTERM);
        let outside: Vec<tree::Member> = tree::descendants(self.me)
            .into_iter()
            .filter(|m| m.group != self.me)
            .collect();
        tree::signal_each(&outside, sys::SIGTERM);
    }

    /// SIGKILL to every descendant, round after round, until no child is
    /// left (a process forked between two rounds is killed in the next:
    /// whatever its parent, it is still a descendant); then the exit code,
    /// and whether any process was alive to be killed.
    fn kill_all(&mut self) -> (ExitCode, bool) {
        let mut killed = false;
        for _ in 0..KILL_ROUNDS {
            if !self.reap() {
                return (self.exit_code(), killed);
            }
            killed |= tree::signal_each(&tree::descendants(self.me), sys::SIGKILL);
            let _ = self.signals.wait(KILL_ROUND);
        }
        eprintln!(
            "tenure: processes of the command are still alive after {KILL_ROUNDS} rounds of SIGKILL; leaving them"
        );
        (self.exit_code(), killed)
    }

    fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.status.map_or(KILLED, shell_code))
    }
}

/// When the deadline's SIGKILL is due: `deadline − KILL_ALLOWANCE`; at
/// once without a deadline.
fn kill_at(held: Held) -> Duration {
    held.until
        .map_or(Duration::ZERO, |d| d.saturating_sub(KILL_ALLOWANCE))
}

/// When the deadline's SIGTERM is due: a grace before its SIGKILL.
fn term_at(held: Held, grace: Duration) -> Duration {
    kill_at(held).saturating_sub(grace)
}

fn failed(what: &str, e: &std::io::Error) -> ExitCode {
    eprintln!("tenure: {what}: {e}");
    ExitCode::from(SHIM_FAILED)
}

fn cannot_start(program: &OsString, e: &std::io::Error) -> ExitCode {
    eprintln!("tenure: cannot run {program:?}: {e}");
    ExitCode::from(match e.kind() {
        std::io::ErrorKind::NotFound => NOT_FOUND,
        _ => CANNOT_EXECUTE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(until_ms: Option<u64>) -> Held {
        Held {
            until: until_ms.map(Duration::from_millis),
            stop: false,
        }
    }

    #[test]
    fn the_deadline_leaves_the_grace_and_the_kill_allowance() {
        let grace = Duration::from_millis(100);
        let h = held(Some(10_000));
        assert_eq!(kill_at(h), Duration::from_millis(9_500));
        assert_eq!(term_at(h, grace), Duration::from_millis(9_400));
        assert_eq!(kill_at(held(None)), Duration::ZERO, "no deadline: now");
        assert_eq!(term_at(held(Some(300)), grace), Duration::ZERO);
    }
}

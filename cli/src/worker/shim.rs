//! The hidden `tenure __child` process: it sits between the supervisor
//! and the command, so that the command's whole process group dies with the
//! supervisor.
//!
//! It is single-threaded and blocks the signals it handles, then:
//! - starts the command in its own process group (which the supervisor
//!   created for it), with SIGKILL as the command's parent-death signal;
//! - relays SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 and SIGHUP to the
//!   whole group;
//! - when the supervisor dies (its parent-death signal SIGHUP arrives, or
//!   its parent changes), kills the whole group with SIGKILL, itself
//!   included;
//! - exits with the command's exit code, or 128 + the signal that killed
//!   it (or, if the supervisor is gone by then, kills the group first).
//!
//! The command starts with the signal mask the shim was given, not the one
//! the shim blocks for itself.

use std::ffi::OsString;
use std::process::{Command, ExitCode};
use std::time::Duration;

use crate::args::ChildArgs;
use crate::sys::{self, SignalSet};
use crate::worker::child::shell_code;

/// How often the shim checks on its parent and its command when no signal
/// comes.
const POLL: Duration = Duration::from_millis(200);

/// The shim failed before the command could start.
const SHIM_FAILED: u8 = 125;
/// The command was found but could not be executed.
const CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
const NOT_FOUND: u8 = 127;

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
        Err(e) => {
            eprintln!("tenure: cannot block signals: {e}");
            return ExitCode::from(SHIM_FAILED);
        }
    };
    // Had the supervisor died before the signals were blocked, SIGHUP would
    // have ended this process; had it died since, the parent changed.
    if sys::parent_pid() != args.parent {
        return orphaned();
    }
    let Some((program, rest)) = args.command.split_first() else {
        eprintln!("tenure: no command given");
        return ExitCode::from(SHIM_FAILED);
    };
    let me = sys::own_pid();
    let mut command = Command::new(program);
    command.args(rest);
    inherited.restore_in_child(&mut command);
    sys::die_with_parent(&mut command, sys::SIGKILL, me);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return cannot_start(program, &e),
    };
    loop {
        match child.try_wait() {
            Ok(Some(_)) if sys::parent_pid() != args.parent => return orphaned(),
            Ok(Some(status)) => return ExitCode::from(shell_code(status)),
            Ok(None) => {}
            Err(e) => {
                eprintln!("tenure: cannot wait for {program:?}: {e}");
                return orphaned();
            }
        }
        match signals.wait(POLL) {
            Some((sys::SIGCHLD, _)) => {}
            // A relayed signal coming back to the relay.
            Some((_, sender)) if sender == me => {}
            // The parent-death signal. It comes when the supervisor's
            // spawner thread ends, which happens only as the supervisor
            // dies; the parent may not have changed yet (the other threads
            // of the dying supervisor can still be exiting).
            Some((sys::SIGHUP, sender)) if sender == args.parent => return orphaned(),
            Some((sys::SIGHUP, _)) | None if sys::parent_pid() != args.parent => return orphaned(),
            Some((signal, _)) => {
                let _ = sys::signal_own_group(signal);
            }
            None => {}
        }
    }
}

/// The supervisor is gone: kill the whole group, this process included.
fn orphaned() -> ExitCode {
    let _ = sys::signal_own_group(sys::SIGKILL);
    ExitCode::from(128 + 9)
}

fn cannot_start(program: &OsString, e: &std::io::Error) -> ExitCode {
    eprintln!("tenure: cannot run {program:?}: {e}");
    ExitCode::from(match e.kind() {
        std::io::ErrorKind::NotFound => NOT_FOUND,
        _ => CANNOT_EXECUTE,
    })
}

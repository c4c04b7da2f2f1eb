//! The few system calls the supervisor needs that the standard library
//! does not offer: a parent-death signal set before `exec`, the child
//! subreaper flag, reaping any child, signals to processes and process
//! groups, waiting for signals synchronously, the boot-time clock and
//! non-blocking pipes. They are Linux's (`prctl`, `CLOCK_BOOTTIME`), as is
//! `tenure worker`. This is the only module with `unsafe` code; each block
//! says why it is sound.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::time::Duration;

pub use libc::{SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGSTOP, SIGTERM, SIGUSR1, SIGUSR2};

/// A process id.
pub type Pid = libc::pid_t;

/// The error a spawn reports when the parent died before the child could
/// arm its parent-death signal.
pub const PARENT_GONE: i32 = libc::ESRCH;

/// This process's id.
pub fn own_pid() -> Pid {
    Pid::try_from(std::process::id()).unwrap_or(Pid::MAX)
}

/// This process's parent's id (1, or a subreaper, once the parent died).
pub fn parent_pid() -> Pid {
    // SAFETY: getppid has no preconditions and cannot fail.
    unsafe { libc::getppid() }
}

/// Makes the process `command` starts receive `signal` when the thread
/// that spawned it ends (in practice: when `parent` dies, since the
/// spawning thread lasts as long as its process). If `parent` is already
/// gone when the child starts, the spawn fails with [`PARENT_GONE`].
pub fn die_with_parent(command: &mut Command, signal: libc::c_int, parent: Pid) {
    let signal = libc::c_ulong::try_from(signal).unwrap_or(libc::SIGKILL as libc::c_ulong);
    // SAFETY: the closure runs in the forked child before exec. It only
    // makes two system calls that are async-signal-safe (prctl, getppid),
    // allocates nothing and touches no lock, as `pre_exec` requires.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(PARENT_GONE));
            }
            Ok(())
        });
    }
}

/// Makes this process a child subreaper (`PR_SET_CHILD_SUBREAPER`): a
/// descendant whose parent dies is reparented to this process instead of
/// init, so every descendant stays in this process's tree until it is
/// reaped here.
///
/// # Errors
/// The system's error.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: this prctl option takes one integer argument and touches no
    // memory of the caller.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) })
}

/// What [`reap_child`] found.
#[derive(Debug)]
pub enum Reaped {
    /// This child ended; it is reaped.
    Exited(Pid, ExitStatus),
    /// Children remain, none of them has ended.
    Running,
    /// This process has no children left.
    NoChildren,
}

/// Reaps one ended child of this process, any of them, without waiting.
///
/// # Errors
/// The system's error other than "no children".
pub fn reap_child() -> io::Result<Reaped> {
    let mut status: libc::c_int = 0;
    // SAFETY: status is valid writable memory for one int; WNOHANG makes
    // the call return at once.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid > 0 {
        return Ok(Reaped::Exited(pid, ExitStatus::from_raw(status)));
    }
    if pid == 0 {
        return Ok(Reaped::Running);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ECHILD) {
        Ok(Reaped::NoChildren)
    } else {
        Err(e)
    }
}

/// The time since the machine booted, time spent suspended included
/// (`CLOCK_BOOTTIME`): a clock every process of the machine shares, which
/// keeps counting while the machine sleeps (as the servers' clocks do).
///
/// # Errors
/// The system's error (only on kernels older than 2.6.39, which lack it).
pub fn boottime() -> io::Result<Duration> {
    let mut ts = MaybeUninit::<libc::timespec>::uninit();
    // SAFETY: ts is valid writable memory for one timespec, which
    // clock_gettime fills when it succeeds.
    cvt(unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, ts.as_mut_ptr()) })?;
    // SAFETY: filled by the successful call above.
    let ts = unsafe { ts.assume_init() };
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

/// Makes reads and writes on `fd` return `WouldBlock` instead of waiting.
///
/// # Errors
/// The system's error.
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: the borrow keeps the descriptor open; F_GETFL takes no
    // argument and returns the flags.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; F_SETFL takes the flags as an integer.
    cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) })
}

/// Sends `signal` to the process `pid`.
///
/// # Errors
/// `InvalidInput` for a pid that is not a single process (≤ 0);
/// the system's error otherwise (`ESRCH` when it is gone).
pub fn signal_process(pid: Pid, signal: libc::c_int) -> io::Result<()> {
    if pid <= 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a process id",
        ));
    }
    // SAFETY: kill has no memory-safety preconditions; pid > 0 names one
    // process.
    cvt(unsafe { libc::kill(pid, signal) })
}

/// Sends `signal` to every process of the process group `pgid`.
///
/// # Errors
/// `InvalidInput` for a group id ≤ 1 (which would mean "every process");
/// the system's error otherwise (`ESRCH` when the group is empty).
pub fn signal_group(pgid: Pid, signal: libc::c_int) -> io::Result<()> {
    if pgid <= 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a process group id",
        ));
    }
    // SAFETY: as above; -pgid with pgid > 1 names one process group.
    cvt(unsafe { libc::kill(-pgid, signal) })
}

/// Sends `signal` to every process of this process's group, this one
/// included.
///
/// # Errors
/// The system's error.
pub fn signal_own_group(signal: libc::c_int) -> io::Result<()> {
    // SAFETY: as above; 0 names the caller's process group.
    cvt(unsafe { libc::kill(0, signal) })
}

fn cvt(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A set of signals that a single-threaded process blocks and then
/// receives synchronously with [`SignalSet::wait`].
pub struct SignalSet {
    set: libc::sigset_t,
}

impl SignalSet {
    /// The set of `signals`.
    pub fn new(signals: &[libc::c_int]) -> Self {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given; sigaddset
        // only fails for invalid signal numbers, which leaves the set as is.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            for &s in signals {
                libc::sigaddset(set.as_mut_ptr(), s);
            }
            SignalSet {
                set: set.assume_init(),
            }
        }
    }

    /// Blocks the set's signals in the calling thread, so they wait in
    /// [`SignalSet::wait`] instead of running their default action. Returns
    /// the mask the thread had before, to give back to children with
    /// [`SignalSet::restore_in_child`] (children inherit the mask).
    ///
    /// # Errors
    /// The system's error.
    pub fn block(&self) -> io::Result<SignalSet> {
        let mut old = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: the set is initialised; old is valid writable memory for
        // one sigset_t, which pthread_sigmask fills when it succeeds.
        let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &self.set, old.as_mut_ptr()) };
        if ret == 0 {
            // SAFETY: filled by the successful call above.
            Ok(SignalSet {
                set: unsafe { old.assume_init() },
            })
        } else {
            Err(io::Error::from_raw_os_error(ret))
        }
    }

    /// Makes the process `command` starts begin with this set as its
    /// signal mask (the standard library lets children inherit the mask of
    /// the thread that spawns them).
    pub fn restore_in_child(&self, command: &mut Command) {
        let set = self.set;
        // SAFETY: the closure runs in the forked child before exec; it only
        // calls pthread_sigmask, which is async-signal-safe, on a copied
        // initialised set, and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                let ret = libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                if ret == 0 {
                    Ok(())
                } else {
                    Err(io::Error::from_raw_os_error(ret))
                }
            });
        }
    }

    /// Waits up to `timeout` for one of the (blocked) signals; returns it
    /// with the id of the process that sent it.
    pub fn wait(&self, timeout: Duration) -> Option<(libc::c_int, Pid)> {
        let spec = libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
        };
        let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: the set and the timespec are initialised; info is valid
        // writable memory for one siginfo_t.
        let signal = unsafe { libc::sigtimedwait(&self.set, info.as_mut_ptr(), &spec) };
        if signal <= 0 {
            return None;
        }
        // SAFETY: sigtimedwait succeeded, so it filled info; si_pid is
        // meaningful for signals sent with kill and for SIGCHLD, and zero
        // (from the zeroed buffer) otherwise.
        let sender = unsafe { info.assume_init_ref().si_pid() };
        Some((signal, sender))
    }
}

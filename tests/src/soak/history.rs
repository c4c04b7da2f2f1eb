//! What the soak did and when, as the driver records it: the faults (each
//! an episode from its start to the cluster settling again), the changes
//! of the task set, worker kills and exits, and problems met on the way.
//! All instants are Unix nanoseconds, the clock of the children's lines.

use std::time::Duration;

use super::schedule::{Fault, FaultKind};
use crate::failover::Kill;

/// One applied fault.
#[derive(Clone, Debug)]
pub struct Episode {
    /// The fault as drawn.
    pub fault: Fault,
    /// Its worker's name, for worker faults.
    pub worker: Option<String>,
    /// When it began.
    pub at: u128,
    /// When it healed (the process continued or was started again, the
    /// proxy forwarded again, the server served again, the command
    /// returned).
    pub healed: u128,
    /// From when every task must be running again within the session
    /// timeout + 1 s: the fault's start when the other workers stay
    /// healthy (a worker fault, an ensemble member's crash), its heal
    /// when the whole cluster was out (a server restart, a leader's
    /// crash until the new leader serves), the command's return for a
    /// task operation.
    pub clock_from: u128,
    /// When every task ran once again, if it did within the limit.
    pub settled: Option<u128>,
}

impl Episode {
    /// The fault's kind.
    pub fn kind(&self) -> FaultKind {
        self.fault.kind()
    }
}

/// How the task set changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// `tasks add`.
    Added,
    /// `tasks rm`.
    Removed,
    /// `tasks pause`.
    Paused,
    /// `tasks resume`.
    Resumed,
}

impl Change {
    /// Whether the task is wanted running after this change.
    pub fn wanted(self) -> bool {
        matches!(self, Change::Added | Change::Resumed)
    }
}

/// One change of the task set, from the command's start to its return.
#[derive(Clone, Debug)]
pub struct TaskEvent {
    /// The task.
    pub task: String,
    /// The change.
    pub change: Change,
    /// Just before the command started.
    pub began: u128,
    /// Once it returned.
    pub returned: u128,
}

impl TaskEvent {
    /// When the task's wanted state changed, as far as the checks go: a
    /// task becomes wanted once the command returned (it may have started
    /// earlier) and unwanted when the command began (it may run until the
    /// worker learns of it).
    pub fn effective(&self) -> u128 {
        if self.change.wanted() {
            self.returned
        } else {
            self.began
        }
    }
}

/// A worker that exited after SIGTERM, or should have.
#[derive(Clone, Debug)]
pub struct Exit {
    /// The worker.
    pub worker: String,
    /// When SIGTERM was sent.
    pub signalled: u128,
    /// When it was seen gone.
    pub exited: u128,
    /// Its exit status, `None` if it had to be killed.
    pub status: Option<String>,
    /// Whether it was part of the final shutdown.
    pub last: bool,
}

/// The whole record.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The session timeout.
    pub session: Duration,
    /// The tasks at the start.
    pub initial_tasks: Vec<String>,
    /// When the cluster first ran every task (the checks start here).
    pub start: u128,
    /// When the final shutdown began (the checks of gaps end here).
    pub end: u128,
    /// When the last worker exited.
    pub all_exited: u128,
    /// The faults.
    pub episodes: Vec<Episode>,
    /// The task changes.
    pub task_events: Vec<TaskEvent>,
    /// SIGKILLs of workers.
    pub kills: Vec<Kill>,
    /// Exits after SIGTERM.
    pub exits: Vec<Exit>,
    /// Things that went wrong besides the checked invariants: a worker
    /// that exited by itself, a command that failed, a cluster that did
    /// not settle.
    pub problems: Vec<String>,
}

impl History {
    /// The bound on stranded time: the session timeout + 1 s.
    pub fn stranded_bound(&self) -> Duration {
        self.session + Duration::from_secs(1)
    }

    /// Seconds since the start, for messages.
    pub fn rel(&self, at: u128) -> String {
        let base = self.start.min(at);
        let secs = (at - base) as f64 / 1e9;
        if at < self.start {
            format!("-{:.3}s", (self.start - at) as f64 / 1e9)
        } else {
            format!("+{secs:.3}s")
        }
    }
}

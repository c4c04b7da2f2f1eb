//! The restarts of handlers that ended by themselves: when each task may
//! start again. The reconciler's restart state, owned by this file alone.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::{self, Backoff};
use crate::ids::{TaskId, WorkerId};

/// When a handler that ended by itself may be restarted.
struct Restart {
    backoff: Backoff,
    not_before: Instant,
}

/// The tasks whose handler ended by itself while this worker held them.
#[derive(Default)]
pub(super) struct Restarts {
    by_task: BTreeMap<TaskId, Restart>,
}

impl Restarts {
    /// Counts one more end of `task`'s handler (of `worker`) and schedules
    /// its restart after the backoff (100 ms doubling up to 30 s, each pause
    /// up to a tenth shorter at random, seeded by the worker and the task).
    /// Returns the pause and how many ends were counted in a row.
    pub fn note_end(&mut self, worker: &WorkerId, task: &TaskId, now: Instant) -> (Duration, u32) {
        let r = self.by_task.entry(task.clone()).or_insert_with(|| Restart {
            backoff: backoff::handler_restarts(&format!("{worker}/{task}")),
            not_before: now,
        });
        let pause = r.backoff.next_pause();
        r.not_before = now + pause;
        (pause, r.backoff.failures())
    }

    /// Forgets `task` (it is no longer held here).
    pub fn forget(&mut self, task: &TaskId) {
        self.by_task.remove(task);
    }

    /// Whether `task` may start at `now`.
    pub fn due(&self, task: &TaskId, now: Instant) -> bool {
        self.by_task.get(task).is_none_or(|r| now >= r.not_before)
    }

    /// The earliest restart still to come after `now`, if any.
    pub fn next_after(&self, now: Instant) -> Option<Instant> {
        self.by_task
            .values()
            .map(|r| r.not_before)
            .filter(|at| *at > now)
            .min()
    }
}

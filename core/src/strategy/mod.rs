//! The load strategy contract: a pure function from (live workers, tasks,
//! current assignment) to a target assignment.
//!
//! Strategies know assignments, not stores. They must be deterministic:
//! the same input gives the same output on every worker, with no hidden
//! randomness and no clock (time enters only as [`WorkerInfo::age`]).
//! The built-ins live in `tenure-strategies`; [`Sticky`] is the runtime's
//! default and lives here so the runtime has one without extra crates.
//! [`View`] indexes the input once for every strategy.

mod sticky;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::ids::{TaskId, WorkerId};

pub use sticky::Sticky;
pub use view::View;

/// Who runs what: task → worker.
pub type Assignment = BTreeMap<TaskId, WorkerId>;

/// A live worker as a strategy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    /// The worker's name.
    pub id: WorkerId,
    /// Relative capacity: a worker of capacity 2 should carry twice the
    /// task weight of a worker of capacity 1.
    pub capacity: NonZeroU32,
    /// The worker's tags; a task with tags runs only on workers that have
    /// all of them.
    pub tags: BTreeSet<String>,
    /// How long the worker has been seen alive without interruption (used
    /// by delayed rebalancing).
    pub age: Duration,
}

/// A task as a strategy sees it (paused tasks are not given to strategies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's name.
    pub id: TaskId,
    /// The task's weight.
    pub weight: NonZeroU32,
    /// Tags a worker must all have to run this task.
    pub tags: BTreeSet<String>,
    /// If set, the task runs only on this worker (and waits while it is
    /// down).
    pub pinned: Option<WorkerId>,
}

impl TaskInfo {
    /// Whether `worker` may run this task (tags and pinning).
    pub fn eligible(&self, worker: &WorkerInfo) -> bool {
        may_run(self.pinned.as_ref(), &self.tags, &worker.id, &worker.tags)
    }
}

/// The one eligibility rule: a task pinned to a worker runs only there, and
/// a task with tags runs only on a worker that has them all. The leader
/// (through [`TaskInfo::eligible`]) and the worker taking open tasks both
/// ask this.
pub(crate) fn may_run(
    pinned: Option<&WorkerId>,
    task_tags: &BTreeSet<String>,
    worker: &WorkerId,
    worker_tags: &BTreeSet<String>,
) -> bool {
    pinned.is_none_or(|p| p == worker) && task_tags.iter().all(|t| worker_tags.contains(t))
}

/// Everything a strategy may look at. Workers and tasks are sorted by name
/// and unique.
#[derive(Clone, Copy, Debug)]
pub struct StrategyInput<'a> {
    /// The live workers.
    pub workers: &'a [WorkerInfo],
    /// The tasks to place (not paused).
    pub tasks: &'a [TaskInfo],
    /// Who runs what now (may name workers that are gone and tasks that are
    /// no longer listed: ignore those).
    pub current: &'a Assignment,
}

/// What a strategy wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// Task → the worker that should run it.
    pub placements: Assignment,
    /// Tasks that any eligible worker may claim, first come first served.
    pub open: BTreeSet<TaskId>,
    /// Ask to be run again after this long even if nothing changes (for
    /// time-based decisions such as delayed rebalancing).
    pub recheck_after: Option<Duration>,
}

impl Target {
    /// Tasks of `input` that are neither placed nor open (no eligible
    /// worker).
    pub fn unplaced<'a>(&'a self, input: &StrategyInput<'a>) -> impl Iterator<Item = &'a TaskId> {
        input
            .tasks
            .iter()
            .map(|t| &t.id)
            .filter(|id| !self.placements.contains_key(*id) && !self.open.contains(*id))
    }
}

/// A load strategy.
pub trait Strategy: Debug + Send + Sync + 'static {
    /// A short name for logs and status (`sticky`, `round-robin`, …).
    fn name(&self) -> &str;

    /// Computes the target assignment. Must be deterministic. Placements must
    /// name only live workers eligible for the task.
    fn assign(&self, input: &StrategyInput<'_>) -> Target;

    /// Standby plans: for each worker of `input` that holds a task in
    /// `input.current` (one it is eligible for), where those tasks go if
    /// it leaves — what
    /// [`assign`](Strategy::assign) would answer for the other workers with
    /// the same tasks and placement, restricted to the leaving worker's
    /// tasks (leaving worker → task → successor). The leader publishes
    /// them, so that the survivors claim a dead worker's tasks as soon as
    /// its session ends, before any leader round; the round after then
    /// keeps them where the plan put them.
    ///
    /// The default asks `assign` once per worker holding a task: 1.3 s at
    /// 10,000 tasks × 100 workers for [`Sticky`]'s `assign`, which is why
    /// [`Sticky`] answers from one reading of the input instead (23 ms). A
    /// strategy whose answer does not depend on the current placement
    /// (hashing) is served well by the default.
    fn standby(&self, input: &StrategyInput<'_>) -> BTreeMap<WorkerId, Assignment> {
        let info: BTreeMap<&TaskId, &TaskInfo> = input.tasks.iter().map(|t| (&t.id, t)).collect();
        let mut out = BTreeMap::new();
        for leaving in input.workers {
            let holds = |t: &TaskId| {
                input.current.get(t) == Some(&leaving.id)
                    && info.get(t).is_some_and(|i| i.eligible(leaving))
            };
            if !input.current.keys().any(holds) {
                continue;
            }
            let others: Vec<WorkerInfo> = input
                .workers
                .iter()
                .filter(|w| w.id != leaving.id)
                .cloned()
                .collect();
            if others.is_empty() {
                continue;
            }
            let next = self.assign(&StrategyInput {
                workers: &others,
                tasks: input.tasks,
                current: input.current,
            });
            let theirs: Assignment = next
                .placements
                .into_iter()
                .filter(|(t, _)| holds(t))
                .collect();
            out.insert(leaving.id.clone(), theirs);
        }
        out
    }
}

impl<S: Strategy + ?Sized> Strategy for std::sync::Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        (**self).assign(input)
    }
    fn standby(&self, input: &StrategyInput<'_>) -> BTreeMap<WorkerId, Assignment> {
        (**self).standby(input)
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        (**self).assign(input)
    }
    fn standby(&self, input: &StrategyInput<'_>) -> BTreeMap<WorkerId, Assignment> {
        (**self).standby(input)
    }
}

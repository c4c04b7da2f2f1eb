//! The input as a strategy reads it: workers and tasks by index in name
//! order, each task with its eligible workers and its valid placement.

use std::collections::BTreeMap;

use super::{StrategyInput, TaskInfo, WorkerInfo};
use crate::ids::{TaskId, WorkerId};

/// A [`StrategyInput`] indexed once: workers and tasks by index, both in
/// name order whatever the order of the input slices, duplicates dropped.
///
/// Indices into [`workers`](Self::workers) and [`tasks`](Self::tasks) are
/// what the other fields hold, so a strategy can work on plain vectors of
/// numbers and name the winners at the end.
///
/// ```
/// use std::collections::BTreeSet;
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// use tenure_core::strategy::{Assignment, StrategyInput, TaskInfo, View, WorkerInfo};
///
/// let worker = |n: &str| WorkerInfo {
///     id: n.parse().unwrap(),
///     capacity: NonZeroU32::MIN,
///     tags: BTreeSet::new(),
///     age: Duration::ZERO,
/// };
/// let task = |n: &str, pinned: Option<&str>| TaskInfo {
///     id: n.parse().unwrap(),
///     weight: NonZeroU32::MIN,
///     tags: BTreeSet::new(),
///     pinned: pinned.map(|p| p.parse().unwrap()),
/// };
/// // Out of order on purpose: the view sorts by name.
/// let workers = [worker("b"), worker("a")];
/// let tasks = [task("t2", Some("b")), task("t1", None)];
/// // `t2` runs on `a`, where it may not run (it is pinned to `b`).
/// let current: Assignment = [("t2".parse().unwrap(), "a".parse().unwrap())].into();
/// let input = StrategyInput { workers: &workers, tasks: &tasks, current: &current };
///
/// let view = View::new(&input);
/// assert_eq!(view.workers[0].id.as_str(), "a");
/// assert_eq!(view.tasks[0].id.as_str(), "t1");
/// assert_eq!(view.eligible, vec![vec![0, 1], vec![1]]);
/// assert_eq!(view.current, vec![None, None]);
/// assert_eq!(view.task_index(&"t2".parse().unwrap()), Some(1));
/// ```
#[derive(Clone, Debug)]
pub struct View<'a> {
    /// The live workers, by name.
    pub workers: Vec<&'a WorkerInfo>,
    /// The tasks, by name.
    pub tasks: Vec<&'a TaskInfo>,
    /// Per task, its eligible workers ([`TaskInfo::eligible`]), ascending
    /// index, i.e. by name.
    pub eligible: Vec<Vec<usize>>,
    /// Per task, its current worker if that worker is live and eligible.
    pub current: Vec<Option<usize>>,
}

impl<'a> View<'a> {
    /// Indexes `input`.
    pub fn new(input: &StrategyInput<'a>) -> Self {
        let workers = by_name(input.workers);
        let mut tasks: Vec<&TaskInfo> = input.tasks.iter().collect();
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        tasks.dedup_by(|a, b| a.id == b.id);
        let index: BTreeMap<&WorkerId, usize> = workers
            .iter()
            .enumerate()
            .map(|(i, w)| (&w.id, i))
            .collect();
        let eligible: Vec<Vec<usize>> = tasks
            .iter()
            .map(|t| {
                (0..workers.len())
                    .filter(|&w| t.eligible(workers[w]))
                    .collect()
            })
            .collect();
        let current = tasks
            .iter()
            .zip(&eligible)
            .map(|(t, el)| {
                let w = *input.current.get(&t.id).and_then(|w| index.get(w))?;
                el.binary_search(&w).is_ok().then_some(w)
            })
            .collect();
        View {
            workers,
            tasks,
            eligible,
            current,
        }
    }

    /// The tasks grouped by their set of eligible workers, each group in
    /// name order; tasks with no eligible worker are left out. Without tags
    /// and pinning there is one group: every task, every worker.
    pub fn classes(&self) -> BTreeMap<&[usize], Vec<usize>> {
        let mut classes: BTreeMap<&[usize], Vec<usize>> = BTreeMap::new();
        for (t, el) in self.eligible.iter().enumerate() {
            if !el.is_empty() {
                classes.entry(el.as_slice()).or_default().push(t);
            }
        }
        classes
    }

    /// The index of a worker by name.
    pub fn worker_index(&self, id: &WorkerId) -> Option<usize> {
        self.workers.binary_search_by(|w| w.id.cmp(id)).ok()
    }

    /// The index of a task by name.
    pub fn task_index(&self, id: &TaskId) -> Option<usize> {
        self.tasks.binary_search_by(|t| t.id.cmp(id)).ok()
    }

    /// The weight of task `t`.
    pub fn weight(&self, t: usize) -> u64 {
        u64::from(self.tasks[t].weight.get())
    }

    /// The capacity of worker `w`.
    pub fn capacity(&self, w: usize) -> u64 {
        u64::from(self.workers[w].capacity.get())
    }
}

/// `workers` in name order, duplicates dropped.
pub(super) fn by_name(workers: &[WorkerInfo]) -> Vec<&WorkerInfo> {
    let mut v: Vec<&WorkerInfo> = workers.iter().collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v.dedup_by(|a, b| a.id == b.id);
    v
}

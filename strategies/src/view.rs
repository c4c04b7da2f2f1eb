//! The input as the built-in strategies read it: workers and tasks in name
//! order (whatever the order of the slices), each task with its eligible
//! workers, and the valid current placements.

use std::collections::BTreeMap;

use tenure_core::WorkerId;
use tenure_core::strategy::{StrategyInput, TaskInfo, WorkerInfo};

/// Workers and tasks by index, both in name order, duplicates dropped.
pub(crate) struct View<'a> {
    /// The live workers, by name.
    pub workers: Vec<&'a WorkerInfo>,
    /// The tasks, by name.
    pub tasks: Vec<&'a TaskInfo>,
    /// Per task, its eligible workers (ascending index, i.e. by name).
    pub eligible: Vec<Vec<usize>>,
    /// Per task, its current worker if that worker is live and eligible.
    pub current: Vec<Option<usize>>,
}

impl<'a> View<'a> {
    pub fn new(input: &StrategyInput<'a>) -> Self {
        let mut workers: Vec<&WorkerInfo> = input.workers.iter().collect();
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        workers.dedup_by(|a, b| a.id == b.id);
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
    pub fn task_index(&self, id: &tenure_core::TaskId) -> Option<usize> {
        self.tasks.binary_search_by(|t| t.id.cmp(id)).ok()
    }
}

/// A task's weight, at least 1.
pub(crate) fn weight(t: &TaskInfo) -> u64 {
    u64::from(t.weight.max(1))
}

/// A worker's capacity, at least 1.
pub(crate) fn capacity(w: &WorkerInfo) -> u64 {
    u64::from(w.capacity.max(1))
}

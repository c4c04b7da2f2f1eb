//! Who runs what, by the handlers' own history, and what "balanced" means.

use std::collections::BTreeMap;

use tenure_core::{TaskId, WorkerId};

/// The one worker running each running task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Task → the worker running it.
    pub runs: BTreeMap<TaskId, WorkerId>,
}

impl Placement {
    /// From the history's running handlers.
    ///
    /// # Errors
    /// When a task runs on two workers at once.
    pub fn from_running(
        running: BTreeMap<TaskId, Vec<(WorkerId, u64)>>,
    ) -> Result<Placement, String> {
        let mut runs = BTreeMap::new();
        for (task, runners) in running {
            match runners.as_slice() {
                [] => {}
                [(worker, _)] => {
                    runs.insert(task, worker.clone());
                }
                many => return Err(format!("{task} runs on {many:?} at once")),
            }
        }
        Ok(Placement { runs })
    }

    /// How many tasks `worker` runs.
    pub fn count_on(&self, worker: &str) -> usize {
        self.runs.values().filter(|w| w.as_str() == worker).count()
    }

    /// The tasks `worker` runs.
    pub fn tasks_on(&self, worker: &str) -> Vec<TaskId> {
        self.runs
            .iter()
            .filter(|(_, w)| w.as_str() == worker)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Whether all `tasks` run, each of `workers` runs ⌊tasks/workers⌋ or
    /// ⌈tasks/workers⌉ of them, and nobody else runs any.
    pub fn is_balanced(&self, tasks: usize, workers: &[String]) -> bool {
        if self.runs.len() != tasks || workers.is_empty() {
            return false;
        }
        let (low, high) = (tasks / workers.len(), tasks.div_ceil(workers.len()));
        let on_them: usize = workers.iter().map(|w| self.count_on(w)).sum();
        on_them == tasks
            && workers
                .iter()
                .all(|w| (low..=high).contains(&self.count_on(w)))
    }

    /// How many tasks run on another worker in `later` than here (tasks
    /// that stopped meanwhile count, tasks that started do not).
    pub fn moved_to(&self, later: &Placement) -> usize {
        self.runs
            .iter()
            .filter(|(t, w)| later.runs.get(*t) != Some(*w))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(pairs: &[(&str, &str)]) -> Placement {
        let runs = pairs
            .iter()
            .map(|(t, w)| (TaskId::new(t).unwrap(), WorkerId::new(w).unwrap()))
            .collect();
        Placement { runs }
    }

    fn names(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn balanced_means_everything_runs_within_one_of_the_share() {
        let p = placement(&[("T0", "A"), ("T1", "A"), ("T2", "B")]);
        assert!(p.is_balanced(3, &names(&["A", "B"])));
        assert!(
            !p.is_balanced(4, &names(&["A", "B"])),
            "a task does not run"
        );
        assert!(!p.is_balanced(3, &names(&["A", "B", "C"])), "C runs none");
        assert!(!p.is_balanced(3, &names(&["A"])), "B is not counted");
    }

    #[test]
    fn moves_count_tasks_whose_runner_changed() {
        let before = placement(&[("T0", "A"), ("T1", "A"), ("T2", "B")]);
        let after = placement(&[("T0", "A"), ("T1", "B"), ("T2", "B"), ("T3", "B")]);
        assert_eq!(before.moved_to(&after), 1);
        assert_eq!(before.tasks_on("A").len(), 2);
    }

    #[test]
    fn two_runners_of_one_task_are_an_error() {
        let w = |n: &str| WorkerId::new(n).unwrap();
        let running =
            BTreeMap::from([(TaskId::new("T0").unwrap(), vec![(w("A"), 1), (w("B"), 2)])]);
        assert!(Placement::from_running(running).is_err());
    }
}

//! The checker of a run log: no task ever ran twice at once, tokens
//! increase, and every run stopped (or its process was killed).

use std::collections::BTreeMap;
use std::time::Duration;

use super::runlog::{Kill, Run, RunLog};

impl RunLog {
    /// Checks the whole history; see [`check_runs`].
    ///
    /// # Errors
    /// Every violation found, one message each.
    pub fn check(&self, kills: &[Kill], all_stopped: bool) -> Result<usize, Vec<String>> {
        check_runs(&self.runs(), kills, all_stopped)
    }
}

/// Which invariant a [`Violation`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// Two runs of one task overlapped in time.
    Overlap,
    /// A later run of a task had a token not above the earlier one's.
    TokenOrder,
    /// A run never stopped although every run should have.
    NeverStopped,
    /// A run logged its stop after its process had been killed.
    StoppedAfterKill,
}

/// One broken invariant, with the runs that prove it.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Which invariant.
    pub kind: ViolationKind,
    /// What happened, for a person.
    pub message: String,
    /// The runs involved, earliest first.
    pub runs: Vec<Run>,
}

/// Checks runs against the invariants, returning how many runs there were;
/// see [`violations`].
///
/// # Errors
/// Every violation found, one message each.
pub fn check_runs(runs: &[Run], kills: &[Kill], all_stopped: bool) -> Result<usize, Vec<String>> {
    let found = violations(runs, kills, all_stopped);
    if found.is_empty() {
        Ok(runs.len())
    } else {
        Err(found.into_iter().map(|v| v.message).collect())
    }
}

/// Every violation of the invariants in `runs`:
///
/// - per task, runs ordered by start do not overlap: each run stopped
///   before the next one started (if any two runs overlap, so do two
///   neighbours in that order, so checking neighbours finds every task
///   that ran twice);
/// - tokens strictly increase per task in that order;
/// - a run without a stop belongs to a killed worker and started before
///   the kill (it ended when the process was reaped), or, unless
///   `all_stopped`, is still running.
pub fn violations(runs: &[Run], kills: &[Kill], all_stopped: bool) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut by_task: BTreeMap<&str, Vec<(&Run, Option<u128>)>> = BTreeMap::new();
    let single = |kind, what: &str, run: &Run| Violation {
        kind,
        message: format!("{} token {} on {} {what}", run.task, run.token, run.worker),
        runs: vec![run.clone()],
    };
    for run in runs {
        let killed = kills
            .iter()
            .filter(|k| k.worker == run.worker && run.start < k.at)
            .map(|k| k.dead)
            .min();
        let end = match (run.stop, killed) {
            (Some(stop), Some(dead)) if stop > dead => {
                let what = "stopped after its process was killed";
                violations.push(single(ViolationKind::StoppedAfterKill, what, run));
                Some(stop)
            }
            (Some(stop), _) => Some(stop),
            (None, Some(dead)) => Some(dead),
            (None, None) => {
                if all_stopped {
                    let what = "started but never stopped";
                    violations.push(single(ViolationKind::NeverStopped, what, run));
                }
                None
            }
        };
        by_task.entry(&run.task).or_default().push((run, end));
    }
    for (task, task_runs) in &mut by_task {
        task_runs.sort_by_key(|(run, _)| run.start);
        for pair in task_runs.windows(2) {
            let ((a, a_end), (b, _)) = (pair[0], pair[1]);
            let overlap = match a_end {
                Some(end) if end < b.start => None,
                Some(end) => Some(format!(
                    "{task} ran twice: token {} on {} until {end}, token {} on {} from {} ({:?} of overlap)",
                    a.token,
                    a.worker,
                    b.token,
                    b.worker,
                    b.start,
                    Duration::from_nanos((end - b.start) as u64)
                )),
                None => Some(format!(
                    "{task} ran twice: token {} on {} still runs, token {} on {} started at {}",
                    a.token, a.worker, b.token, b.worker, b.start
                )),
            };
            let falling = (b.token <= a.token).then(|| {
                format!(
                    "{task}: token {} on {} after token {} on {}: tokens must increase",
                    b.token, b.worker, a.token, a.worker
                )
            });
            let found = [
                (ViolationKind::Overlap, overlap),
                (ViolationKind::TokenOrder, falling),
            ];
            for (kind, message) in found {
                if let Some(message) = message {
                    let runs = vec![a.clone(), b.clone()];
                    violations.push(Violation {
                        kind,
                        message,
                        runs,
                    });
                }
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(task: &str, token: u64, worker: &str, start: u128, stop: Option<u128>) -> Run {
        Run {
            task: task.into(),
            token,
            worker: worker.into(),
            start,
            stop,
        }
    }

    #[test]
    fn sequential_runs_with_rising_tokens_pass() {
        let runs = [
            run("T", 1, "a", 10, Some(20)),
            run("T", 2, "b", 21, Some(30)),
        ];
        assert_eq!(check_runs(&runs, &[], true), Ok(2));
    }

    #[test]
    fn overlap_falling_tokens_and_missing_stops_are_reported() {
        let runs = [run("T", 2, "a", 10, Some(25)), run("T", 1, "b", 20, None)];
        let errors = check_runs(&runs, &[], true).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn a_killed_workers_runs_end_at_the_kill() {
        let kill = Kill {
            worker: "a".into(),
            at: 50,
            dead: 55,
        };
        let ok = [run("T", 1, "a", 10, None), run("T", 2, "b", 60, Some(70))];
        assert_eq!(check_runs(&ok, std::slice::from_ref(&kill), true), Ok(2));
        let early = [run("T", 1, "a", 10, None), run("T", 2, "b", 52, Some(70))];
        assert!(check_runs(&early, &[kill], true).is_err());
    }
}

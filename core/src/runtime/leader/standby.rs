//! Standby plans: where each worker's tasks go if it leaves, decided ahead
//! of time so that the survivors can take them over without waiting for a
//! leader round.
//!
//! When a worker's session ends, the server deletes its registration and
//! its ownership records together. Without a plan, its tasks wait for the
//! leader to notice, read what changed, ask the strategy and publish new
//! targets, and for each survivor to read its target: one leader round
//! and two round trips after the deletion (about 250 ms at 10,000 tasks ×
//! 20 workers on ZooKeeper), and a whole election and first round when the
//! worker that left was the leader. With a plan, every target also names,
//! for each other worker, the tasks this worker takes if that one leaves
//! (`standby` in [`TargetRecord`](crate::runtime::records::TargetRecord));
//! each worker watches the registrations, and when one in its plans goes,
//! it claims that worker's tasks at once (see the worker's `wanted.rs`).
//! The leader's next round then publishes the same placement (it asks the
//! same strategy the same question), so nothing moves twice.
//!
//! A plan is a hint, never a permission: claims are what keep a task on one
//! worker (see `claim.rs`), so a stale plan can at worst claim a task the
//! next target moves elsewhere. The plan for a leaving worker `w` is the
//! strategy's own answer for the cluster without `w`, from the placement
//! just published ([`Strategy::standby`]), computed only when the
//! placement or the live workers changed, after the placement itself was
//! published (so it delays no move). The leader's round after a departure
//! counts the departed worker's tasks where their plan put them
//! ([`Standby::successors`]), whether or not the successors' claims have
//! landed yet, so the strategy sees the same placement the plan was
//! computed to become and keeps it.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;
use tracing::debug;

use crate::ids::{TaskId, WorkerId};
use crate::runtime::records::Revision;
use crate::strategy::{Assignment, Strategy, StrategyInput, TaskInfo, WorkerInfo};

/// Successor → leaving worker → the tasks the successor takes, with the
/// revision of each task node.
pub(super) type Plans = BTreeMap<WorkerId, BTreeMap<WorkerId, BTreeMap<TaskId, Revision>>>;

/// A worker as plans depend on it: name, capacity, tags (ages move with
/// time and are left out).
type WorkerKey = (WorkerId, u32, Vec<String>);

/// Plans that took at most this long to compute last time are computed
/// before the placement is published and written with it: one target
/// write per worker instead of two, for a delay of the moves no longer
/// than this. `Sticky` answers within it up to 10,000 tasks × 100 workers
/// (23 ms alone, 58–81 ms in a benchmark process that also runs the 100
/// workers, release build); the default `Strategy::standby` (one `assign`
/// per worker) does not at that size (1.3 s), and its plans follow the
/// placement in a second write.
pub(super) const WITH_THE_PLACEMENT: Duration = Duration::from_millis(100);

/// The plans computed for one placement.
#[derive(Default)]
pub(super) struct Standby {
    /// What they were computed from: the placement and the workers.
    from: Option<(Assignment, Vec<WorkerKey>)>,
    plans: Plans,
    /// How long the last computation took.
    took: Option<Duration>,
}

impl Standby {
    /// Whether `placed` on `workers` is not what the plans were computed
    /// from.
    pub fn stale(&self, placed: &Assignment, workers: &[WorkerInfo]) -> bool {
        self.from
            .as_ref()
            .is_none_or(|(p, w)| p != placed || *w != key(workers))
    }

    /// Computes the plans for `placed` (the placement just published) with
    /// `strategy` ([`Strategy::standby`]).
    pub fn compute(
        &mut self,
        strategy: &dyn Strategy,
        workers: &[WorkerInfo],
        tasks: &[TaskInfo],
        placed: &Assignment,
        revisions: &BTreeMap<TaskId, Revision>,
    ) {
        let began = Instant::now();
        let mut plans = Plans::new();
        let next = strategy.standby(&StrategyInput {
            workers,
            tasks,
            current: placed,
        });
        for (leaving, tasks) in next {
            for (task, successor) in tasks {
                if placed.get(&task) != Some(&leaving) || successor == leaving {
                    continue;
                }
                if let Some(revision) = revisions.get(&task) {
                    plans
                        .entry(successor)
                        .or_default()
                        .entry(leaving.clone())
                        .or_default()
                        .insert(task, *revision);
                }
            }
        }
        self.from = Some((placed.clone(), key(workers)));
        self.plans = plans;
        let took = began.elapsed();
        debug!(?took, "standby plans computed");
        self.took = Some(took);
    }

    /// Whether the last computation took at most [`WITH_THE_PLACEMENT`]
    /// (never before the first one).
    pub fn quick(&self) -> bool {
        self.took.is_some_and(|took| took <= WITH_THE_PLACEMENT)
    }

    /// The plans still true of `placed`: only live leaving workers, only
    /// tasks still placed on them, with the revisions of `revisions`. Used
    /// for the placement's own publish, before the plans are computed
    /// again: a plan naming a worker that has left would make its
    /// successor claim tasks already placed elsewhere.
    pub fn still_true(&self, placed: &Assignment, revisions: &BTreeMap<TaskId, Revision>) -> Plans {
        let mut kept = Plans::new();
        for (successor, leaving) in &self.plans {
            for (from, tasks) in leaving {
                let still: BTreeMap<TaskId, Revision> = tasks
                    .keys()
                    .filter(|t| placed.get(*t) == Some(from))
                    .filter_map(|t| Some((t.clone(), *revisions.get(t)?)))
                    .collect();
                if !still.is_empty() {
                    kept.entry(successor.clone())
                        .or_default()
                        .insert(from.clone(), still);
                }
            }
        }
        kept
    }

    /// The plans as computed.
    pub fn plans(&self) -> &Plans {
        &self.plans
    }

    /// Task → planned successor, for the tasks of workers not in `live`
    /// (who has left), on successors in `live`.
    pub fn successors(&self, live: &[WorkerId]) -> BTreeMap<TaskId, WorkerId> {
        let mut out = BTreeMap::new();
        for (successor, leaving) in &self.plans {
            if !live.contains(successor) {
                continue;
            }
            for (from, tasks) in leaving {
                if live.contains(from) {
                    continue;
                }
                for task in tasks.keys() {
                    out.insert(task.clone(), successor.clone());
                }
            }
        }
        out
    }
}

fn key(workers: &[WorkerInfo]) -> Vec<WorkerKey> {
    workers
        .iter()
        .map(|w| {
            (
                w.id.clone(),
                w.capacity.get(),
                w.tags.iter().cloned().collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;
    use crate::store::{Incarnation, Version};
    use crate::strategy::Sticky;

    fn worker(id: &str) -> WorkerInfo {
        WorkerInfo {
            id: WorkerId::new(id).unwrap(),
            capacity: NonZeroU32::MIN,
            tags: BTreeSet::new(),
            age: Duration::from_secs(60),
        }
    }

    fn task(i: usize) -> TaskInfo {
        TaskInfo {
            id: TaskId::new(format!("t{i:02}")).unwrap(),
            weight: NonZeroU32::MIN,
            tags: BTreeSet::new(),
            pinned: None,
        }
    }

    fn revisions(tasks: &[TaskInfo]) -> BTreeMap<TaskId, Revision> {
        tasks
            .iter()
            .map(|t| {
                (
                    t.id.clone(),
                    Revision {
                        incarnation: Incarnation(1),
                        version: Version(0),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn each_task_has_one_successor_and_the_plan_is_what_the_strategy_does_later() {
        let workers: Vec<WorkerInfo> = ["a", "b", "c"].into_iter().map(worker).collect();
        let tasks: Vec<TaskInfo> = (0..30).map(task).collect();
        let strategy = Sticky;
        let empty = Assignment::new();
        let placed = strategy
            .assign(&StrategyInput {
                workers: &workers,
                tasks: &tasks,
                current: &empty,
            })
            .placements;
        let mut standby = Standby::default();
        assert!(standby.stale(&placed, &workers));
        standby.compute(&strategy, &workers, &tasks, &placed, &revisions(&tasks));
        assert!(!standby.stale(&placed, &workers));
        for leaving in &workers {
            // Every task of the leaving worker has exactly one successor,
            // never itself.
            let mut planned: Vec<(&TaskId, &WorkerId)> = standby
                .plans()
                .iter()
                .filter_map(|(s, by)| Some((s, by.get(&leaving.id)?)))
                .flat_map(|(s, tasks)| tasks.keys().map(move |t| (t, s)))
                .collect();
            planned.sort();
            let theirs: Vec<&TaskId> = placed
                .iter()
                .filter(|(_, w)| **w == leaving.id)
                .map(|(t, _)| t)
                .collect();
            assert_eq!(planned.iter().map(|(t, _)| *t).collect::<Vec<_>>(), theirs);
            assert!(planned.iter().all(|(_, s)| **s != leaving.id));
            // The leader's round after the departure, with the survivors
            // already holding their planned tasks, moves nothing.
            let others: Vec<WorkerInfo> = workers
                .iter()
                .filter(|w| w.id != leaving.id)
                .cloned()
                .collect();
            let mut after = placed.clone();
            for (t, s) in &planned {
                after.insert((*t).clone(), (*s).clone());
            }
            let next = strategy.assign(&StrategyInput {
                workers: &others,
                tasks: &tasks,
                current: &after,
            });
            assert_eq!(next.placements, after, "{} left", leaving.id);
        }
    }

    #[test]
    fn plans_naming_a_departed_worker_or_a_moved_task_are_not_kept() {
        let workers: Vec<WorkerInfo> = ["a", "b"].into_iter().map(worker).collect();
        let tasks: Vec<TaskInfo> = (0..4).map(task).collect();
        let strategy = Sticky;
        let placed: Assignment = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), workers[i % 2].id.clone()))
            .collect();
        let mut standby = Standby::default();
        let revs = revisions(&tasks);
        standby.compute(&strategy, &workers, &tasks, &placed, &revs);
        assert_eq!(standby.still_true(&placed, &revs), *standby.plans());
        // a left: b holds everything now; nothing of the plans is true.
        let all_b: Assignment = tasks
            .iter()
            .map(|t| (t.id.clone(), workers[1].id.clone()))
            .collect();
        let kept = standby.still_true(&all_b, &revs);
        assert!(
            kept.values().all(|by| !by.contains_key(&workers[0].id)),
            "{kept:?}"
        );
        assert!(!kept.contains_key(&workers[1].id), "{kept:?}");
        assert!(standby.stale(&all_b, &workers[1..]));
    }
}

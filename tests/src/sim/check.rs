//! What the simulation checks once healed: every task on exactly one live
//! worker as the strategy wants, and handler runs that outlived their stop
//! instant.

use std::time::Duration;

use tenure_core::strategy::{Assignment, Sticky, Strategy, StrategyInput, TaskInfo, WorkerInfo};
use tenure_core::{TaskId, WorkerId};

use super::{Sim, stop_instants};

impl Sim {
    /// After [`Sim::heal`]: every unpaused task runs exactly once on a live
    /// worker, and the assignment is what the strategy wants.
    pub async fn check_settled(&self) -> Result<(), String> {
        let live: Vec<WorkerId> = self
            .slots
            .iter()
            .filter(|s| s.running.is_some())
            .map(|s| s.id.clone())
            .collect();
        let running = self.history.running();
        let wanted: Vec<&TaskId> = self
            .tasks
            .iter()
            .filter(|(_, p)| !**p)
            .map(|(t, _)| t)
            .collect();
        if live.is_empty() {
            if !running.is_empty() {
                return Err(format!("no live worker, yet running: {running:?}"));
            }
            return Ok(());
        }
        let mut current = Assignment::new();
        for t in &wanted {
            match running.get(*t).map(Vec::as_slice) {
                Some([(w, _)]) if live.contains(w) => {
                    current.insert((*t).clone(), w.clone());
                }
                other => return Err(format!("task {t} runs on {other:?}, live workers {live:?}")),
            }
        }
        for t in running.keys() {
            if !wanted.contains(&t) {
                return Err(format!("task {t} runs but is paused or removed"));
            }
        }
        let workers: Vec<WorkerInfo> = live
            .iter()
            .map(|id| WorkerInfo {
                id: id.clone(),
                capacity: std::num::NonZeroU32::MIN,
                tags: Default::default(),
                age: Duration::from_secs(3600),
            })
            .collect();
        let tasks: Vec<TaskInfo> = wanted
            .iter()
            .map(|t| TaskInfo {
                id: (*t).clone(),
                weight: std::num::NonZeroU32::MIN,
                tags: Default::default(),
                pinned: None,
            })
            .collect();
        let target = Sticky.assign(&StrategyInput {
            workers: &workers,
            tasks: &tasks,
            current: &current,
        });
        if target.placements != current {
            return Err(format!(
                "assignment {current:?} is not the strategy's fixed point {:?}",
                target.placements
            ));
        }
        Ok(())
    }

    /// The handler runs that went on at or past their stop instant, as
    /// the answers each worker got allow (a handler may take its stop delay
    /// once cancelled, up to the stop timeout).
    pub fn late_runs(&self) -> Vec<String> {
        let timing = self.timing.timing();
        let longest = self.stop_delays.iter().max().copied().unwrap_or_default();
        let reach = stop_instants::reach(&timing, longest.min(timing.stop_timeout));
        self.slots
            .iter()
            .flat_map(|slot| {
                stop_instants::runs_of(&self.history, &slot.id, &slot.answers.answers(), reach)
                    .into_iter()
                    .filter_map(|run| {
                        let late = run.late?;
                        Some(format!(
                            "{} {} token {}: {late}",
                            slot.id, run.task, run.token
                        ))
                    })
            })
            .collect()
    }
}

//! `FirstCome`: no target; unowned tasks go to whichever worker claims them
//! first.

use tenure_core::strategy::{Strategy, StrategyInput, Target, View};

/// Keeps every task where it runs and lets the workers race for the rest.
///
/// A task whose current worker is live and eligible stays there (as a
/// placement, so it is not handed off). Every other task that at least one
/// live worker is eligible for goes into [`Target::open`]: any eligible
/// worker may claim it, and the first claim wins. Tasks no live worker is
/// eligible for are neither placed nor open.
///
/// This is the behaviour of two instances competing for a task when it
/// starts, with failover to the survivor. It never rebalances: a worker
/// that joins gets only tasks that become free, whatever the load of the
/// others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FirstCome;

impl Strategy for FirstCome {
    fn name(&self) -> &str {
        "first-come"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        let view = View::new(input);
        let mut target = Target::default();
        for (t, task) in view.tasks.iter().enumerate() {
            if let Some(w) = view.current[t] {
                target
                    .placements
                    .insert(task.id.clone(), view.workers[w].id.clone());
            } else if !view.eligible[t].is_empty() {
                target.open.insert(task.id.clone());
            }
        }
        target
    }
}

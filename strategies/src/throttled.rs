//! `Throttled`: Helix's throttling — a cap on how many running tasks move
//! per rebalance round.

use std::time::Duration;

use tenure_core::strategy::{Strategy, StrategyInput, Target, View};
use tracing::debug;

/// How long [`Throttled`] asks to wait before the next round by default
/// when it has held moves back.
pub const DEFAULT_RECHECK: Duration = Duration::from_secs(1);

/// Wraps a strategy so that at most `max_moves` running tasks change worker
/// per round (Helix's rebalance throttling).
///
/// A *move* is a task whose current worker is live and eligible for it and
/// that the inner strategy places elsewhere, opens or leaves unplaced. The
/// first `max_moves` moves in task-name order are made; every other one is
/// undone: the task stays placed on its current worker this round. Tasks
/// without a valid current worker (orphans, new tasks, tasks no longer
/// eligible where they run) are never held back. With `max_moves = 0`,
/// running tasks never move.
///
/// When moves are held back, `recheck_after` is at most the recheck delay
/// ([`DEFAULT_RECHECK`] unless set), so the next batch follows; the
/// ownership changes of the allowed moves also trigger a new round.
#[derive(Clone, Debug)]
pub struct Throttled<S> {
    inner: S,
    max_moves: usize,
    recheck: Duration,
    name: String,
}

impl<S: Strategy> Throttled<S> {
    /// Wraps `inner`, allowing at most `max_moves` moves per round.
    pub fn new(inner: S, max_moves: usize) -> Self {
        let name = format!("throttled({})", inner.name());
        Throttled {
            inner,
            max_moves,
            recheck: DEFAULT_RECHECK,
            name,
        }
    }

    /// Sets how long to wait before the next round when moves were held
    /// back.
    pub fn with_recheck(mut self, recheck: Duration) -> Self {
        self.recheck = recheck;
        self
    }

    /// The cap.
    pub fn max_moves(&self) -> usize {
        self.max_moves
    }

    /// The wrapped strategy.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Strategy> Strategy for Throttled<S> {
    fn name(&self) -> &str {
        &self.name
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        let mut target = self.inner.assign(input);
        let view = View::new(input);
        let mut moves = 0usize;
        let mut held = 0usize;
        for (t, task) in view.tasks.iter().enumerate() {
            let Some(current) = view.current[t] else {
                continue;
            };
            let current = &view.workers[current].id;
            if target.placements.get(&task.id) == Some(current) {
                continue;
            }
            if moves < self.max_moves {
                moves += 1;
                continue;
            }
            held += 1;
            target.open.remove(&task.id);
            target.placements.insert(task.id.clone(), current.clone());
        }
        if held > 0 {
            debug!(strategy = %self.name, moves, held, "moves held back");
            let wait = self.recheck;
            target.recheck_after = Some(target.recheck_after.map_or(wait, |r| r.min(wait)));
        }
        target
    }
}

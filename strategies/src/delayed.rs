//! `Delayed`: Helix's delayed rebalance — a joining worker gets running
//! tasks only after its membership has settled.

use std::collections::BTreeMap;
use std::time::Duration;

use tenure_core::strategy::{Strategy, StrategyInput, Target, View};
use tracing::debug;

/// Wraps a strategy so that workers younger than a window receive no task
/// that is running elsewhere (Helix's `DELAY_REBALANCE_TIME`).
///
/// A worker is *young* while its [`age`](tenure_core::strategy::WorkerInfo::age)
/// is below the window, *settled* after. After the inner strategy has
/// decided, each placement on a young worker `y` is checked, tasks in name
/// order:
///
/// * the task already runs on `y` (validly): kept;
/// * it runs validly on another live worker: it stays there;
/// * it runs nowhere valid (its worker left, it is new, or it is no longer
///   eligible where it runs): it is placed at once, on the settled eligible
///   worker with the least load per unit of capacity after the placement
///   (ties: by name), or left on `y` if no settled worker is eligible.
///
/// So a worker that disappears has its tasks taken over at once, while a
/// flapping or freshly started worker causes no handoffs. `recheck_after`
/// is the time until the first worker that was refused something settles
/// (or the inner strategy's, if sooner), so the handoffs happen then.
/// Open tasks (see [`FirstCome`](crate::FirstCome)) are left as they are:
/// any eligible worker may claim them.
#[derive(Clone, Debug)]
pub struct Delayed<S> {
    inner: S,
    window: Duration,
    name: String,
}

impl<S: Strategy> Delayed<S> {
    /// Wraps `inner`; workers younger than `window` receive no running task.
    pub fn new(inner: S, window: Duration) -> Self {
        let name = format!("delayed({})", inner.name());
        Delayed {
            inner,
            window,
            name,
        }
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The wrapped strategy.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Strategy> Strategy for Delayed<S> {
    fn name(&self) -> &str {
        &self.name
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        let mut target = self.inner.assign(input);
        let view = View::new(input);
        let young: Vec<bool> = view.workers.iter().map(|w| w.age < self.window).collect();
        if !young.contains(&true) {
            return target;
        }
        let mut load = vec![0u64; view.workers.len()];
        for (task, worker) in &target.placements {
            if let (Some(t), Some(w)) = (view.task_index(task), view.worker_index(worker)) {
                load[w] += view.weight(t);
            }
        }
        let mut refused: BTreeMap<usize, Duration> = BTreeMap::new();
        for (t, task) in view.tasks.iter().enumerate() {
            let Some(y) = target
                .placements
                .get(&task.id)
                .and_then(|w| view.worker_index(w))
            else {
                continue;
            };
            if !young[y] || view.current[t] == Some(y) {
                continue;
            }
            let to = view.current[t].or_else(|| {
                let w = view.weight(t);
                view.eligible[t]
                    .iter()
                    .copied()
                    .filter(|&s| !young[s])
                    .min_by(|&a, &b| {
                        let (ca, cb) = (view.capacity(a), view.capacity(b));
                        let la = u128::from(load[a] + w) * u128::from(cb);
                        let lb = u128::from(load[b] + w) * u128::from(ca);
                        la.cmp(&lb).then(a.cmp(&b))
                    })
            });
            let Some(to) = to else { continue };
            let w = view.weight(t);
            load[y] -= w;
            load[to] += w;
            target
                .placements
                .insert(task.id.clone(), view.workers[to].id.clone());
            refused.insert(y, self.window.saturating_sub(view.workers[y].age));
        }
        if let Some(&wait) = refused.values().min() {
            debug!(
                strategy = %self.name,
                refused_workers = refused.len(),
                wait_ms = wait.as_millis() as u64,
                "delaying moves to young workers"
            );
            target.recheck_after = Some(target.recheck_after.map_or(wait, |r| r.min(wait)));
        }
        target
    }
}

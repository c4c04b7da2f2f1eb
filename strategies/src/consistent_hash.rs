//! `ConsistentHash`: weighted rendezvous (highest random weight) hashing.

use tenure_core::TaskId;
use tenure_core::strategy::{Strategy, StrategyInput, Target, View, WorkerInfo};

use crate::hash::{ln, pair_hash, unit_interval};

/// Weighted rendezvous hashing: every task goes to the eligible worker with
/// the lowest score `−ln(u) / capacity`, where `u ∈ (0, 1)` is a hash of
/// (seed, task name, worker name).
///
/// # Definition
///
/// `h = fmix64(FNV-1a-64(seed as 8 little-endian bytes ‖ task ‖ 0xFF ‖
/// worker))` (FNV-1a from its standard offset basis, then MurmurHash3's
/// 64-bit finaliser); `u = (⌊h / 2^12⌋ + ½) / 2^52`; the logarithm is
/// computed with basic IEEE-754 operations only, so scores agree bit for bit
/// on every platform. Equal scores (practically never) go to the worker
/// first by name.
///
/// # Guarantees
///
/// * A task goes to worker `w` with probability `capacity(w) / Σ capacity`
///   over its eligible workers (`−ln(u)/c` is exponential with rate `c`);
///   the balance is statistical, not exact.
/// * Stable without state: when a worker leaves, only its tasks move; when
///   a worker joins, only tasks that move to it move. Task weights and the
///   current placements are ignored; the target is a function of the
///   membership and the seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsistentHash {
    seed: u64,
}

impl ConsistentHash {
    /// The strategy with an explicit `seed` (every worker of a cluster must
    /// use the same one).
    pub fn new(seed: u64) -> Self {
        ConsistentHash { seed }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The score of `worker` for `task`: lower wins.
    pub fn score(&self, task: &TaskId, worker: &WorkerInfo) -> f64 {
        let u = unit_interval(pair_hash(self.seed, task.as_str(), worker.id.as_str()));
        // Capacities are at most 2^32, exact in f64.
        -ln(u) / f64::from(worker.capacity.get())
    }
}

impl Strategy for ConsistentHash {
    fn name(&self) -> &str {
        "consistent-hash"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        let view = View::new(input);
        let mut target = Target::default();
        for (t, task) in view.tasks.iter().enumerate() {
            let best = view.eligible[t]
                .iter()
                .map(|&w| (self.score(&task.id, view.workers[w]), w))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some((_, w)) = best {
                target
                    .placements
                    .insert(task.id.clone(), view.workers[w].id.clone());
            }
        }
        target
    }
}

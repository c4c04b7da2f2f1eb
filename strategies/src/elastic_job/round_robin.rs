//! `RoundRobin`: ElasticJob's `ROUND_ROBIN`.

use tenure_core::strategy::{Strategy, StrategyInput, Target};

use super::{InstanceOrder, java_string_hash, shard};

/// ElasticJob's `ROUND_ROBIN` (`RoundRobinByNameJobShardingStrategy`), with
/// the mapping of the [module documentation](super).
///
/// The worker list of `m` workers is rotated left by
/// `offset = |hash(job name)| mod m`, then the tasks are allocated as by
/// [`AverageAllocation`](super::AverageAllocation). Current placements are
/// ignored.
///
/// # The `abs(hash)` edge case
///
/// ElasticJob computes `Math.abs(jobName.hashCode()) % size`. For a name
/// whose hash is `Integer.MIN_VALUE` (for example `"polygenelubricants"`),
/// `Math.abs` returns `Integer.MIN_VALUE` itself, the remainder is negative
/// unless `size` is a power of two, and ElasticJob fails with an
/// `IndexOutOfBoundsException`. Here `|hash|` is taken without overflow
/// (`2^31`), so the offset is `2^31 mod m`: the same as ElasticJob wherever
/// ElasticJob returns a result (for a power of two both are 0), and a
/// valid rotation where it throws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundRobin {
    job_name: String,
    hash: i32,
    order: InstanceOrder,
}

impl RoundRobin {
    /// The strategy for the job (cluster) named `job_name`.
    pub fn new(job_name: impl Into<String>) -> Self {
        let job_name = job_name.into();
        let hash = java_string_hash(&job_name);
        RoundRobin {
            job_name,
            hash,
            order: InstanceOrder::Ascending,
        }
    }

    /// Sets the order in which workers are listed as job instances (before
    /// the rotation).
    pub fn with_instance_order(mut self, order: InstanceOrder) -> Self {
        self.order = order;
        self
    }

    /// The job name whose hash decides the rotation.
    pub fn job_name(&self) -> &str {
        &self.job_name
    }

    /// The rotation applied to a list of `workers` workers.
    pub fn offset(&self, workers: usize) -> usize {
        if workers == 0 {
            return 0;
        }
        let m = u64::try_from(workers).unwrap_or(u64::MAX);
        // < workers, so it fits.
        usize::try_from(u64::from(self.hash.unsigned_abs()) % m).unwrap_or(0)
    }
}

impl Strategy for RoundRobin {
    fn name(&self) -> &str {
        "round-robin"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        shard(input, self.order, |instances| {
            let offset = self.offset(instances.len());
            instances.rotate_left(offset);
        })
    }
}

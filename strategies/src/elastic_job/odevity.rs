//! `Odevity`: ElasticJob's `ODEVITY`.

use tenure_core::strategy::{Strategy, StrategyInput, Target};

use super::{InstanceOrder, java_string_hash, shard};

/// ElasticJob's `ODEVITY` (`OdevitySortByNameJobShardingStrategy`), with
/// the mapping of the [module documentation](super).
///
/// If the Java hash code of the job name is even (`hash % 2 == 0`, which
/// includes negative even hashes and `i32::MIN`), the worker list is
/// reversed; then the tasks are allocated as by
/// [`AverageAllocation`](super::AverageAllocation). So jobs of odd and even
/// names put their remainder tasks on opposite ends of the worker list.
/// Current placements are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Odevity {
    job_name: String,
    reverse: bool,
    order: InstanceOrder,
}

impl Odevity {
    /// The strategy for the job (cluster) named `job_name`.
    pub fn new(job_name: impl Into<String>) -> Self {
        let job_name = job_name.into();
        // ElasticJob widens to long before `% 2`; the parity is the same.
        let reverse = java_string_hash(&job_name) % 2 == 0;
        Odevity {
            job_name,
            reverse,
            order: InstanceOrder::Ascending,
        }
    }

    /// Sets the order in which workers are listed as job instances (before
    /// the reversal for even hashes).
    pub fn with_instance_order(mut self, order: InstanceOrder) -> Self {
        self.order = order;
        self
    }

    /// The job name whose hash decides the direction.
    pub fn job_name(&self) -> &str {
        &self.job_name
    }
}

impl Strategy for Odevity {
    fn name(&self) -> &str {
        "odevity"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        shard(input, self.order, |instances| {
            if self.reverse {
                instances.reverse();
            }
        })
    }
}

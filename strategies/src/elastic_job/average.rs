//! `AverageAllocation`: ElasticJob's `AVG_ALLOCATION`.

use tenure_core::strategy::{Strategy, StrategyInput, Target};

use super::{InstanceOrder, shard};

/// ElasticJob's `AVG_ALLOCATION` (`AverageAllocationJobShardingStrategy`),
/// with the mapping of the [module documentation](super).
///
/// With `k = tasks / workers`, the first worker gets the first `k` tasks,
/// the second the next `k`, and so on; the `tasks % workers` tasks left go
/// one each to the first workers. For 3 workers and 8 tasks: `1=[0,1,6],
/// 2=[2,3,7], 3=[4,5]`. Task counts differ by at most one between workers
/// of a group. Current placements are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AverageAllocation {
    order: InstanceOrder,
}

impl AverageAllocation {
    /// The strategy, with workers in ascending name order.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the order in which workers are listed as job instances.
    pub fn with_instance_order(mut self, order: InstanceOrder) -> Self {
        self.order = order;
        self
    }
}

impl Strategy for AverageAllocation {
    fn name(&self) -> &str {
        "average"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        shard(input, self.order, |_| {})
    }
}

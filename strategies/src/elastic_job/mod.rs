//! The job-instance sharding strategies of Apache ShardingSphere ElasticJob
//! (`AVG_ALLOCATION`, `ODEVITY`, `ROUND_ROBIN`), with the same placements.
//!
//! # Mapping
//!
//! ElasticJob shards one job of `n` sharding items `0..n` over a list of job
//! instances. Here:
//!
//! * **sharding items** are the tasks in name order: the first task by name
//!   is item 0, the next item 1, and so on;
//! * **job instances** are the live workers in name order
//!   ([`InstanceOrder::Ascending`], the default, as in ElasticJob's own unit
//!   tests), or in reverse name order ([`InstanceOrder::Descending`], the
//!   order in which ElasticJob's ZooKeeper registry center lists the
//!   instances of a running job, so a migrating cluster keeps its
//!   placements);
//! * the **job name** whose Java `String.hashCode()` ODEVITY and ROUND_ROBIN
//!   use is a string given to the strategy (a CLI would pass the cluster
//!   name); [`java_string_hash`] computes it bit for bit.
//!
//! Weights and capacities are ignored, as ElasticJob has neither. These
//! strategies ignore the current placements: the target is a function of
//! the membership alone, so a change of membership can move many tasks
//! (see BENCHMARKS.md).
//!
//! # Eligibility
//!
//! Tasks are grouped by their set of eligible live workers (tags and
//! pinning); each group is sharded on its own, as one ElasticJob job whose
//! items are the group's tasks in name order and whose instances are the
//! group's eligible workers. Without tags and pinning there is one group
//! (all tasks, all workers) and the placements are exactly ElasticJob's.
//! Tasks with no eligible worker are left unplaced.

mod average;
mod odevity;
mod round_robin;

pub use average::AverageAllocation;
pub use odevity::Odevity;
pub use round_robin::RoundRobin;

use tenure_core::strategy::{StrategyInput, Target, View};

/// The order in which the live workers are handed to the ElasticJob
/// algorithm as its list of job instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InstanceOrder {
    /// By name, ascending (as ElasticJob's unit tests pass them).
    #[default]
    Ascending,
    /// By name, descending (as ElasticJob's ZooKeeper registry center
    /// returns the instances of a running job: it sorts children in
    /// reverse order).
    Descending,
}

/// Java's `String.hashCode()`: `s[0]·31^(n−1) + … + s[n−1]` over the UTF-16
/// code units of `s`, in wrapping 32-bit arithmetic.
///
/// ```
/// use tenure_strategies::elastic_job::java_string_hash;
/// assert_eq!(java_string_hash("hello"), 99_162_322);
/// assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
/// ```
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// ElasticJob's average allocation: for `items` items over `instances`
/// instances, the instance (by position) of each item. Instance `i` gets
/// items `i·k .. (i+1)·k` with `k = items / instances`, then the remaining
/// `items % instances` items go one each to the first instances.
pub(crate) fn average_allocation(instances: usize, items: usize) -> Vec<usize> {
    if instances == 0 {
        return Vec::new();
    }
    let per = items / instances;
    let aliquot = per * instances;
    (0..items)
        .map(|item| {
            if item < aliquot {
                item / per
            } else {
                item - aliquot
            }
        })
        .collect()
}

/// Runs an ElasticJob-style allocation per eligibility group. `arrange`
/// turns the group's workers (as indices, in `order`) into the instance
/// list given to the average allocation.
pub(crate) fn shard(
    input: &StrategyInput<'_>,
    order: InstanceOrder,
    arrange: impl Fn(&mut Vec<usize>),
) -> Target {
    let view = View::new(input);
    let mut target = Target::default();
    for (eligible, tasks) in view.classes() {
        let mut instances = eligible.to_vec();
        if order == InstanceOrder::Descending {
            instances.reverse();
        }
        arrange(&mut instances);
        for (&t, slot) in tasks
            .iter()
            .zip(average_allocation(instances.len(), tasks.len()))
        {
            target.placements.insert(
                view.tasks[t].id.clone(),
                view.workers[instances[slot]].id.clone(),
            );
        }
    }
    target
}

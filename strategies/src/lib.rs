//! Load strategies for tenure: pure functions from (live workers, tasks,
//! current owners) to a target assignment.
//!
//! | strategy | keeps current placements | balance | moves on a change of membership |
//! |---|---|---|---|
//! | [`Sticky`] (the runtime's default, re-exported from core) | yes | exact shares of capacity | the minimum |
//! | [`FirstCome`] | yes; the rest is claimed first come, first served | none | orphans only; never rebalances |
//! | [`AverageAllocation`], [`Odevity`], [`RoundRobin`] | no (ElasticJob's `AVG_ALLOCATION`, `ODEVITY`, `ROUND_ROBIN`) | task counts within one | many |
//! | [`ConsistentHash`] | no (weighted rendezvous hashing) | statistical, by capacity | only the tasks of the worker that left or joined |
//!
//! Wrappers: [`Delayed`] (a joining worker receives running tasks only after
//! a window) and [`Throttled`] (at most N running tasks move per round);
//! they compose: `Throttled::new(Delayed::new(Sticky, window), n)`.
//! [`by_name`] picks a built-in by name.
//!
//! Every strategy here is deterministic and reads the input in name order
//! whatever the order of its slices; none places a task on a worker that is
//! not eligible for it (tags and pinning, see
//! [`TaskInfo::eligible`](tenure_core::strategy::TaskInfo::eligible)).
//! Movement per scenario is measured in BENCHMARKS.md
//! (`cargo run --example movement_report`).

#![deny(missing_docs)]

mod by_name;
mod consistent_hash;
mod delayed;
pub mod elastic_job;
mod first_come;
mod hash;
mod throttled;

pub use by_name::{StrategyKind, StrategyOptions, by_name};
pub use consistent_hash::ConsistentHash;
pub use delayed::Delayed;
pub use elastic_job::{AverageAllocation, InstanceOrder, Odevity, RoundRobin};
pub use first_come::FirstCome;
pub use tenure_core::strategy::Sticky;
pub use throttled::{DEFAULT_RECHECK, Throttled};

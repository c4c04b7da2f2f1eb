//! Shared test support for tenure: the conformance backends (the suite is
//! the `tenure-conformance` crate), the
//! harnesses that start real servers, and checkers of run histories.

#![deny(missing_docs)]
#![allow(clippy::unwrap_used)]

pub mod answers;
pub mod backend;
pub mod cold_start;
pub mod etcd;
pub mod failover;
pub mod fuzz;
pub mod live;
pub mod memory;
pub mod observed;
pub mod proxy;
pub mod recorder;
pub mod runs;
pub mod runtime;
pub mod server_util;
pub mod sim;
pub mod soak;
pub mod strategy_cluster;
pub mod tls;
pub mod upstream;
pub mod zookeeper;

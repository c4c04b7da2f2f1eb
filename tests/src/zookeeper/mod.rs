//! The ZooKeeper test harness: real servers ([`ZkServer`], [`ZkEnsemble`]),
//! an ensemble whose members can be cut off from each other
//! ([`PartitionedEnsemble`]), and ZooKeeper as a conformance
//! [`Backend`](crate::backend::Backend) ([`ZkBackend`]), each client behind
//! its own proxy.

mod backend;
mod partition;
mod server;

pub use backend::{CONNECT_TIMEOUT, ZkBackend, ZkControl, wait_for_state};
pub use partition::PartitionedEnsemble;
pub use server::{MAX_SESSION_TIMEOUT, MIN_SESSION_TIMEOUT, TICK, ZkEnsemble, ZkServer, ZkTiming};

//! What the conformance suite needs from a backend under test, from
//! [`tenure_conformance`]: the harnesses here implement it for memory,
//! ZooKeeper and etcd, and the runtime tests use the same clients.

pub use tenure_conformance::{Backend, Capabilities, ClientControl, TestClient, unique_root};

//! # tenure
//!
//! Distributed task coordination for Rust services: every task runs on
//! exactly one live worker of the cluster, survivors take over the tasks of
//! a worker that dies, a pluggable strategy decides who runs what, and a
//! returning worker gets its share back by graceful handoff.
//!
//! Pick a backend with a cargo feature: `memory` (default, in-process),
//! `zookeeper` or `etcd`; `metrics` records the runtime's metrics through
//! the `metrics` facade (names in [`metrics`]). See the README and
//! ARCHITECTURE.md for the model.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use tenure_core::*;

#[doc(inline)]
pub use tenure_strategies as strategies;

#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
#[doc(inline)]
pub use tenure_memory as memory;

#[cfg(feature = "zookeeper")]
#[cfg_attr(docsrs, doc(cfg(feature = "zookeeper")))]
#[doc(inline)]
pub use tenure_zookeeper as zookeeper;

#[cfg(feature = "etcd")]
#[cfg_attr(docsrs, doc(cfg(feature = "etcd")))]
#[doc(inline)]
pub use tenure_etcd as etcd;

#![doc = include_str!("../README.md")]
//!
//! ## Features of this crate
//!
//! `memory` (default, in-process), `zookeeper`, `etcd`, `zookeeper-tls`,
//! `etcd-tls` choose the backends; `metrics` records the runtime's metrics
//! through the `metrics` facade (names in [`metrics`]); `serde` makes the
//! configuration types deserializable from a configuration file
//! ([`Timing`], [`TlsConfig`], and `ZkConfig`, `EtcdConfig` and their
//! `Credentials` with their backend's feature).

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

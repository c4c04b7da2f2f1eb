//! The core of tenure: the [`CoordinationStore`] contract every backend
//! implements, the names and identifiers the runtime uses, the
//! [`Strategy`](strategy::Strategy) trait, and the coordination runtime.
//!
//! Data flows one way: application → runtime → [`CoordinationStore`] →
//! backend. A backend knows stores, not tasks; a strategy knows assignments,
//! not stores.
//!
//! # Features
//! - `serde`: [`Timing`] and [`TlsConfig`] implement `serde::Deserialize`
//!   (durations as text such as `"4s"`, PEM from files or inline), through
//!   the checks of their constructors; `config_file` holds what the
//!   backends' configurations share.
//! - `metrics`: the runtime's metrics through the `metrics` facade (see
//!   [`metrics`]).
//! - `tls-probe`: one TLS handshake of its own, for a backend to tell why a
//!   TLS connection fails.

#![deny(missing_docs)]

pub mod backoff;
#[cfg(feature = "serde")]
pub mod config_file;
pub mod error;
pub mod ids;
pub mod metrics;
pub mod store;
pub mod strategy;
pub mod tls;
#[cfg(feature = "tls-probe")]
pub mod tls_probe;

pub use error::{Error, Result};
pub use ids::{TaskId, WorkerId};
pub use store::{
    CoordinationStore, CreateMode, DynStore, Incarnation, Name, Node, Op, OpResult, Path,
    SessionId, SessionState, StoreExt, StoreInfo, Version, Watch, WatchEvent,
};
pub use tls::TlsConfig;
mod runtime;

pub use runtime::admin::{
    Admin, ClusterStatus, LeaderStatus, Ownership, TaskSpec, TaskState, TaskStatus, WorkerStatus,
};
pub use runtime::events::{
    OwnershipChange, OwnershipEvent, StopReason, WorkerEvent, WorkerEventKind,
};
pub use runtime::handler::{HandlerResult, TaskContext, TaskHandler};
pub use runtime::health::Health;
pub use runtime::layout::Layout;
pub use runtime::timing::Timing;
pub use runtime::worker::{Worker, WorkerBuilder};

/// The runtime's own records and ownership changes, for tenure's own test
/// suites and tools only: **not a public API**, it changes without notice.
/// Enabled by the `internals` feature; applications must not use it (the
/// ownership changes here bypass the worker's guard).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::runtime::{claim, records};
}

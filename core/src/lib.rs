//! The core of tenure: the [`CoordinationStore`] contract every backend
//! implements, the names and identifiers the runtime uses, the
//! [`Strategy`](strategy::Strategy) trait, and the coordination runtime.
//!
//! Data flows one way: application → runtime → [`CoordinationStore`] →
//! backend. A backend knows stores, not tasks; a strategy knows assignments,
//! not stores.

#![deny(missing_docs)]

pub mod error;
pub mod ids;
pub mod metrics;
pub mod store;
pub mod strategy;

pub use error::{Error, Result};
pub use ids::{TaskId, WorkerId};
pub use store::{
    CoordinationStore, CreateMode, DynStore, Incarnation, Name, Node, Op, OpResult, Path,
    SessionId, SessionState, StoreExt, StoreInfo, Version, Watch, WatchEvent,
};
pub mod runtime;

pub use runtime::admin::{Admin, TaskSpec};
pub use runtime::events::{
    OwnershipChange, OwnershipEvent, StopReason, WorkerEvent, WorkerEventKind,
};
pub use runtime::handler::{HandlerResult, TaskContext, TaskHandler};
pub use runtime::health::Health;
pub use runtime::layout::Layout;
pub use runtime::timing::Timing;
pub use runtime::worker::{Worker, WorkerBuilder};

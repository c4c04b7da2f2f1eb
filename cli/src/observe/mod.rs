//! Observability: log lines, metrics, and the store wrapper that counts
//! conflicts.

pub mod logging;
pub mod metered;
pub mod metrics;

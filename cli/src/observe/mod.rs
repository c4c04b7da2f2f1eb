//! Observability: log lines, metrics, and the health probes.

pub mod logging;
pub mod metrics;
pub mod probes;

//! The metrics `tenure worker` serves on its Prometheus endpoint: every
//! metric of the library (the table in [`tenure_core::metrics`]: claims,
//! releases, handler stops and run time, fences, tasks owned, session
//! state, leadership, leader rounds, store request latency and conflicts)
//! and these, which only the program keeps:
//!
//! | name | kind | labels | meaning |
//! |---|---|---|---|
//! | `tenure_takeovers_total` | counter | | tasks this worker took over from a worker whose session ended |
//! | `tenure_handoffs_total` | counter | `direction` = `in`/`out` | graceful moves to or from this worker |
//! | `tenure_child_starts_total` | counter | `task` | command starts |
//! | `tenure_child_exits_total` | counter | `task`, `outcome` | command exits: `success`, `failure` (by itself), `stopped` (by the supervisor), `killed` (SIGKILL after the grace) |
//! | `tenure_child_crash_looping` | gauge | `task` | 1 while a task's command is crash-looping |

use std::net::SocketAddr;

use metrics::{Unit, describe_counter, describe_gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::{CliError, CliResult};

/// Takeovers from a dead worker.
pub const TAKEOVERS: &str = "tenure_takeovers_total";
/// Graceful moves, by direction.
pub const HANDOFFS: &str = "tenure_handoffs_total";
/// Command starts, by task.
pub const CHILD_STARTS: &str = "tenure_child_starts_total";
/// Command exits, by task and outcome.
pub const CHILD_EXITS: &str = "tenure_child_exits_total";
/// Crash-looping tasks.
pub const CHILD_CRASH_LOOPING: &str = "tenure_child_crash_looping";

/// Installs the Prometheus recorder and describes the metrics; the
/// returned handle renders them (served with the probes, see
/// [`crate::observe::probes`]).
///
/// # Errors
/// [`CliError::Invalid`] when a recorder is already installed.
pub fn install(addr: SocketAddr) -> CliResult<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| CliError::Invalid(format!("cannot serve metrics on {addr}: {e}")))?;
    tenure_core::metrics::describe();
    describe();
    Ok(handle)
}

fn describe() {
    describe_counter!(
        TAKEOVERS,
        Unit::Count,
        "tasks taken over from a worker whose session ended"
    );
    describe_counter!(
        HANDOFFS,
        Unit::Count,
        "graceful moves of tasks to (in) or from (out) this worker"
    );
    describe_counter!(CHILD_STARTS, Unit::Count, "starts of the task's command");
    describe_counter!(
        CHILD_EXITS,
        Unit::Count,
        "exits of the task's command, by outcome"
    );
    describe_gauge!(
        CHILD_CRASH_LOOPING,
        "1 while the task's command is crash-looping"
    );
}

//! The metrics `tenure worker` keeps, through the `metrics` facade, and
//! the optional Prometheus endpoint serving them.
//!
//! | name | kind | labels | meaning |
//! |---|---|---|---|
//! | `tenure_tasks_owned` | gauge | | tasks whose command this worker runs |
//! | `tenure_claims_total` | counter | | claims that started a task here |
//! | `tenure_takeovers_total` | counter | | tasks this worker took over from a worker whose session ended |
//! | `tenure_handoffs_total` | counter | `direction` = `in`/`out` | graceful moves to or from this worker |
//! | `tenure_handler_stops_total` | counter | `reason` | task stops, by why they stopped |
//! | `tenure_store_conflicts_total` | counter | `operation` | compare-and-set conflicts (a lost race, retried) |
//! | `tenure_session_state` | gauge | `state` | 1 for the current session state, 0 for the others |
//! | `tenure_leader` | gauge | | 1 while this worker leads the cluster |
//! | `tenure_child_starts_total` | counter | `task` | command starts |
//! | `tenure_child_exits_total` | counter | `task`, `outcome` | command exits: `success`, `failure` (by itself), `stopped` (by the supervisor), `killed` (SIGKILL after the grace) |
//! | `tenure_child_crash_looping` | gauge | `task` | 1 while a task's command is crash-looping |

use std::net::SocketAddr;

use metrics::{Unit, describe_counter, describe_gauge};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::error::{CliError, CliResult};

/// Tasks whose command runs here.
pub const TASKS_OWNED: &str = "tenure_tasks_owned";
/// Claims that started a task here.
pub const CLAIMS: &str = "tenure_claims_total";
/// Takeovers from a dead worker.
pub const TAKEOVERS: &str = "tenure_takeovers_total";
/// Graceful moves, by direction.
pub const HANDOFFS: &str = "tenure_handoffs_total";
/// Task stops, by reason.
pub const HANDLER_STOPS: &str = "tenure_handler_stops_total";
/// Compare-and-set conflicts, by operation.
pub const STORE_CONFLICTS: &str = "tenure_store_conflicts_total";
/// The session state, one-hot.
pub const SESSION_STATE: &str = "tenure_session_state";
/// Whether this worker leads.
pub const LEADER: &str = "tenure_leader";
/// Command starts, by task.
pub const CHILD_STARTS: &str = "tenure_child_starts_total";
/// Command exits, by task and outcome.
pub const CHILD_EXITS: &str = "tenure_child_exits_total";
/// Crash-looping tasks.
pub const CHILD_CRASH_LOOPING: &str = "tenure_child_crash_looping";

/// Serves the metrics on `addr` (`/metrics`, any path answers) and
/// describes them. Without a call, the metrics cost nothing.
///
/// # Errors
/// [`CliError::Invalid`] when the address cannot be bound.
pub fn serve(addr: SocketAddr) -> CliResult {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| CliError::Invalid(format!("cannot serve metrics on {addr}: {e}")))?;
    describe();
    Ok(())
}

fn describe() {
    describe_gauge!(
        TASKS_OWNED,
        Unit::Count,
        "tasks whose command this worker runs"
    );
    describe_counter!(
        CLAIMS,
        Unit::Count,
        "claims that started a task on this worker"
    );
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
    describe_counter!(
        HANDLER_STOPS,
        Unit::Count,
        "task stops on this worker, by reason"
    );
    describe_counter!(
        STORE_CONFLICTS,
        Unit::Count,
        "compare-and-set conflicts, by store operation"
    );
    describe_gauge!(
        SESSION_STATE,
        "1 for the current session state, 0 for the others"
    );
    describe_gauge!(LEADER, "1 while this worker leads the cluster");
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

//! The metrics a worker records through the [`metrics`] facade when the
//! `metrics` feature is on (`tenure/metrics` in the facade crate): install
//! any recorder (`metrics-exporter-prometheus`, …) and they appear.
//! Without the feature nothing is recorded and nothing is linked.
//!
//! Every name is a constant of this module; this table is the one place
//! they are documented.
//!
//! | name | kind | unit | labels | meaning |
//! |---|---|---|---|---|
//! | `tenure_claims_total` | counter | claims | | claims of a task nobody held, won by this worker |
//! | `tenure_releases_total` | counter | releases | | ownership records this worker released (handoff, pause, removal, shutdown) |
//! | `tenure_handler_stops_total` | counter | stops | `reason` | handler stops, by [`StopReason`](crate::StopReason): `unassigned`, `session-at-risk`, `session-lost`, `shutdown`, `updated`, `exited` |
//! | `tenure_handler_run_seconds` | histogram | seconds | | how long each handler ran, recorded when it stopped |
//! | `tenure_fences_total` | counter | fences | `reason` | times the worker fenced itself (stopped every handler and refused new ones), by `session-at-risk` or `session-lost` |
//! | `tenure_tasks_owned` | gauge | tasks | | handlers running on this worker |
//! | `tenure_session_state` | gauge | | `state` | 1 for the current session state (`connecting`, `connected`, `suspended`, `expired`, `closed`), 0 for the others |
//! | `tenure_leader` | gauge | | | 1 while this worker leads the cluster, else 0 |
//! | `tenure_leader_rounds_total` | counter | rounds | `outcome` | leader rounds (read, plan, publish), by `ok` or `error` |
//! | `tenure_leader_round_seconds` | histogram | seconds | | how long each leader round took |
//! | `tenure_store_request_seconds` | histogram | seconds | `operation`, `outcome` | store request latency, by [`Operation`](crate::store::Operation) name and `ok`, `conflict` or `error` |
//! | `tenure_store_conflicts_total` | counter | conflicts | `operation` | compare-and-set conflicts of writes (a lost race, retried) |
//!
//! The store metrics come from [`StoreMetrics`], an observer of the
//! [store layer](crate::store::Observed); a worker built with the feature
//! on wraps its store in it by itself.

#[cfg(feature = "metrics")]
mod record;

#[cfg(feature = "metrics")]
pub(crate) use record::*;
#[cfg(feature = "metrics")]
pub use record::{StoreMetrics, describe};

/// Claims won, counter.
pub const CLAIMS: &str = "tenure_claims_total";
/// Ownership records released, counter.
pub const RELEASES: &str = "tenure_releases_total";
/// Handler stops by `reason`, counter.
pub const HANDLER_STOPS: &str = "tenure_handler_stops_total";
/// Handler run time, histogram in seconds.
pub const HANDLER_RUN: &str = "tenure_handler_run_seconds";
/// Fences by `reason`, counter.
pub const FENCES: &str = "tenure_fences_total";
/// Running handlers, gauge.
pub const TASKS_OWNED: &str = "tenure_tasks_owned";
/// The session state, one-hot gauge by `state`.
pub const SESSION_STATE: &str = "tenure_session_state";
/// Whether this worker leads, gauge.
pub const LEADER: &str = "tenure_leader";
/// Leader rounds by `outcome`, counter.
pub const LEADER_ROUNDS: &str = "tenure_leader_rounds_total";
/// Leader round duration, histogram in seconds.
pub const LEADER_ROUND: &str = "tenure_leader_round_seconds";
/// Store request latency by `operation` and `outcome`, histogram in seconds.
pub const STORE_REQUEST: &str = "tenure_store_request_seconds";
/// Compare-and-set conflicts by `operation`, counter.
pub const STORE_CONFLICTS: &str = "tenure_store_conflicts_total";

/// The `state` label values of [`SESSION_STATE`], in order.
pub const SESSION_STATES: [&str; 5] = ["connecting", "connected", "suspended", "expired", "closed"];

/// The `state` label of a session state.
pub fn state_name(state: crate::SessionState) -> &'static str {
    use crate::SessionState;
    match state {
        SessionState::Connecting => "connecting",
        SessionState::Connected(_) => "connected",
        SessionState::Suspended(_) => "suspended",
        SessionState::Expired(_) => "expired",
        SessionState::Closed => "closed",
    }
}

/// The `reason` label of a stop or fence.
pub fn reason_name(reason: crate::StopReason) -> &'static str {
    use crate::StopReason;
    match reason {
        StopReason::Unassigned => "unassigned",
        StopReason::SessionAtRisk => "session-at-risk",
        StopReason::SessionLost => "session-lost",
        StopReason::Shutdown => "shutdown",
        StopReason::Updated => "updated",
        StopReason::Exited => "exited",
    }
}

// Without the feature, the runtime's calls compile to nothing.
#[cfg(not(feature = "metrics"))]
mod off {
    use std::time::Duration;

    use crate::StopReason;

    pub(crate) fn claimed() {}
    pub(crate) fn released() {}
    pub(crate) fn handler_stopped(_: StopReason, _: Duration) {}
    pub(crate) fn fenced(_: StopReason) {}
    pub(crate) fn leader_round(_: bool, _: Duration) {}
    pub(crate) fn health(_: &crate::runtime::health::Health) {}
    pub(crate) fn store(store: crate::DynStore) -> crate::DynStore {
        store
    }
}
#[cfg(not(feature = "metrics"))]
pub(crate) use off::*;

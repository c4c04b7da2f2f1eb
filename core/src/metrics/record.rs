//! Recording the metrics of the table in [`crate::metrics`].

use std::sync::Arc;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

use super::{
    CLAIMS, FENCES, HANDLER_RUN, HANDLER_STOPS, LEADER, LEADER_ROUND, LEADER_ROUNDS, RELEASES,
    SESSION_STATE, SESSION_STATES, STORE_CONFLICTS, STORE_REQUEST, TASKS_OWNED, reason_name,
    state_name,
};
use crate::runtime::health::Health;
use crate::store::{Completed, Observed, Operation, StoreObserver};
use crate::{DynStore, Error, StopReason};

pub(crate) fn claimed() {
    counter!(CLAIMS).increment(1);
}

pub(crate) fn released() {
    counter!(RELEASES).increment(1);
}

pub(crate) fn handler_stopped(reason: StopReason, ran: Duration) {
    counter!(HANDLER_STOPS, "reason" => reason_name(reason)).increment(1);
    histogram!(HANDLER_RUN).record(ran.as_secs_f64());
}

pub(crate) fn fenced(reason: StopReason) {
    counter!(FENCES, "reason" => reason_name(reason)).increment(1);
}

pub(crate) fn leader_round(ok: bool, took: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    counter!(LEADER_ROUNDS, "outcome" => outcome).increment(1);
    histogram!(LEADER_ROUND).record(took.as_secs_f64());
}

/// The gauges that follow a worker's health.
pub(crate) fn health(health: &Health) {
    let current = state_name(health.session);
    for name in SESSION_STATES {
        let value = if name == current { 1.0 } else { 0.0 };
        gauge!(SESSION_STATE, "state" => name).set(value);
    }
    gauge!(LEADER).set(if health.leader { 1.0 } else { 0.0 });
    gauge!(TASKS_OWNED).set(health.tasks_held as f64);
}

/// `store`, with its requests measured by [`StoreMetrics`].
pub(crate) fn store(store: DynStore) -> DynStore {
    Arc::new(Observed::new(store, StoreMetrics))
}

/// A [store observer](StoreObserver) recording `tenure_store_request_seconds`
/// and `tenure_store_conflicts_total`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreMetrics;

impl StoreObserver for StoreMetrics {
    fn after(&self, completed: &Completed<'_>) {
        let operation = completed.request.operation;
        let write = matches!(
            operation,
            Operation::Create | Operation::Set | Operation::Delete | Operation::Multi
        );
        let outcome = match completed.error {
            None => "ok",
            Some(Error::VersionConflict { .. } | Error::AlreadyExists { .. }) if write => {
                counter!(STORE_CONFLICTS, "operation" => operation.as_str()).increment(1);
                "conflict"
            }
            Some(_) => "error",
        };
        histogram!(STORE_REQUEST, "operation" => operation.as_str(), "outcome" => outcome)
            .record(completed.latency().as_secs_f64());
    }
}

/// Describes every metric of the table to the installed recorder (units
/// and help texts). Call it once after installing the recorder; recording
/// works without it.
pub fn describe() {
    describe_counter!(
        CLAIMS,
        Unit::Count,
        "claims of a task nobody held, won by this worker"
    );
    describe_counter!(
        RELEASES,
        Unit::Count,
        "ownership records this worker released"
    );
    describe_counter!(HANDLER_STOPS, Unit::Count, "handler stops, by reason");
    describe_histogram!(HANDLER_RUN, Unit::Seconds, "how long each handler ran");
    describe_counter!(
        FENCES,
        Unit::Count,
        "times the worker fenced itself, by reason"
    );
    describe_gauge!(TASKS_OWNED, Unit::Count, "handlers running on this worker");
    describe_gauge!(
        SESSION_STATE,
        "1 for the current session state, 0 for the others"
    );
    describe_gauge!(LEADER, "1 while this worker leads the cluster");
    describe_counter!(LEADER_ROUNDS, Unit::Count, "leader rounds, by outcome");
    describe_histogram!(
        LEADER_ROUND,
        Unit::Seconds,
        "how long each leader round took"
    );
    describe_histogram!(
        STORE_REQUEST,
        Unit::Seconds,
        "store request latency, by operation and outcome"
    );
    describe_counter!(
        STORE_CONFLICTS,
        Unit::Count,
        "compare-and-set conflicts, by store operation"
    );
}

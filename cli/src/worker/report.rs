//! What a running worker reports: its events, its session state and the
//! ownership changes that concern it, as log lines and metrics.

use futures::StreamExt;
use tenure_core::{
    Admin, DynStore, OwnershipChange, SessionState, StopReason, Worker, WorkerEventKind,
};
use tokio::sync::broadcast::error::RecvError;
use tracing::{info, warn};

use crate::observe::metrics::{
    CLAIMS, HANDLER_STOPS, HANDOFFS, LEADER, SESSION_STATE, TAKEOVERS, TASKS_OWNED,
};

/// The session states, as the `state` label of `tenure_session_state`.
const STATES: [&str; 5] = ["connecting", "connected", "suspended", "expired", "closed"];

/// Starts following `worker`; the followers end with the worker's
/// store.
pub fn follow(worker: &Worker, store: &DynStore, admin: &Admin) {
    tokio::spawn(worker_events(worker.clone()));
    tokio::spawn(session_states(store.clone()));
    tokio::spawn(ownership(admin.clone(), worker.clone()));
}

fn reason_name(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Unassigned => "unassigned",
        StopReason::SessionAtRisk => "session-at-risk",
        StopReason::SessionLost => "session-lost",
        StopReason::Shutdown => "shutdown",
        StopReason::Updated => "updated",
        StopReason::Exited => "exited",
    }
}

async fn worker_events(worker: Worker) {
    let mut events = worker.events();
    loop {
        match events.recv().await {
            Ok(event) => {
                match event.kind {
                    WorkerEventKind::Started { .. } => metrics::counter!(CLAIMS).increment(1),
                    WorkerEventKind::Stopped { reason, .. } => {
                        metrics::counter!(HANDLER_STOPS, "reason" => reason_name(reason))
                            .increment(1);
                    }
                    WorkerEventKind::Leading { term } => {
                        metrics::gauge!(LEADER).set(1.0);
                        info!(term, "this worker leads the cluster");
                    }
                    // The runtime logs it as a warning naming the node.
                    WorkerEventKind::MalformedRecord { .. } => {}
                }
                metrics::gauge!(TASKS_OWNED).set(worker.running().len() as f64);
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

async fn session_states(store: DynStore) {
    let mut states = store.session_events();
    loop {
        let state = *states.borrow_and_update();
        let current = match state {
            SessionState::Connecting => "connecting",
            SessionState::Connected(_) => "connected",
            SessionState::Suspended(_) => "suspended",
            SessionState::Expired(_) => "expired",
            SessionState::Closed => "closed",
        };
        for name in STATES {
            let value = if name == current { 1.0 } else { 0.0 };
            metrics::gauge!(SESSION_STATE, "state" => name).set(value);
        }
        match state {
            SessionState::Connected(session) => info!(%session, "session connected"),
            SessionState::Connecting | SessionState::Closed => info!(state = current, "session"),
            SessionState::Suspended(session) | SessionState::Expired(session) => {
                // Leadership does not survive a lost session.
                metrics::gauge!(LEADER).set(0.0);
                warn!(%session, state = current, "session at risk: tasks stop until it is back");
            }
        }
        if states.changed().await.is_err() {
            return;
        }
    }
}

async fn ownership(admin: Admin, worker: Worker) {
    let me = worker.id().clone();
    let mut events = Box::pin(admin.ownership_events());
    while let Some(event) = events.next().await {
        match &event.change {
            OwnershipChange::TakenOver { from } if event.worker == me => {
                metrics::counter!(TAKEOVERS).increment(1);
                info!(task = %event.task, %from, token = event.token, "took the task over from a worker whose session ended");
            }
            OwnershipChange::Moved { from } if event.worker == me => {
                metrics::counter!(HANDOFFS, "direction" => "in").increment(1);
                info!(task = %event.task, %from, token = event.token, "task handed over to this worker");
            }
            OwnershipChange::Moved { from } if *from == me => {
                metrics::counter!(HANDOFFS, "direction" => "out").increment(1);
                info!(task = %event.task, to = %event.worker, "task handed over to another worker");
            }
            _ => {}
        }
    }
}

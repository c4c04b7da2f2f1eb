//! What a running worker reports: its events, its session state and the
//! ownership changes that concern it, as log lines and metrics.

use futures::StreamExt;
use tenure_core::{Admin, DynStore, OwnershipChange, SessionState, Worker, WorkerEventKind};
use tokio::sync::broadcast::error::RecvError;
use tracing::{info, warn};

use crate::observe::metrics::{HANDOFFS, TAKEOVERS};

/// Starts following `worker`; the followers end with the worker's
/// store. The library records the worker's own metrics
/// ([`tenure_core::metrics`]); these add the log lines and the ownership
/// counters.
pub fn follow(worker: &Worker, store: &DynStore, admin: &Admin) {
    tokio::spawn(worker_events(worker.clone()));
    tokio::spawn(session_states(store.clone()));
    tokio::spawn(ownership(admin.clone(), worker.clone()));
}

async fn worker_events(worker: Worker) {
    let mut events = worker.events();
    loop {
        match events.recv().await {
            Ok(event) => match event.kind {
                WorkerEventKind::Leading { term } => {
                    info!(term, "this worker leads the cluster");
                }
                WorkerEventKind::LeadershipLost { term } => {
                    info!(term, "this worker no longer leads the cluster");
                }
                // Handler starts and stops are logged by the runtime, and
                // a malformed record as a warning naming the node.
                _ => {}
            },
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

async fn session_states(store: DynStore) {
    let mut states = store.session_events();
    loop {
        let state = *states.borrow_and_update();
        let current = tenure_core::metrics::state_name(state);
        match state {
            SessionState::Connected(session) => info!(%session, "session connected"),
            SessionState::Connecting | SessionState::Closed => info!(state = current, "session"),
            SessionState::Suspended(session) | SessionState::Expired(session) => {
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

//! What a running worker reports: its events, its session state and its
//! takeovers and handoffs (`moves.rs`), as log lines and metrics.

use tenure_core::{Admin, DynStore, SessionState, Worker, WorkerEventKind};
use tokio::sync::broadcast::error::RecvError;
use tracing::{info, warn};

/// Starts following `worker`; the followers end with the worker's
/// store. The library records the worker's own metrics
/// ([`tenure_core::metrics`]); these add the log lines and the takeover
/// and handoff counters.
pub fn follow(worker: &Worker, store: &DynStore, admin: &Admin) {
    tokio::spawn(worker_events(worker.clone()));
    tokio::spawn(session_states(store.clone()));
    tokio::spawn(super::moves::follow(admin.clone(), worker.clone()));
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

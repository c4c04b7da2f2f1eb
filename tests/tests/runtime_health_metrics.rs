//! A worker's health and metrics on the memory backend under paused tokio
//! time: ready and leading with its tasks, not ready and fenced while cut
//! off, ready again under a new session once the old one ended; the
//! library's metrics (recorded into memory) move with it.

#![allow(clippy::unwrap_used)]

use tenure_core::{Health, WorkerEventKind};
use tenure_tests::recorder::{MemoryRecorder, Values};
use tenure_tests::runtime::{Cluster, SESSION};
use tokio::sync::watch;

const TASKS: usize = 2;

async fn wait_for(health: &mut watch::Receiver<Health>, what: &str, f: impl Fn(&Health) -> bool) {
    let waited = tokio::time::timeout(SESSION * 4, health.wait_for(|h| f(h)))
        .await
        .is_ok();
    assert!(waited, "{what}: still {:?}", *health.borrow());
}

fn sum(values: &Values, prefix: &str) -> f64 {
    let all = values.all();
    all.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test(start_paused = true)]
async fn health_and_metrics_follow_a_lost_session_and_its_recovery() {
    let values = MemoryRecorder::install();
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join("W1").await;
    c.wait_all_running(TASKS, SESSION).await;
    let worker = c.member("W1").worker.clone();
    let mut events = worker.events();
    let mut health = worker.health_watch();
    wait_for(&mut health, "ready and leading", |h| {
        h.is_ready() && h.leader && h.tasks_held == TASKS
    })
    .await;
    let now = worker.health();
    assert!(now.is_ready() && now.registered && !now.fenced, "{now:?}");
    let first_session = now.session.session().unwrap();

    assert_eq!(values.get("tenure_claims_total"), Some(TASKS as f64));
    assert_eq!(values.get("tenure_tasks_owned"), Some(TASKS as f64));
    assert_eq!(values.get("tenure_leader"), Some(1.0));
    let connected = r#"tenure_session_state{state="connected"}"#;
    assert_eq!(values.get(connected), Some(1.0));
    assert!(
        values
            .get(r#"tenure_leader_rounds_total{outcome="ok"}"#)
            .unwrap()
            >= 1.0
    );
    assert!(values.get("tenure_leader_round_seconds").unwrap() >= 1.0);
    let claims = r#"tenure_store_request_seconds{operation="multi",outcome="ok"}"#;
    assert!(values.get(claims).unwrap() >= TASKS as f64);

    c.member("W1").store.suspend();
    wait_for(&mut health, "fenced while cut off", |h| {
        !h.is_ready() && h.fenced && h.tasks_held == 0 && !h.leader
    })
    .await;
    assert_eq!(values.get(connected), Some(0.0));
    assert_eq!(
        values.get(r#"tenure_session_state{state="suspended"}"#),
        Some(1.0)
    );
    assert_eq!(values.get("tenure_tasks_owned"), Some(0.0));
    assert_eq!(values.get("tenure_leader"), Some(0.0));
    assert_eq!(
        values.get(r#"tenure_fences_total{reason="session-at-risk"}"#),
        Some(1.0)
    );
    let at_risk = r#"tenure_handler_stops_total{reason="session-at-risk"}"#;
    assert_eq!(values.get(at_risk), Some(TASKS as f64));
    assert_eq!(values.get("tenure_handler_run_seconds"), Some(TASKS as f64));
    assert!(sum(&values, "tenure_store_request_seconds{") > 0.0);

    // The session ends on the server while the worker is cut off.
    tokio::time::sleep(SESSION * 2).await;
    c.member("W1").store.resume();
    wait_for(&mut health, "ready again under a new session", |h| {
        h.is_ready() && h.tasks_held == TASKS
    })
    .await;
    let now = worker.health();
    assert_ne!(now.session.session(), Some(first_session));
    assert!(now.registered && !now.fenced, "{now:?}");
    assert_eq!(values.get(connected), Some(1.0));
    assert_eq!(values.get("tenure_tasks_owned"), Some(TASKS as f64));

    let mut lost = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let WorkerEventKind::LeadershipLost { term } = e.kind {
            lost.push(term);
        }
    }
    assert_eq!(lost.len(), 1, "leadership lost once with the session");
    c.stop().await;
}

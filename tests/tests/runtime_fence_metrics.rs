//! The fence counter counts fences of a worker that held a session, not
//! the start of a fresh one: `tenure_fences_total` stays 0 while a worker
//! registers for the first time, runs and leaves, and counts 1 when a
//! registered worker loses its session.
//!
//! One test per process (the recorder is global to the process).

#![allow(clippy::unwrap_used)]

use tenure_tests::recorder::MemoryRecorder;
use tenure_tests::runtime::{Cluster, SESSION};

const LOST: &str = r#"tenure_fences_total{reason="session-lost"}"#;
const AT_RISK: &str = r#"tenure_fences_total{reason="session-at-risk"}"#;
const TASKS: usize = 2;

#[tokio::test(start_paused = true)]
async fn fresh_workers_record_no_fence_and_a_lost_session_records_one() {
    let values = MemoryRecorder::install();
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join("W1").await;
    c.join("W2").await;
    c.wait_all_running(TASKS, SESSION * 2).await;
    tokio::time::sleep(SESSION).await;
    let fences = |v: &tenure_tests::recorder::Values| {
        (v.get(LOST).unwrap_or(0.0), v.get(AT_RISK).unwrap_or(0.0))
    };
    assert_eq!(fences(&values), (0.0, 0.0), "{:?}", values.all());

    // A registered worker whose session ends fences once, however many
    // steps (the guard, the new registration) see the loss.
    c.member("W2").store.expire_session();
    tokio::time::sleep(SESSION * 2).await;
    c.wait_all_running(TASKS, SESSION * 4).await;
    assert_eq!(fences(&values), (1.0, 0.0), "{:?}", values.all());

    // A worker joining later records none either.
    c.join("W3").await;
    tokio::time::sleep(SESSION * 2).await;
    assert_eq!(fences(&values), (1.0, 0.0), "{:?}", values.all());
    c.stop().await;
}

//! The guard under a long stop timeout, on the memory backend under paused
//! tokio time: it never waits for a handler to stop, so a handler started
//! while an earlier one is still stopping is stopped at its own stop
//! instant.
//!
//! The schedule (a 2 s session, the stop timeout `tenure worker` picks for
//! it, 1.22 s, and handlers that take 1.21 s to stop): W0 runs T0 and is
//! suspended, so the guard fences and T0 begins its long stop; T1 is
//! added and W0 resumes, re-confirms and starts T1 while T0 is still
//! stopping; then W0 is silently partitioned and W1 joins. A guard that
//! waited for T0's stop missed T1's stop instant: W1 started T1 while W0
//! still ran it (about 380 ms of two runners).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::TaskSpec;
use tenure_tests::runtime::{Cluster, Entry, SESSION, task, task_name};

const STOP_TIMEOUT: Duration = Duration::from_millis(1220);
const STOP_TAKES: Duration = Duration::from_millis(1210);

async fn join_slow(c: &mut Cluster, name: &str) {
    let handler = c.history.slow_handler(STOP_TAKES);
    c.join_with(name, |b| b.handler(handler).stop_timeout(STOP_TIMEOUT))
        .await;
}

#[tokio::test(start_paused = true)]
async fn a_handler_started_while_another_stops_is_stopped_at_its_own_stop_instant() {
    let mut c = Cluster::new().await;
    c.admin
        .add_task(TaskSpec::new(task_name(0)).unwrap())
        .await
        .unwrap();
    join_slow(&mut c, "W0").await;
    c.wait_all_running(1, SESSION).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let w0 = c.member("W0").store.clone();
    w0.suspend();
    c.admin
        .add_task(TaskSpec::new(task_name(1)).unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    w0.resume();
    tokio::time::sleep(Duration::from_millis(60)).await;
    w0.partition();
    join_slow(&mut c, "W1").await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let violations = c.history.violations();
    assert!(violations.is_empty(), "{violations:#?}");
    // The schedule reached the case: T1 started on W0 while T0 was still
    // stopping there, and W1 took both over.
    let t1_on_w0 = c
        .history
        .entries()
        .iter()
        .any(|e| matches!(e, Entry::Start { task: t, worker, .. } if *t == task(1) && worker.as_str() == "W0"));
    assert!(
        t1_on_w0,
        "T1 never started on W0: {:#?}",
        c.history.entries()
    );
    c.wait_until("W1 runs both tasks", SESSION, |c| c.on("W1").len() == 2)
        .await;
    c.stop().await;
}

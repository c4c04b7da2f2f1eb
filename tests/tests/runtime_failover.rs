//! Failover on the memory backend under paused tokio time: a worker whose
//! session ends (cut off until expiry, expired, crashed) has its tasks taken
//! over with strictly larger tokens, and its handlers are gone before any
//! survivor's start.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::TaskId;
use tenure_tests::runtime::{Cluster, SESSION, assert_handed_over, stopped_at};

const TASKS: usize = 6;

/// A bound for a leader round and the claims after a session ended.
const BOUND: Duration = Duration::from_millis(500);

/// Two workers, every task running, balanced.
async fn two_workers() -> Cluster {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join("W1").await;
    c.join("W2").await;
    c.wait_until("balanced", SESSION * 2, |c| {
        c.running().len() == TASKS && c.on("W1").len() == TASKS / 2
    })
    .await;
    c
}

/// Every task W1 ran now runs on W2 with a larger token, and W1's handler
/// had stopped before W2's started.
fn check_taken_over(c: &Cluster, before: &[(TaskId, u64)]) {
    let now = c.running();
    for (task, old) in before {
        let (w, new) = &now[task];
        assert_eq!(w.as_str(), "W2", "{task}");
        assert_handed_over(&c.history, task, *old, *new);
    }
}

fn held_by(c: &Cluster, worker: &str) -> Vec<(TaskId, u64)> {
    c.running()
        .into_iter()
        .filter(|(_, (w, _))| w.as_str() == worker)
        .map(|(t, (_, tok))| (t, tok))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn cut_off_owner_is_taken_over_after_its_session_timeout_with_larger_tokens() {
    let c = two_workers().await;
    let before = held_by(&c, "W1");
    let cut_ms = c.now_ms();
    c.member("W1").store.suspend();
    let took = c
        .wait_until("W2 runs everything", SESSION + BOUND, |c| {
            c.on("W2").len() == TASKS
        })
        .await;
    // The records of W1 live until the server ends its session.
    assert!(
        took >= SESSION,
        "taken over after {took:?}, before the session timeout"
    );
    for (task, tok) in &before {
        let stop = stopped_at(&c.history, task, *tok).unwrap();
        assert_eq!(stop, cut_ms, "{task}: suspended means stopped at once");
    }
    check_taken_over(&c, &before);
    println!("takeover after a cut: {took:?}");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn expired_owner_stops_at_once_and_its_tasks_run_again_with_larger_tokens() {
    let c = two_workers().await;
    let before = c.running();
    let w1 = held_by(&c, "W1");
    let expired_ms = c.now_ms();
    c.member("W1").store.expire_session();
    // The records vanished with the session: each task may go to W2 or come
    // back to W1 under its new session, but always with a new token.
    let took = c
        .wait_until("every task of W1 restarted", BOUND * 2, |c| {
            let now = c.running();
            now.len() == TASKS && w1.iter().all(|(t, tok)| now[t].1 > *tok)
        })
        .await;
    for (task, tok) in &w1 {
        let stop = stopped_at(&c.history, task, *tok).unwrap();
        assert_eq!(stop, expired_ms, "{task}: stopped as the session ended");
    }
    let now = c.running();
    for (task, (_, old)) in &before {
        let new = now[task].1;
        assert!(new >= *old, "{task}");
        if new > *old {
            assert_handed_over(&c.history, task, *old, new);
        }
    }
    println!("back to running after an expiry: {took:?}");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn killed_worker_leaves_its_tasks_to_be_taken_over_when_its_session_ends() {
    let mut c = two_workers().await;
    let before = held_by(&c, "W1");
    c.crash("W1").await;
    for (task, _) in &before {
        assert!(
            c.admin.owners().await.unwrap()[task].worker.as_str() == "W1",
            "a killed worker releases nothing"
        );
    }
    let took = c
        .wait_until("W2 runs everything", SESSION + BOUND, |c| {
            c.on("W2").len() == TASKS
        })
        .await;
    assert!(took >= SESSION - Duration::from_millis(50), "{took:?}");
    check_taken_over(&c, &before);
    println!("takeover after a kill: {took:?}");
    c.stop().await;
}

//! Draining a worker on the memory backend under paused tokio time: its
//! tasks move to the others by handoff (stopped before started elsewhere,
//! never twice at once), it keeps running and takes nothing, undraining
//! gives it tasks again, the drain survives a leader change, and a task
//! only the drained worker may run waits.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use tenure_core::{CoordinationStore, TaskId, TaskSpec, WorkerId};
use tenure_tests::runtime::{Cluster, SESSION, assert_handed_over};

/// A bound for a leader round and the handoffs it starts.
const BOUND: Duration = Duration::from_millis(300);

type Running = BTreeMap<TaskId, (WorkerId, u64)>;

fn worker(name: &str) -> WorkerId {
    WorkerId::new(name).unwrap()
}

/// Every task that left `from` since `before` was stopped there before it
/// started elsewhere with a larger token; the others were not restarted.
fn check_left(c: &Cluster, before: &Running, from: &str) {
    let now = c.running();
    for (task, (was, old)) in before {
        let (w, new) = &now[task];
        if was.as_str() == from {
            assert_ne!(w.as_str(), from, "{task} left {from}");
            assert_handed_over(&c.history, task, *old, *new);
        } else {
            assert_eq!((w, new), (was, old), "{task} stayed: not restarted");
        }
    }
}

async fn balanced(workers: &[&str], tasks: usize) -> Cluster {
    let mut c = Cluster::new().await;
    c.add_tasks(tasks).await;
    for w in workers {
        c.join(w).await;
    }
    let share = tasks / workers.len();
    c.wait_until("balanced", SESSION * 2, |c| {
        c.running().len() == tasks && workers.iter().all(|w| c.on(w).len() == share)
    })
    .await;
    c
}

#[tokio::test(start_paused = true)]
async fn drained_worker_hands_everything_over_and_keeps_running() {
    let c = balanced(&["W1", "W2", "W3"], 9).await;
    let before = c.running();
    c.admin.drain_worker(&worker("W2")).await.unwrap();
    c.wait_until("W2 empty", BOUND, |c| {
        c.on("W2").is_empty() && c.running().len() == 9
    })
    .await;
    check_left(&c, &before, "W2");
    let status = c.admin.status().await.unwrap();
    let w2 = status.workers.iter().find(|w| w.worker.as_str() == "W2");
    assert!(w2.unwrap().drained, "W2 still registered, shown drained");
    assert!(status.workers.iter().filter(|w| w.drained).count() == 1);
    // Tasks added while drained go elsewhere.
    for i in 9..12 {
        let spec = TaskSpec::new(tenure_tests::runtime::task_name(i)).unwrap();
        c.admin.add_task(spec).await.unwrap();
    }
    c.wait_all_running(12, BOUND).await;
    tokio::time::sleep(SESSION).await;
    assert!(c.on("W2").is_empty(), "a drained worker takes nothing");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn undrained_worker_takes_tasks_again() {
    let c = balanced(&["W1", "W2"], 6).await;
    c.admin.drain_worker(&worker("W1")).await.unwrap();
    c.wait_until("W1 empty", BOUND, |c| c.on("W2").len() == 6)
        .await;
    // Draining twice changes nothing.
    c.admin.drain_worker(&worker("W1")).await.unwrap();
    assert_eq!(
        c.admin
            .drained()
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [worker("W1")]
    );
    let before = c.running();
    c.admin.undrain_worker(&worker("W1")).await.unwrap();
    assert!(c.admin.drained().await.unwrap().is_empty());
    c.wait_until("W1 has its share", BOUND, |c| c.on("W1").len() == 3)
        .await;
    let now = c.running();
    for (task, (was, old)) in &before {
        let (w, new) = &now[task];
        if w != was {
            assert_handed_over(&c.history, task, *old, *new);
        }
    }
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn drain_survives_a_leader_change_and_a_restart() {
    let mut c = balanced(&["W1", "W2", "W3"], 6).await;
    let leader = c.admin.leader().await.unwrap().unwrap();
    let drained = if leader.worker.as_str() == "W1" {
        "W2"
    } else {
        "W1"
    };
    c.admin.drain_worker(&worker(drained)).await.unwrap();
    c.wait_until("drained empty", BOUND, |c| c.on(drained).is_empty())
        .await;
    c.crash(leader.worker.as_str()).await;
    c.wait_until("a new leader", SESSION * 3, |c| c.running().len() == 6)
        .await;
    tokio::time::sleep(SESSION).await;
    let new_leader = c.admin.leader().await.unwrap().unwrap();
    assert!(new_leader.term > leader.term);
    assert!(c.on(drained).is_empty(), "the new leader keeps the drain");
    // The drained worker restarts: still drained.
    c.shutdown(drained).await.close().await.unwrap();
    c.join(drained).await;
    tokio::time::sleep(SESSION).await;
    assert!(c.on(drained).is_empty(), "the drain outlives a restart");
    assert_eq!(c.running().len(), 6);
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_task_pinned_to_the_drained_worker_waits_until_undrained() {
    let c = balanced(&["W1", "W2"], 2).await;
    let pinned = TaskSpec::new("PINNED").unwrap().pinned("W1").unwrap();
    c.admin.add_task(pinned).await.unwrap();
    let id = TaskId::new("PINNED").unwrap();
    c.wait_until("pinned runs", BOUND, |c| c.on("W1").contains(&id))
        .await;
    c.admin.drain_worker(&worker("W1")).await.unwrap();
    c.wait_until("W1 empty", BOUND, |c| c.on("W1").is_empty())
        .await;
    tokio::time::sleep(SESSION).await;
    assert!(!c.running().contains_key(&id), "nobody else may run it");
    let status = c.admin.tasks().await.unwrap();
    let state = status.iter().find(|t| t.task == id).unwrap().state;
    assert_eq!(state, tenure_core::TaskState::Waiting);
    c.admin.undrain_worker(&worker("W1")).await.unwrap();
    c.wait_until("pinned back", BOUND, |c| c.on("W1").contains(&id))
        .await;
    c.stop().await;
}

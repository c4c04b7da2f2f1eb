//! Moving tasks between live workers on the memory backend under paused
//! tokio time: a joining worker gets its share by handoff (owner stops,
//! releases, then the target claims), a graceful shutdown hands every task
//! off while its session is still open, and a leader lost in the middle of
//! a rebalance strands nothing and doubles nothing.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use tenure_core::{CoordinationStore, TaskId, WorkerId};
use tenure_tests::runtime::{Cluster, SESSION, assert_handed_over};

/// A bound for a leader round and the handoffs it starts.
const BOUND: Duration = Duration::from_millis(300);

/// Every task that changed worker since `before` was stopped on its old
/// worker before it started on its new one, with a larger token; the others
/// were not restarted. Returns how many moved.
fn check_moved_without_overlap(c: &Cluster, before: &Running) -> usize {
    let now = c.running();
    let mut moved = 0;
    for (task, (was, old)) in before {
        let (w, new) = &now[task];
        if w == was {
            assert_eq!(new, old, "{task} stayed: not restarted");
            continue;
        }
        moved += 1;
        assert_handed_over(&c.history, task, *old, *new);
    }
    moved
}

type Running = BTreeMap<TaskId, (WorkerId, u64)>;

#[tokio::test(start_paused = true)]
async fn joining_worker_gets_its_share_by_handoff_without_overlap() {
    let mut c = Cluster::new().await;
    c.add_tasks(6).await;
    c.join("W1").await;
    c.wait_all_running(6, SESSION).await;
    let before = c.running();
    c.join("W2").await;
    let took = c
        .wait_until("W2 has its share", BOUND, |c| c.on("W2").len() == 3)
        .await;
    assert_eq!(c.running().len(), 6);
    assert_eq!(
        check_moved_without_overlap(&c, &before),
        3,
        "sticky: only the share moves"
    );
    println!("share handed off in {took:?}");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn graceful_shutdown_hands_every_task_off_before_its_session_closes() {
    let mut c = Cluster::new().await;
    c.add_tasks(6).await;
    c.join("W1").await;
    c.join("W2").await;
    c.wait_until("balanced", SESSION * 2, |c| {
        c.on("W2").len() == 3 && c.running().len() == 6
    })
    .await;
    let before = c.running();
    let store = c.shutdown("W1").await;
    // The session of W1 is still open: only releases can have freed them.
    assert!(store.session_state().is_connected());
    let took = c
        .wait_until("W2 runs everything", BOUND, |c| c.on("W2").len() == 6)
        .await;
    assert!(store.session_state().is_connected());
    assert_eq!(check_moved_without_overlap(&c, &before), 3);
    println!("every task on W2 {took:?} after shutdown returned");
    store.close().await.unwrap();
    c.stop().await;
}

/// The leader publishes a plan moving tasks to a joining worker; the
/// workers see it late (delayed watch events) and the leader's session
/// ends before the moves are done. The next leader finishes: every task
/// runs exactly once, nothing ran twice at any instant.
#[tokio::test(start_paused = true)]
async fn leader_lost_mid_rebalance_strands_nothing_and_doubles_nothing() {
    let mut c = Cluster::new().await;
    c.add_tasks(8).await;
    c.join("W1").await;
    c.wait_all_running(8, SESSION).await;
    c.join("W2").await;
    c.wait_until("balanced", SESSION * 2, |c| c.on("W2").len() == 4)
        .await;
    let leader = c.admin.leader().await.unwrap().unwrap();
    assert_eq!(leader.worker.as_str(), "W1");
    c.member("W2")
        .store
        .delay_watches(Duration::from_millis(400));
    c.join("W3").await;
    c.member("W3")
        .store
        .delay_watches(Duration::from_millis(400));
    // Wait (bounded) until the plan naming W3 is published.
    let mut published = false;
    for _ in 0..100 {
        let targets = c.admin.targets().await.unwrap();
        if targets.values().any(|w| w.as_str() == "W3") {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(published, "the leader published a plan with W3");
    assert!(c.on("W3").is_empty(), "the moves are still under way");
    c.member("W1").store.expire_session();
    c.wait_until("every task runs once, spread", SESSION * 2, |c| {
        c.running().len() == 8 && ["W1", "W2", "W3"].iter().all(|w| c.on(w).len() >= 2)
    })
    .await;
    let new_leader = c.admin.leader().await.unwrap().unwrap();
    assert!(
        new_leader.term > leader.term,
        "{new_leader:?} after {leader:?}"
    );
    tokio::time::sleep(SESSION).await;
    let running: std::collections::BTreeMap<_, _> =
        c.running().into_iter().map(|(t, (w, _))| (t, w)).collect();
    assert_eq!(running.len(), 8);
    assert_eq!(
        c.admin.targets().await.unwrap(),
        running,
        "the plan is finished"
    );
    c.stop().await;
}

/// Handlers that take long to stop do not hold up the worker: the stops
/// of the tasks moving away run side by side while the worker keeps
/// proving its session alive, so the move takes one stop, not one per task,
/// and the tasks the worker keeps are never stopped for a session at risk
/// (nor restarted).
#[tokio::test(start_paused = true)]
async fn slow_stops_of_moving_tasks_run_side_by_side_and_put_nothing_at_risk() {
    let mut c = Cluster::new().await;
    c.add_tasks(8).await;
    // The longest stop timeout the session allows (heartbeat + stop
    // timeout + safety margin < session), and handlers that use most of
    // it: one stop outlasts the time between two heartbeats' deadlines.
    let stop = SESSION * 6 / 10;
    let slow = c.history.slow_handler(stop - Duration::from_millis(100));
    c.join_with("W1", |b| b.handler(slow).stop_timeout(stop))
        .await;
    c.wait_all_running(8, SESSION).await;
    let mut events = c.member("W1").worker.events();
    let before = c.running();
    c.join("W2").await;
    let took = c
        .wait_until("W2 has its share", SESSION * 4, |c| c.on("W2").len() == 4)
        .await;
    println!("4 slow stops handed off in {took:?}");
    assert!(took < stop + BOUND, "stops one after another: {took:?}");
    assert_eq!(c.running().len(), 8);
    assert_eq!(check_moved_without_overlap(&c, &before), 4);
    while let Ok(e) = events.try_recv() {
        if let tenure_core::WorkerEventKind::Stopped { reason, .. } = e.kind {
            assert_eq!(
                reason,
                tenure_core::StopReason::Unassigned,
                "W1 stopped a handler for another reason than the move"
            );
        }
    }
    c.stop().await;
}

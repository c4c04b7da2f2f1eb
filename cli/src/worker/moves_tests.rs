//! How a claim is told, and what following them costs in watches.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tenure_core::{Admin, DynStore, TaskId, TaskSpec, WorkerId};
use tenure_tests::runtime::{Cluster, SESSION, task_name};
use tokio::time::Instant;

use super::{Move, Moves, follow};

fn w(name: &str) -> WorkerId {
    WorkerId::new(name).unwrap()
}

fn set(names: &[&str]) -> BTreeSet<WorkerId> {
    names.iter().map(|n| w(n)).collect()
}

#[test]
fn claims_are_told_as_first_own_handed_in_or_taken_over() {
    let t = TaskId::new("T").unwrap();
    let start = Instant::now();
    let mut m = Moves::new(w("me"), Duration::from_secs(2));
    m.registrations(set(&["me", "a", "b"]), start);
    assert_eq!(m.claimed(&t, 1, None, start), Move::Claimed, "first claim");
    assert_eq!(
        m.claimed(&t, 2, None, start),
        Move::Claimed,
        "after our own"
    );
    assert_eq!(
        m.claimed(&t, 5, Some(&w("a")), start),
        Move::HandedIn(Some(w("a"))),
        "waited for a's record"
    );
    assert_eq!(
        m.claimed(&t, 9, None, start),
        Move::HandedIn(None),
        "nobody left, nobody seen"
    );
    let gone = start + Duration::from_secs(1);
    m.registrations(set(&["me", "b"]), gone);
    assert_eq!(
        m.claimed(&t, 12, None, gone + Duration::from_millis(300)),
        Move::TakenOver(vec![w("a")]),
        "a's registration ended just before"
    );
    let later = gone + Duration::from_secs(2) + super::AFTER_DEPARTURE * 2;
    assert_eq!(
        m.claimed(&t, 20, None, later),
        Move::HandedIn(None),
        "a left too long ago"
    );
}

/// Following this worker's moves holds one watch (the registrations
/// folder), at 10 tasks as at 110; following every ownership record, as
/// `tenure worker` did, holds one per task.
#[tokio::test(start_paused = true)]
async fn following_moves_holds_no_watch_per_task() {
    let mut c = Cluster::new().await;
    c.add_tasks(10).await;
    c.join("W1").await;
    c.wait_all_running(10, SESSION).await;
    let follower = c.server.connect(SESSION).await.unwrap();
    let dyn_store: DynStore = Arc::new(follower.clone());
    let admin = Admin::at_root(dyn_store, c.root.clone()).await.unwrap();
    let following = tokio::spawn(follow(admin.clone(), c.member("W1").worker.clone()));
    tokio::time::sleep(SESSION).await;
    let at_10 = follower.watch_count();
    for i in 10..110 {
        let spec = TaskSpec::new(task_name(i)).unwrap();
        c.admin.add_task(spec).await.unwrap();
    }
    c.wait_all_running(110, SESSION * 4).await;
    tokio::time::sleep(SESSION).await;
    assert_eq!(follower.watch_count(), at_10, "no watch per task");
    assert_eq!(at_10, 1, "the registrations folder only");

    // The observer of every record, on a client of its own, for contrast.
    let observer = c.server.connect(SESSION).await.unwrap();
    let observer_admin = Admin::at_root(Arc::new(observer.clone()), c.root.clone())
        .await
        .unwrap();
    let mut events = Box::pin(observer_admin.ownership_events());
    let _ = tokio::time::timeout(SESSION, events.next()).await;
    assert!(observer.watch_count() >= 110, "{}", observer.watch_count());
    following.abort();
    c.stop().await;
}

/// A stop for a move is a handoff out only while the task still exists,
/// not paused.
#[tokio::test(start_paused = true)]
async fn a_stop_counts_as_a_handoff_out_only_for_a_task_still_runnable() {
    let c = Cluster::new().await;
    c.add_tasks(1).await;
    let t = tenure_tests::runtime::task(0);
    assert!(super::still_runnable(&c.admin, &t).await, "exists");
    c.admin.pause_task(&t).await.unwrap();
    assert!(!super::still_runnable(&c.admin, &t).await, "paused");
    c.admin.resume_task(&t).await.unwrap();
    assert!(super::still_runnable(&c.admin, &t).await, "resumed");
    c.admin.remove_task(&t).await.unwrap();
    assert!(!super::still_runnable(&c.admin, &t).await, "removed");
    c.stop().await;
}

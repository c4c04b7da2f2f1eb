//! A task removed and added again before the leader looked is new data,
//! even when its task node has the same version as before (ZooKeeper,
//! and the memory server like it, start every new node at version 0): its
//! owner restarts the handler with the new payload. On the memory backend
//! under paused tokio time; `records_zookeeper.rs` does the same against a
//! real server.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{CoordinationStore, TaskSpec};
use tenure_tests::runtime::{Cluster, SESSION, assert_handed_over, task, task_name};

/// A bound for the leader round and the restart after a change.
const BOUND: Duration = Duration::from_millis(500);

#[tokio::test(start_paused = true)]
async fn a_task_removed_and_added_again_in_one_round_restarts_with_the_new_payload() {
    let mut c = Cluster::new().await;
    let first = TaskSpec::new(task_name(0)).unwrap().payload("old");
    c.admin.add_task(first).await.unwrap();
    c.join("W1").await;
    c.wait_all_running(1, SESSION).await;
    let (_, old) = c.running()[&task(0)].clone();
    assert_eq!(c.payload(&task(0), old).unwrap(), b"old");
    let path = c.admin.layout().task(&task(0));
    let before = c.admin.store().get(&path).await.unwrap().unwrap();

    // Both changes at the same instant: the leader's next round (after
    // its debounce) sees only the task added again.
    c.admin.remove_task(&task(0)).await.unwrap();
    let second = TaskSpec::new(task_name(0)).unwrap().payload("new");
    c.admin.add_task(second).await.unwrap();
    let after = c.admin.store().get(&path).await.unwrap().unwrap();
    assert_eq!(after.version, before.version, "the same version again");
    assert_ne!(after.incarnation, before.incarnation);

    c.wait_until("T0 restarted with the new payload", BOUND, |c| {
        c.running()
            .get(&task(0))
            .is_some_and(|(_, t)| c.payload(&task(0), *t).as_deref() == Some(&b"new"[..]))
    })
    .await;
    let (_, new) = c.running()[&task(0)].clone();
    assert_handed_over(&c.history, &task(0), old, new);
    // And it stays so: nothing restarts it again.
    tokio::time::sleep(SESSION * 2).await;
    assert_eq!(c.running()[&task(0)].1, new);
    c.stop().await;
}

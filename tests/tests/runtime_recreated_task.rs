//! A task removed and added again is new data, even when its task node has
//! the same version as before (ZooKeeper, and the memory server like it,
//! start every new node at version 0): its owner restarts the handler with
//! the new payload although the leader never saw the task gone, and an
//! admin change read from the old task is not written over the new one.
//! On the memory backend under paused tokio time; `records_zookeeper.rs`
//! restarts the owner against a real server.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::internals::records::TaskRecord;
use tenure_core::{Admin, CoordinationStore, TaskSpec};
use tenure_tests::runtime::{Cluster, SESSION, as_dyn, assert_handed_over, task, task_name};

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

/// An admin change reads the task, then writes it by compare-and-set on
/// the version read. A task removed and added again in between has that
/// version again; the change must not land on the new task as if it were
/// the one read (here: writing the old payload back while pausing it).
#[tokio::test(start_paused = true)]
async fn a_change_read_before_a_task_was_removed_and_added_again_is_made_on_the_new_task() {
    let c = Cluster::new().await;
    let first = TaskSpec::new(task_name(0)).unwrap().payload("old");
    c.admin.add_task(first).await.unwrap();
    // A second admin whose answers come late: its reads are applied at
    // once and answered 100 ms later.
    let slow_store = c.server.connect(SESSION).await.unwrap();
    let slow = Admin::at(as_dyn(&slow_store), c.admin.layout().clone())
        .await
        .unwrap();
    slow_store.delay_answers(Duration::from_millis(100));
    let pause = tokio::spawn(async move { slow.pause_task(&task(0)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.admin.remove_task(&task(0)).await.unwrap();
    let second = TaskSpec::new(task_name(0)).unwrap().payload("new");
    c.admin.add_task(second).await.unwrap();
    pause.await.unwrap().unwrap();

    let node = c
        .admin
        .store()
        .get(&c.admin.layout().task(&task(0)))
        .await
        .unwrap()
        .unwrap();
    let record: TaskRecord = serde_json::from_slice(&node.data).unwrap();
    assert_eq!(record.payload.as_deref(), Some("new"), "{record:?}");
    assert!(record.paused, "{record:?}");
    c.stop().await;
}

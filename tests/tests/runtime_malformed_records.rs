//! Records that do not decode fail closed, on the memory backend under
//! paused tokio time: nothing is decided on a guess, whatever does not
//! depend on the record goes on, the record is told as a worker event
//! naming the node, and the admin refuses with a typed error naming it
//! and changes nothing. A task record or ownership record that does not
//! decode keeps its task where it runs (the leader does not move it, its
//! owner does not stop it, the owner's other tasks still follow their
//! changes); the leader writes its own records (targets, the open list)
//! again; a change log that does not decode refuses admin changes.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tenure_core::internals::records::{ChangeLog, OpenRecord, Record, TargetRecord, TaskRecord};
use tenure_core::{CoordinationStore, Error, Op, TaskId, TaskSpec, WorkerEvent, WorkerId};
use tenure_tests::runtime::{
    Cluster, SESSION, malformed, snapshot, task, task_name, write_by_hand,
};
use tokio::sync::broadcast;

/// Who runs what: task → (worker, token).
type Running = BTreeMap<TaskId, (WorkerId, u64)>;

/// Long enough for any leader round, claim or stop after a change.
const SETTLE: Duration = SESSION;

/// Writes `data` into `task`'s node and counts the change in the change
/// log, as an admin change would, so that the leader reads it at once.
async fn write_task_and_tell(c: &Cluster, task: &TaskId, data: &[u8]) {
    let store = c.admin.store();
    let layout = c.admin.layout();
    let folder = store.get(layout.tasks()).await.unwrap().unwrap();
    let mut log = ChangeLog::decode(layout.tasks(), &folder.data).unwrap();
    log.note(task.clone());
    store
        .multi(&[
            Op::Set {
                path: layout.task(task),
                data: data.to_vec(),
                version: None,
            },
            Op::Set {
                path: layout.tasks().clone(),
                data: log.encode().unwrap(),
                version: Some(folder.version),
            },
        ])
        .await
        .unwrap();
}

fn record(payload: &str, pinned: Option<&str>) -> Vec<u8> {
    TaskRecord {
        done: false,
        payload: Some(payload.into()),
        payload_base64: None,
        paused: false,
        weight: std::num::NonZeroU32::MIN,
        tags: BTreeSet::new(),
        pinned: pinned.map(|w| WorkerId::new(w).unwrap()),
    }
    .encode()
    .unwrap()
}

/// Tasks `T0` and `T1` running on `W1` (the leader), what runs, and
/// `W1`'s events from then on.
async fn two_tasks_on_w1() -> (Cluster, Running, broadcast::Receiver<WorkerEvent>) {
    let mut c = Cluster::new().await;
    c.add_tasks(2).await;
    c.join("W1").await;
    c.wait_all_running(2, SESSION).await;
    let before = c.running();
    let events = c.member("W1").worker.events();
    (c, before, events)
}

fn is_malformed_at(e: &Error, node: &str) -> bool {
    matches!(e, Error::MalformedRecord { path, .. } if path == node)
}

#[tokio::test(start_paused = true)]
async fn a_malformed_task_record_keeps_its_task_where_it_runs_and_the_admin_refuses_it() {
    let (mut c, before, mut events) = two_tasks_on_w1().await;
    let node = c.admin.layout().task(&task(0));
    write_task_and_tell(&c, &task(0), b"{\"payload\": 7}").await;
    // A second worker: the leader balances what it can decide about.
    c.join("W2").await;
    tokio::time::sleep(SETTLE * 2).await;
    assert_eq!(c.running()[&task(0)], before[&task(0)], "T0 left alone");
    assert!(
        malformed(&mut events).contains(&(node.clone(), "task")),
        "the leader told it"
    );

    let store = c.admin.store().clone();
    let unchanged = snapshot(&*store, &c.root).await;
    let err = c.admin.pause_task(&task(0)).await.unwrap_err();
    assert!(is_malformed_at(&err, node.as_str()), "{err:?}");
    let err = c.admin.status().await.unwrap_err();
    assert!(is_malformed_at(&err, node.as_str()), "{err:?}");
    assert_eq!(snapshot(&*store, &c.root).await, unchanged);

    // Repaired, it is new data: restarted with it.
    write_task_and_tell(&c, &task(0), &record("fixed", None)).await;
    c.wait_until("T0 runs the repaired payload", SETTLE, |c| {
        c.running()
            .get(&task(0))
            .is_some_and(|(_, t)| c.payload(&task(0), *t).as_deref() == Some(&b"fixed"[..]))
    })
    .await;
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_owner_reading_a_malformed_task_record_still_follows_its_other_tasks() {
    let mut c = Cluster::new().await;
    for i in 0..2 {
        let spec = TaskSpec::new(task_name(i)).unwrap().pinned("W2").unwrap();
        c.admin.add_task(spec).await.unwrap();
    }
    c.join("W1").await; // the leader
    c.wait_until("W1 leads", SETTLE, |_| true).await;
    tokio::time::sleep(SETTLE).await;
    c.join("W2").await; // the owner of both tasks
    c.wait_all_running(2, SETTLE).await;
    let before = c.running();
    let mut events = c.member("W2").worker.events();
    // The owner hears of changes 100 ms late: T0 is damaged after the
    // leader read its update and before its owner does.
    c.member("W2")
        .store
        .delay_watches(Duration::from_millis(100));
    let update = |i: usize| TaskSpec::new(task_name(i)).unwrap().pinned("W2").unwrap();
    c.admin.update_task(update(0).payload("v2")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let node = c.admin.layout().task(&task(0));
    write_by_hand(&**c.admin.store(), &node, b"damaged").await;
    c.admin.update_task(update(1).payload("v2")).await.unwrap();

    c.wait_until("T1 restarted with its update", SETTLE, |c| {
        c.running()
            .get(&task(1))
            .is_some_and(|(_, t)| c.payload(&task(1), *t).as_deref() == Some(&b"v2"[..]))
    })
    .await;
    assert_eq!(
        c.running()[&task(0)],
        before[&task(0)],
        "T0 runs on as it was"
    );
    assert!(malformed(&mut events).contains(&(node.clone(), "task")));
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_ownership_record_keeps_its_task_where_it_runs() {
    let (mut c, before, mut events) = two_tasks_on_w1().await;
    let node = c.admin.layout().owner(&task(0));
    write_by_hand(&**c.admin.store(), &node, b"{\"worker\": \"W1\"}").await;
    // Balancing two tasks over two workers would move one; not the one
    // whose owner cannot be read.
    c.join("W2").await;
    tokio::time::sleep(SETTLE * 2).await;
    assert_eq!(c.running()[&task(0)], before[&task(0)]);
    assert!(malformed(&mut events).contains(&(node.clone(), "ownership")));
    let err = c.admin.owners().await.unwrap_err();
    assert!(is_malformed_at(&err, node.as_str()), "{err:?}");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_leader_writes_its_malformed_records_again_and_nothing_stops_meanwhile() {
    let resync = Duration::from_secs(4);
    let mut c = Cluster::new().await;
    c.add_tasks(2).await;
    c.join_with("W1", |b| b.leader_resync(resync)).await;
    c.wait_all_running(2, SESSION).await;
    let before = c.running();
    let mut events = c.member("W1").worker.events();
    let store = c.admin.store().clone();
    let target = c.admin.layout().target(&WorkerId::new("W1").unwrap());
    let open = c.admin.layout().open().clone();
    write_by_hand(&*store, &target, b"[1, 2]").await;
    write_by_hand(&*store, &open, b"{\"tasks\": 3}").await;
    tokio::time::sleep(resync + SETTLE).await;
    assert_eq!(c.running(), before, "nothing stopped or restarted");
    let told = malformed(&mut events);
    assert!(told.contains(&(target.clone(), "target")), "{told:?}");
    let data = store.get(&target).await.unwrap().unwrap().data;
    let rewritten = TargetRecord::decode(&target, &data).unwrap();
    assert_eq!(rewritten.tasks.len(), 2);
    let data = store.get(&open).await.unwrap().unwrap().data;
    OpenRecord::decode(&open, &data).unwrap();
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_change_log_refuses_admin_changes_until_emptied() {
    let mut c = Cluster::new().await;
    c.add_tasks(1).await;
    c.join("W1").await;
    c.wait_all_running(1, SESSION).await;
    let mut events = c.member("W1").worker.events();
    let store = c.admin.store().clone();
    let log = c.admin.layout().tasks().clone();
    write_by_hand(&*store, &log, b"{\"changes\": \"many\"}").await;
    let unchanged = snapshot(&*store, &c.root).await;
    let err = c
        .admin
        .add_task(TaskSpec::new(task_name(1)).unwrap())
        .await
        .unwrap_err();
    assert!(is_malformed_at(&err, log.as_str()), "{err:?}");
    let err = c.admin.remove_task(&task(0)).await.unwrap_err();
    assert!(is_malformed_at(&err, log.as_str()), "{err:?}");
    assert_eq!(snapshot(&*store, &c.root).await, unchanged);
    tokio::time::sleep(SETTLE).await;
    assert!(c.running().contains_key(&task(0)));
    assert!(malformed(&mut events).contains(&(log.clone(), "tasks change log")));

    // Emptied, it counts from the start again and the leader reads all.
    write_by_hand(&*store, &log, b"").await;
    c.admin
        .add_task(TaskSpec::new(task_name(1)).unwrap())
        .await
        .unwrap();
    c.wait_all_running(2, SETTLE).await;
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_leader_record_fails_the_admin_naming_it() {
    let mut c = Cluster::new().await;
    c.join("W1").await;
    c.wait_until("W1 leads", SETTLE, |_| true).await;
    tokio::time::sleep(SETTLE).await;
    let node = c.admin.layout().leader().clone();
    assert!(c.admin.leader().await.unwrap().is_some());
    write_by_hand(&**c.admin.store(), &node, b"W1").await;
    let err = c.admin.leader().await.unwrap_err();
    assert!(is_malformed_at(&err, node.as_str()), "{err:?}");
    assert!(err.to_string().contains("leader record"), "{err}");
    c.stop().await;
}

//! Counters that do not decode fail closed, on the memory backend under
//! paused tokio time: a fencing counter (`epochs/<task>`) that is not
//! decimal text stops every claim of its task, never handing out a token
//! that is not above every earlier one, while the other tasks run; a leader
//! term that does not decode keeps the elected worker from leading. Each
//! is told once as a worker event naming the node, and everything goes on
//! once the node is repaired. `records_zookeeper.rs` and `records_etcd.rs`
//! run the fencing counter case against real servers.

#![allow(clippy::unwrap_used)]

use tenure_core::internals::claim::{self, ClaimError};
use tenure_core::{CoordinationStore, Error, TaskSpec, WorkerEvent, WorkerEventKind, WorkerId};
use tenure_tests::runtime::{
    Cluster, SESSION, malformed, snapshot, task, task_name, write_by_hand,
};
use tokio::sync::broadcast;

/// The terms of the `Leading` events available now (the other events are
/// dropped).
fn leading(events: &mut broadcast::Receiver<WorkerEvent>) -> Vec<u64> {
    let mut terms = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let WorkerEventKind::Leading { term } = e.kind {
            terms.push(term);
        }
    }
    terms
}

#[tokio::test(start_paused = true)]
async fn a_malformed_fencing_counter_stops_the_claims_of_its_task_only() {
    let mut c = Cluster::new().await;
    c.add_tasks(2).await;
    let store = c.admin.store().clone();
    let layout = c.admin.layout().clone();
    let epoch = layout.epoch(&task(0));
    write_by_hand(&*store, &epoch, b"garbage").await;
    c.join("W1").await;
    let mut events = c.member("W1").worker.events();
    c.wait_until("T1 runs", SESSION, |c| c.running().contains_key(&task(1)))
        .await;
    tokio::time::sleep(SESSION * 2).await;
    assert!(!c.running().contains_key(&task(0)), "{:?}", c.running());
    assert_eq!(
        malformed(&mut events),
        [(epoch.clone(), "epoch")],
        "told once"
    );
    assert_eq!(store.get(&epoch).await.unwrap().unwrap().data, b"garbage");
    assert!(store.get(&layout.owner(&task(0))).await.unwrap().is_none());

    // A claim says why, naming the node, and writes nothing.
    let before = snapshot(&*store, &c.root).await;
    let session = store.session_state().session().unwrap();
    let worker = WorkerId::new("X").unwrap();
    let err = claim::claim(&*store, &layout, &task(0), &worker, session)
        .await
        .unwrap_err();
    match &err {
        ClaimError::Store(e @ Error::MalformedRecord { path, record, .. }) => {
            assert_eq!((path.as_str(), *record), (epoch.as_str(), "epoch"));
            assert!(e.to_string().contains("garbage"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(&*store, &c.root).await, before, "nothing written");

    // Repaired, the task runs with the token after the one written.
    write_by_hand(&*store, &epoch, b"41").await;
    c.wait_until("T0 runs with token 42", SESSION, |c| {
        c.running().get(&task(0)).is_some_and(|(_, t)| *t == 42)
    })
    .await;
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_fencing_counter_restarts_no_handler_with_a_smaller_token() {
    let mut c = Cluster::new().await;
    c.add_tasks(1).await;
    c.join("W1").await;
    c.wait_all_running(1, SESSION).await;
    let (_, old) = c.running()[&task(0)].clone();
    let mut events = c.member("W1").worker.events();
    let store = c.admin.store().clone();
    let epoch = c.admin.layout().epoch(&task(0));
    write_by_hand(&*store, &epoch, b"").await;

    // The update stops the handler; starting it again needs a new token,
    // which a counter that does not decode cannot give.
    let spec = TaskSpec::new(task_name(0)).unwrap().payload("v2");
    c.admin.update_task(spec).await.unwrap();
    c.wait_until("T0 stopped", SESSION, |c| {
        !c.running().contains_key(&task(0))
    })
    .await;
    tokio::time::sleep(SESSION * 2).await;
    // `running` also checks that no token went backwards.
    assert!(!c.running().contains_key(&task(0)));
    assert_eq!(malformed(&mut events), [(epoch.clone(), "epoch")]);

    let repaired = old + 10;
    write_by_hand(&*store, &epoch, repaired.to_string().as_bytes()).await;
    c.wait_until("T0 runs again", SESSION, |c| {
        c.running().contains_key(&task(0))
    })
    .await;
    let (_, new) = c.running()[&task(0)].clone();
    assert_eq!(new, repaired + 1);
    assert_eq!(c.payload(&task(0), new).unwrap(), b"v2");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_malformed_term_keeps_the_elected_worker_from_leading_until_repaired() {
    let mut c = Cluster::new().await;
    c.add_tasks(2).await;
    c.join("W1").await;
    c.wait_all_running(2, SESSION).await;
    let store = c.admin.store().clone();
    let term = c.admin.layout().term().clone();
    write_by_hand(&*store, &term, b"second").await;
    c.join("W2").await;
    let mut events = c.member("W2").worker.events();
    let mut leads = c.member("W2").worker.events();

    // The leader dies with its tasks; W2 is elected but cannot start a
    // term, so nobody places the tasks.
    c.crash("W1").await;
    tokio::time::sleep(SESSION * 3).await;
    assert_eq!(leading(&mut leads), Vec::<u64>::new());
    assert_eq!(malformed(&mut events), [(term.clone(), "term")]);
    assert_eq!(
        c.admin.leader().await.unwrap().unwrap().worker.as_str(),
        "W2"
    );
    assert_eq!(store.get(&term).await.unwrap().unwrap().data, b"second");
    assert!(c.running().is_empty(), "{:?}", c.running());

    write_by_hand(&*store, &term, b"7").await;
    c.wait_all_running(2, SESSION).await;
    assert_eq!(leading(&mut leads), [8]);
    assert_eq!(c.on("W2").len(), 2);
    c.stop().await;
}

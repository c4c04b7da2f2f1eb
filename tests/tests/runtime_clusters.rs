//! Listing and removing clusters on the memory backend under paused tokio
//! time: the list writes nothing; a removal refuses while a worker is
//! registered, otherwise removes the whole subtree (stale fencing counters
//! and drain marks included) and nothing else; a worker starting while a
//! removal runs is never unregistered by it and never left stuck.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure_core::store::{Completed, Observed, Operation, StoreObserver};
use tenure_core::{
    Admin, CoordinationStore, DynStore, Error, Path, StoreExt, TaskContext, TaskId, TaskSpec,
    Worker, WorkerId,
};
use tenure_memory::{MemoryServer, MemoryStore};
use tenure_tests::runtime::{SESSION, as_dyn, snapshot};

/// A handler that runs until its task is taken away.
async fn run_until_cancelled(ctx: TaskContext) -> tenure_core::HandlerResult {
    ctx.cancelled().await;
    Ok(())
}

/// A worker of `cluster` (under `/tenure`), running.
async fn start(server: &MemoryServer, cluster: &str, id: &str) -> (Worker, MemoryStore) {
    start_slow(server, cluster, id, Duration::ZERO).await
}

/// As [`start`], every answer to the worker taking `answer`.
async fn start_slow(
    server: &MemoryServer,
    cluster: &str,
    id: &str,
    answer: Duration,
) -> (Worker, MemoryStore) {
    let store = server.connect(SESSION).await.unwrap();
    if !answer.is_zero() {
        store.delay_answers(answer);
    }
    let worker = Worker::builder(as_dyn(&store), cluster)
        .id(id)
        .handler(run_until_cancelled)
        .build()
        .unwrap();
    drop(worker.spawn());
    (worker, store)
}

async fn admin_of(server: &MemoryServer, cluster: &str, tasks: usize) -> (Admin, DynStore) {
    let store = as_dyn(&server.connect(SESSION).await.unwrap());
    let admin = Admin::new(store.clone(), cluster).await.unwrap();
    for i in 0..tasks {
        let spec = TaskSpec::new(format!("{cluster}-t{i}")).unwrap();
        admin.add_task(spec).await.unwrap();
    }
    (admin, store)
}

/// The paths a store deleted.
#[derive(Clone, Default)]
struct Deleted(Arc<Mutex<Vec<String>>>);

impl StoreObserver for Deleted {
    fn after(&self, completed: &Completed<'_>) {
        let request = completed.request;
        if let (Operation::Delete, Some(path), None) =
            (request.operation, request.path, completed.error)
        {
            self.0.lock().unwrap().push(path.to_string());
        }
    }
}

fn root(cluster: &str) -> Path {
    Path::new("/tenure").unwrap().child(cluster).unwrap()
}

async fn wait_registered(worker: &Worker) {
    let mut health = worker.health_watch();
    let registered = tokio::time::timeout(SESSION * 4, health.wait_for(|h| h.is_ready())).await;
    assert!(registered.is_ok(), "not registered: {:?}", worker.health());
}

#[tokio::test(start_paused = true)]
async fn clusters_lists_every_cluster_and_writes_nothing() {
    let server = MemoryServer::new();
    let store = as_dyn(&server.connect(SESSION).await.unwrap());
    assert!(Admin::clusters(&*store).await.unwrap().is_empty());
    let everything = Path::root();
    let before = snapshot(&*store, &everything).await;
    assert!(Admin::clusters(&*store).await.unwrap().is_empty());
    assert_eq!(snapshot(&*store, &everything).await, before, "no write");

    admin_of(&server, "zeta", 1).await;
    admin_of(&server, "alpha", 0).await;
    let before = snapshot(&*store, &everything).await;
    assert_eq!(Admin::clusters(&*store).await.unwrap(), ["alpha", "zeta"]);
    assert_eq!(snapshot(&*store, &everything).await, before, "no write");
}

#[tokio::test(start_paused = true)]
async fn removal_refuses_while_a_worker_is_registered_and_changes_nothing() {
    let server = MemoryServer::new();
    let (admin, store) = admin_of(&server, "busy", 2).await;
    let (w2, _s2) = start(&server, "busy", "W2").await;
    let (w1, _s1) = start(&server, "busy", "W1").await;
    wait_registered(&w1).await;
    wait_registered(&w2).await;
    tokio::time::sleep(SESSION).await;
    let tasks = admin.tasks().await.unwrap();
    let err = Admin::remove_cluster(&*store, "busy").await.unwrap_err();
    match &err {
        Error::ClusterInUse { cluster, workers } => {
            assert_eq!(cluster, "busy");
            assert_eq!(workers, &["W1", "W2"]);
        }
        other => panic!("{other:?}"),
    }
    let said = err.to_string();
    assert!(said.contains("busy") && said.contains("W1, W2"), "{said}");
    assert_eq!(admin.tasks().await.unwrap(), tasks, "nothing removed");
    assert!(w1.health().is_ready() && w2.health().is_ready());

    // Once the workers are gone, the removal goes through.
    w1.shutdown().await;
    w2.shutdown().await;
    Admin::remove_cluster(&*store, "busy").await.unwrap();
    assert!(store.get(&root("busy")).await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn removal_takes_the_whole_subtree_and_nothing_else() {
    let server = MemoryServer::new();
    let (admin, store) = admin_of(&server, "old", 3).await;
    admin_of(&server, "kept", 2).await;
    // A neighbour sharing the prefix, and a node beside the namespace.
    admin_of(&server, "old2", 1).await;
    store
        .create_all(&Path::new("/elsewhere/node").unwrap())
        .await
        .unwrap();
    // Fencing counters, one of them stale (its task removed), a drain
    // mark, and a node made by hand.
    let (w, _s) = start(&server, "old", "W1").await;
    wait_registered(&w).await;
    tokio::time::sleep(SESSION).await;
    w.shutdown().await;
    admin
        .remove_task(&TaskId::new("old-t0").unwrap())
        .await
        .unwrap();
    admin
        .drain_worker(&WorkerId::new("W9").unwrap())
        .await
        .unwrap();
    store
        .create_all(&root("old").child("by-hand").unwrap().child("deep").unwrap())
        .await
        .unwrap();
    let epochs = admin.layout().epochs().clone();
    assert_eq!(store.children(&epochs).await.unwrap().len(), 3, "counters");

    let everything = Path::root();
    let outside: Vec<_> = snapshot(&*store, &everything)
        .await
        .into_iter()
        .filter(|(path, ..)| !Path::new(path).unwrap().starts_with(&root("old")))
        .collect();
    Admin::remove_cluster(&*store, "old").await.unwrap();
    assert_eq!(snapshot(&*store, &everything).await, outside);
    assert_eq!(Admin::clusters(&*store).await.unwrap(), ["kept", "old2"]);

    let err = Admin::remove_cluster(&*store, "old").await.unwrap_err();
    assert!(matches!(err, Error::UnknownCluster { .. }), "{err:?}");
    let err = Admin::remove_cluster(&*store, "no/such").await.unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
}

/// A worker starts at several instants of a removal whose every answer
/// takes a while: whatever the instant, the removal either goes through or
/// refuses naming the worker, never deletes a node of its session
/// (registration, leader, ownership), and the
/// worker ends registered (in a cluster made again if the removal went
/// first), running the tasks added afterwards.
#[tokio::test(start_paused = true)]
async fn a_worker_starting_during_a_removal_is_never_unregistered_nor_stuck() {
    const ANSWER: Duration = Duration::from_millis(2);
    let (mut removed, mut refused) = (0, 0);
    for offset_ms in (0..40).chain([80]) {
        let server = MemoryServer::new();
        let (_, _) = admin_of(&server, "racy", 6).await;
        let slow = server.connect(SESSION).await.unwrap();
        slow.delay_answers(ANSWER);
        let deleted = Deleted::default();
        let slow: DynStore = Arc::new(Observed::new(as_dyn(&slow), deleted.clone()));
        let removal = tokio::spawn(async move { Admin::remove_cluster(&*slow, "racy").await });
        tokio::time::sleep(Duration::from_millis(offset_ms)).await;
        let (w, _s) = start_slow(&server, "racy", "W1", ANSWER / 2).await;
        let outcome = removal.await.unwrap();
        match &outcome {
            Ok(()) => removed += 1,
            Err(Error::ClusterInUse { workers, .. }) if workers == &["W1"] => refused += 1,
            Err(e) => panic!("at {offset_ms} ms: {e:?}"),
        }
        // No node of a live session: registrations, ownership, leader.
        let live: Vec<String> = deleted
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.contains("/workers/") || p.contains("/owners/") || p.ends_with("/leader"))
            .cloned()
            .collect();
        assert!(live.is_empty(), "at {offset_ms} ms deleted {live:?}");
        wait_registered(&w).await;
        let (admin, _) = admin_of(&server, "racy", 0).await;
        admin
            .add_task(TaskSpec::new("after").unwrap())
            .await
            .unwrap();
        let after = TaskId::new("after").unwrap();
        let ran = tokio::time::timeout(SESSION * 4, async {
            while !w.running().contains_key(&after) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(
            ran.is_ok(),
            "at {offset_ms} ms ({outcome:?}): {:?}",
            w.health()
        );
        w.shutdown().await;
    }
    assert!(
        removed > 0 && refused > 0,
        "removed {removed}, refused {refused}"
    );
}

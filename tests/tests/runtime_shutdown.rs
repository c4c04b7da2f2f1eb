//! Shutting a worker down on the memory backend under paused tokio time:
//! `shutdown` and `kill` return at once on a worker that never ran or whose
//! run ended, and a graceful shutdown is bounded even when the store stops
//! answering (a silent partition), the tasks being taken over when the
//! session ends, without overlap.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{CoordinationStore, Error, Path, TaskId, Worker};
use tenure_memory::MemoryServer;
use tenure_tests::runtime::{Cluster, SESSION, as_dyn, assert_handed_over, started_at};
use tenure_tests::sim::History;
use tokio::time::{Instant, timeout};

const TASKS: usize = 4;

/// What "at once" means under paused time.
const AT_ONCE: Duration = Duration::from_millis(1);

async fn unstarted_worker(server: &MemoryServer) -> Worker {
    let store = server.connect(SESSION).await.unwrap();
    Worker::builder(as_dyn(&store), "rt")
        .id("W1")
        .handler(History::new().handler())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn shutdown_and_kill_of_a_worker_that_never_ran_return_at_once() {
    let server = MemoryServer::new();
    let w = unstarted_worker(&server).await;
    timeout(AT_ONCE, w.shutdown())
        .await
        .expect("shutdown of a worker that never ran");
    timeout(AT_ONCE, w.kill())
        .await
        .expect("kill of a worker that never ran");
    // A run after the shutdown returns at once and writes nothing.
    timeout(AT_ONCE, w.run()).await.unwrap().unwrap();
    let admin = server.connect(SESSION).await.unwrap();
    let root = Path::new("/tenure/rt").unwrap();
    assert!(admin.get(&root).await.unwrap().is_none());
    // It ran once: the next run is refused, and returns at once too.
    let again = timeout(AT_ONCE, w.run()).await.unwrap();
    assert!(matches!(again, Err(Error::InvalidInput(_))), "{again:?}");

    let w = unstarted_worker(&server).await;
    timeout(AT_ONCE, w.kill()).await.expect("kill first");
    timeout(AT_ONCE, w.shutdown()).await.expect("then shutdown");
}

#[tokio::test(start_paused = true)]
async fn shutdown_and_kill_after_the_run_ended_return_at_once() {
    let server = MemoryServer::new();
    let w = unstarted_worker(&server).await;
    let run = w.spawn();
    // `spawn` has begun the run: a shutdown right away waits for it.
    w.shutdown().await;
    timeout(AT_ONCE, run).await.unwrap().unwrap().unwrap();
    timeout(AT_ONCE, w.shutdown())
        .await
        .expect("second shutdown");
    timeout(AT_ONCE, w.kill())
        .await
        .expect("kill after the end");

    let w = unstarted_worker(&server).await;
    let run = w.spawn();
    tokio::time::sleep(SESSION).await;
    w.kill().await;
    timeout(AT_ONCE, run).await.unwrap().unwrap().unwrap();
    timeout(AT_ONCE, w.kill()).await.expect("second kill");
    timeout(AT_ONCE, w.shutdown())
        .await
        .expect("shutdown after a kill");
}

/// W1 is cut off silently and then asked to shut down: the store answers
/// nothing (neither the registration delete, nor the target read, nor the
/// releases, nor the leader's requests). The shutdown still returns within
/// its documented bound, before the session could even end; W1's handlers
/// are gone by then; W2 takes every task over once the server ends W1's
/// session, each after W1's handler stopped, with a larger token.
#[tokio::test(start_paused = true)]
async fn graceful_shutdown_under_a_silent_partition_is_bounded_and_tasks_move_after_the_session() {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    let handoff = Duration::from_millis(500);
    c.join_with("W1", |b| b.handoff_timeout(handoff)).await;
    c.join("W2").await;
    c.wait_until("balanced", SESSION * 2, |c| {
        c.running().len() == TASKS && c.on("W1").len() == TASKS / 2
    })
    .await;
    let timing = c.member("W1").worker.timing();
    let before: Vec<(TaskId, u64)> = c
        .running()
        .into_iter()
        .filter(|(_, (w, _))| w.as_str() == "W1")
        .map(|(t, (_, tok))| (t, tok))
        .collect();

    let cut = c.now_ms();
    c.member("W1").store.partition();
    let start = Instant::now();
    let store = c.shutdown("W1").await;
    let took = start.elapsed();
    let bound = timing.shutdown_bound();
    println!("shutdown under a partition returned after {took:?} (bound {bound:?})");
    assert!(
        took <= bound + Duration::from_millis(20),
        "{took:?} > {bound:?}"
    );
    assert!(took >= handoff, "it waited for the handoff: {took:?}");
    assert!(took < SESSION, "returned before the session could end");
    assert!(c.on("W1").is_empty(), "W1's handlers are gone");

    c.wait_until("W2 runs everything", SESSION * 2, |c| {
        c.on("W2").len() == TASKS
    })
    .await;
    let expiry = cut + SESSION.as_millis() as u64;
    let now = c.running();
    for (task, old) in &before {
        let (w, new) = &now[task];
        assert_eq!(w.as_str(), "W2", "{task}");
        assert_handed_over(&c.history, task, *old, *new);
        let started = started_at(&c.history, task, *new).unwrap();
        assert!(
            started >= expiry,
            "{task} started at {started} ms, W1's session could end at {expiry} ms"
        );
    }
    drop(store);
    c.stop().await;
}

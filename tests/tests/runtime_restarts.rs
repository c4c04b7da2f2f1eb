//! Handlers that end by themselves are restarted after a backoff: 100 ms
//! first, doubling up to 30 s, each pause up to a tenth shorter at random
//! (seeded by the worker and the task, so a run replays the same pauses).
//! Measured in paused tokio time on the memory backend.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure_core::{HandlerResult, TaskContext};
use tenure_tests::runtime::{Cluster, SESSION};
use tokio::time::Instant;

/// A handler that notes when it starts and then returns at once, with an
/// error if `fail`.
fn quitter(
    starts: Arc<Mutex<Vec<Instant>>>,
    fail: bool,
) -> impl Fn(TaskContext) -> std::future::Ready<HandlerResult> + Send + Sync + 'static {
    move |_ctx| {
        starts.lock().unwrap().push(Instant::now());
        std::future::ready(if fail { Err("it broke".into()) } else { Ok(()) })
    }
}

/// The pauses between the first `n + 1` starts of `T0` on a lone worker
/// whose handler returns at once.
async fn restart_pauses(fail: bool, n: usize) -> Vec<Duration> {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let mut c = Cluster::new().await;
    let handler = quitter(starts.clone(), fail);
    c.join_with("W1", |b| b.handler(handler)).await;
    c.add_tasks(1).await;
    let bound = SESSION + Duration::from_secs(120);
    c.wait_until("the handler has restarted enough", bound, |_| {
        starts.lock().unwrap().len() > n
    })
    .await;
    c.stop().await;
    let starts = starts.lock().unwrap();
    starts.windows(2).take(n).map(|w| w[1] - w[0]).collect()
}

/// Every pause is within a tenth below the documented one (the jitter) and
/// not more than a few milliseconds above it (the restart's re-confirming
/// requests).
fn assert_pauses(pauses: &[Duration], documented_ms: &[u64]) {
    assert_eq!(pauses.len(), documented_ms.len());
    for (pause, &ms) in pauses.iter().zip(documented_ms) {
        let documented = Duration::from_millis(ms);
        assert!(
            *pause >= documented * 9 / 10 && *pause <= documented + Duration::from_millis(10),
            "pause {pause:?} is not about {documented:?} (all: {pauses:?})"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_returns_is_first_restarted_after_100_ms_then_doubling() {
    let pauses = restart_pauses(false, 4).await;
    assert_pauses(&pauses, &[100, 200, 400, 800]);
}

#[tokio::test(start_paused = true)]
async fn a_failing_handler_backs_off_the_same_way_up_to_30_s() {
    let pauses = restart_pauses(true, 11).await;
    assert_pauses(
        &pauses,
        &[
            100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000,
        ],
    );
}

#[tokio::test(start_paused = true)]
async fn the_same_worker_and_task_replay_the_same_pauses() {
    let first = restart_pauses(true, 5).await;
    let again = restart_pauses(true, 5).await;
    assert_eq!(first, again);
}

//! A handler's outcome: done (`TaskContext::mark_done`, then `Ok`) is not
//! restarted anywhere until re-armed or updated, and shows as done in the
//! status; failed (`Err`) is restarted even after `mark_done`. Memory
//! backend, paused tokio time.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tenure_core::TaskState;
use tenure_core::{HandlerResult, TaskContext, TaskSpec};
use tenure_tests::runtime::{Cluster, SESSION, task};

/// A handler that counts its starts, marks the task done and returns,
/// with an error if `fail`.
fn finisher(
    starts: Arc<AtomicUsize>,
    fail: bool,
) -> impl Fn(TaskContext) -> std::future::Ready<HandlerResult> + Send + Sync + 'static {
    move |ctx| {
        starts.fetch_add(1, Ordering::SeqCst);
        ctx.mark_done();
        std::future::ready(if fail { Err("it broke".into()) } else { Ok(()) })
    }
}

async fn state_of_t0(c: &Cluster) -> TaskState {
    c.admin.tasks().await.unwrap()[0].state
}

#[tokio::test(start_paused = true)]
async fn a_done_task_runs_nowhere_until_rearmed_or_updated() {
    let starts = Arc::new(AtomicUsize::new(0));
    let mut c = Cluster::new().await;
    let handler = finisher(starts.clone(), false);
    c.join_with("W1", |b| b.handler(handler)).await;
    let handler = finisher(starts.clone(), false);
    c.join_with("W2", |b| b.handler(handler)).await;
    c.add_tasks(1).await;
    let bound = SESSION * 4;
    c.wait_until("the handler ran", bound, |_| {
        starts.load(Ordering::SeqCst) == 1
    })
    .await;
    tokio::time::sleep(SESSION * 5).await;
    assert_eq!(starts.load(Ordering::SeqCst), 1, "not restarted anywhere");
    assert_eq!(state_of_t0(&c).await, TaskState::Done);
    assert!(c.admin.owners().await.unwrap().is_empty(), "released");

    c.admin.rearm_task(&task(0)).await.unwrap();
    c.wait_until("re-armed, it ran again", bound, |_| {
        starts.load(Ordering::SeqCst) == 2
    })
    .await;
    tokio::time::sleep(SESSION * 3).await;
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    assert_eq!(state_of_t0(&c).await, TaskState::Done);

    let spec = TaskSpec::new("T0").unwrap().payload("new work");
    c.admin.update_task(spec).await.unwrap();
    c.wait_until("updated, it ran again", bound, |_| {
        starts.load(Ordering::SeqCst) == 3
    })
    .await;
    tokio::time::sleep(SESSION * 3).await;
    assert_eq!(starts.load(Ordering::SeqCst), 3);
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_handler_is_restarted_even_if_it_marked_the_task_done() {
    let starts = Arc::new(AtomicUsize::new(0));
    let mut c = Cluster::new().await;
    let handler = finisher(starts.clone(), true);
    c.join_with("W1", |b| b.handler(handler)).await;
    c.add_tasks(1).await;
    c.wait_until("restarted", SESSION + Duration::from_secs(5), |_| {
        starts.load(Ordering::SeqCst) >= 3
    })
    .await;
    assert_ne!(state_of_t0(&c).await, TaskState::Done);
    c.stop().await;
}

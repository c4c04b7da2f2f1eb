//! A task paused while its worker is fenced never starts again, on the
//! memory backend under paused tokio time: when the connection comes back
//! the worker re-confirms its claim, and the re-confirmation checks that the
//! task node is still the one it read, so the handler does not start on a
//! task paused meanwhile (the leader's target, which still lists it, lags
//! behind the pause).

#![allow(clippy::unwrap_used)]

use tenure_tests::runtime::{Cluster, Entry, SESSION, task};

fn starts_of_t0_after(c: &Cluster, at_ms: u64) -> Vec<Entry> {
    c.history
        .entries()
        .into_iter()
        .filter(|e| matches!(e, Entry::Start { at_ms: t, task: id, .. } if *t >= at_ms && *id == task(0)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_task_paused_during_a_fence_does_not_start_again() {
    let c = Cluster::with_t0_on("W0").await;
    let w0 = c.member("W0").store.clone();
    w0.suspend();
    c.wait_until("the fence stops T0", SESSION, |c| c.running().is_empty())
        .await;
    c.admin.pause_task(&task(0)).await.unwrap();
    let paused_at = c.now_ms();
    w0.resume();
    tokio::time::sleep(SESSION * 2).await;
    let starts = starts_of_t0_after(&c, paused_at);
    assert!(starts.is_empty(), "T0 started after its pause: {starts:#?}");
    c.admin.resume_task(&task(0)).await.unwrap();
    c.wait_all_running(1, SESSION).await;
    c.stop().await;
}

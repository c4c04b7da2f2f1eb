//! A task the leader has just placed stays where it was placed while the
//! chosen worker's claim is still on its way: a leader round that runs in
//! between (another task was added) must not place it afresh. On the
//! memory backend under paused tokio time, with one worker's watch events
//! delayed so that it claims late.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{TaskId, TaskSpec};
use tenure_tests::runtime::{Cluster, Entry, SESSION, entries_of};

/// Starts of `task`'s handler so far.
fn starts(c: &Cluster, task: &str) -> Vec<(String, u64)> {
    entries_of(&c.history, &TaskId::new(task).unwrap())
        .into_iter()
        .filter_map(|e| match e {
            Entry::Start { worker, token, .. } => Some((worker.to_string(), token)),
            Entry::Stop { .. } => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_task_placed_but_not_yet_claimed_is_not_placed_again() {
    let mut checked = 0;
    for slow in ["a", "b"] {
        for delay_ms in [20u64, 60, 150] {
            for gap_ms in [0u64, 5, 15, 40] {
                let mut c = Cluster::new().await;
                c.join("a").await;
                c.join("b").await;
                // Both registered and a leader elected, the joins settled.
                tokio::time::sleep(SESSION).await;
                c.member(slow)
                    .store
                    .delay_watches(Duration::from_millis(delay_ms));
                c.admin
                    .add_task(TaskSpec::new("report").unwrap())
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(gap_ms)).await;
                c.admin
                    .add_task(TaskSpec::new("backup").unwrap())
                    .await
                    .unwrap();
                c.wait_all_running(2, SESSION).await;
                // Long enough for any second placement to take effect.
                tokio::time::sleep(SESSION).await;
                for task in ["report", "backup"] {
                    assert_eq!(
                        starts(&c, task).len(),
                        1,
                        "{task} started more than once (slow worker {slow}, watch delay \
                         {delay_ms} ms, second task {gap_ms} ms later): {:?}",
                        starts(&c, task)
                    );
                }
                checked += 1;
                c.stop().await;
            }
        }
    }
    assert_eq!(checked, 24);
}

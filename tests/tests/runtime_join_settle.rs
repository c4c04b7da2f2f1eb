//! The join settle of a cold start when the leader's first reads are slow:
//! workers that register while the leader is still reading the tasks are
//! in its first placement. The settle counts its quiet time from the
//! listing of the registrations; a listing whose watch fired meanwhile is
//! stale, and the leader lists again before placing. Placing on it would
//! start every task on the leader alone and move three quarters of them
//! a moment later.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_tests::runtime::{Cluster, Entry, SESSION};

const TASKS: usize = 600;
const LATE: [&str; 3] = ["W1", "W2", "W3"];

#[tokio::test(start_paused = true)]
async fn workers_joining_during_the_leader_s_first_reads_are_in_its_first_placement() {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join("W0").await;
    // Every answer to W0 takes 30 ms (within the answer allowance of the
    // 2 s session): its first round as leader (the registrations, the
    // tasks 256 at a time, the ownership records, the targets) takes about
    // 300 ms, three times the settle's 100 ms of quiet.
    c.member("W0")
        .store
        .delay_answers(Duration::from_millis(30));
    let mut led = false;
    for _ in 0..200 {
        if c.admin.leader().await.unwrap().is_some() {
            led = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(led, "W0 leads");
    // Its first listing of the registrations is done; the others join
    // while it reads the rest.
    tokio::time::sleep(Duration::from_millis(80)).await;
    for w in LATE {
        c.join(w).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Once the placement is out, W0's answers come at once again (so that
    // its 150 claims do not take 30 ms each).
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.member("W0").store.delay_answers(Duration::ZERO);
    let share = TASKS / 4;
    c.wait_until("every task runs, spread evenly", SESSION * 10, |c| {
        c.running().len() == TASKS
            && ["W0", "W1", "W2", "W3"]
                .iter()
                .all(|w| c.on(w).len() == share)
    })
    .await;
    tokio::time::sleep(SESSION).await;
    let starts = c
        .history
        .entries()
        .iter()
        .filter(|e| matches!(e, Entry::Start { .. }))
        .count();
    assert_eq!(starts, TASKS, "each task started once");
    c.stop().await;
}

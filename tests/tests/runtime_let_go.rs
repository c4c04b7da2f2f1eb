//! A worker that is alive but cannot act lets its tasks go, on the memory
//! backend under paused tokio time: its store would keep the session alive,
//! so without this its tasks would be stranded forever.
//!
//! - Its run future is dropped (or the task of `spawn` aborted): the
//!   handlers are dropped at once and the session is given up.
//! - Its answers keep coming too late to prove the session alive before
//!   the stop instant: it stays fenced, and after
//!   [`Timing::give_up_after`] with the session still connected it gives
//!   the session up.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{CoordinationStore, SessionState, Timing};
use tenure_tests::runtime::{Cluster, SESSION, task};

/// Who runs T0 now, if anyone.
fn owner(c: &Cluster) -> Option<String> {
    c.running().get(&task(0)).map(|(w, _)| w.to_string())
}

async fn t0_on_w0_with_w1_beside() -> Cluster {
    let mut c = Cluster::with_t0_on("W0").await;
    // Sticky leaves it where it runs.
    c.join("W1").await;
    tokio::time::sleep(SESSION).await;
    assert_eq!(owner(&c).as_deref(), Some("W0"));
    c
}

#[tokio::test(start_paused = true)]
async fn a_dropped_run_gives_the_session_up_and_the_tasks_move_at_once() {
    let mut c = t0_on_w0_with_w1_beside().await;
    let store = c.abandon("W0").await;
    assert_eq!(owner(&c), None, "the handler is dropped with the run");
    let took = c
        .wait_until("W1 takes T0 over", SESSION, |c| {
            owner(c).as_deref() == Some("W1")
        })
        .await;
    assert!(
        took < SESSION / 2,
        "taken over {took:?} after the drop: the session was not given up"
    );
    assert!(
        matches!(store.session_state(), SessionState::Connected(_)),
        "the store stays usable under a new session"
    );
    println!("measured: T0 taken over {took:?} after W0's run was dropped");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_worker_whose_answers_come_too_late_lets_its_tasks_go() {
    let c = t0_on_w0_with_w1_beside().await;
    // Every answer takes longer than the stop instant leaves: the session
    // stays alive on the server, but W0 can never prove it in time.
    let w0 = c.member("W0").store.clone();
    let slow = SESSION;
    w0.delay_answers(slow);
    let bound = Timing::for_session(SESSION).give_up_after() + SESSION;
    let took = c
        .wait_until("W1 takes T0 over", bound, |c| {
            owner(c).as_deref() == Some("W1")
        })
        .await;
    println!("measured: T0 taken over {took:?} after W0's answers became {slow:?} slow");
    // The history checks that W0's handler stopped before W1's started.
    let v = c.history.violations();
    assert!(v.is_empty(), "{v:?}");
    w0.delay_answers(Duration::ZERO);
    c.stop().await;
}

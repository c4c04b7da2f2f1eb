//! The admin's ownership event stream on the memory backend under paused
//! tokio time: claims, moves (handoff and graceful shutdown), losses and
//! takeovers, in order, with the tokens of the claims concerned.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt};
use tenure_core::{OwnershipChange, OwnershipEvent};
use tenure_tests::runtime::{Cluster, SESSION, task};

/// The events available now, as (task, worker, token, change).
fn drain(
    events: &mut (impl Stream<Item = OwnershipEvent> + Unpin),
    seen: &mut Vec<OwnershipEvent>,
) -> Vec<(String, String, u64, OwnershipChange)> {
    let mut out = Vec::new();
    while let Some(Some(e)) = events.next().now_or_never() {
        out.push((
            e.task.to_string(),
            e.worker.to_string(),
            e.token,
            e.change.clone(),
        ));
        seen.push(e);
    }
    out
}

fn from(w: &str) -> tenure_core::WorkerId {
    tenure_core::WorkerId::new(w).unwrap()
}

/// The events of a handoff of `task` from `old` to `new`, whose claim got
/// `token`.
fn handoff(
    task: &str,
    old: &str,
    new: &str,
    token: u64,
) -> Vec<(String, String, u64, OwnershipChange)> {
    vec![
        (
            task.into(),
            old.into(),
            token - 1,
            OwnershipChange::Released,
        ),
        (
            task.into(),
            new.into(),
            token,
            OwnershipChange::Moved { from: from(old) },
        ),
    ]
}

#[tokio::test(start_paused = true)]
async fn ownership_events_tell_claims_moves_losses_and_takeovers_in_order() {
    let mut c = Cluster::new().await;
    let mut events = Box::pin(c.admin.ownership_events());
    let mut seen = Vec::new();
    tokio::time::sleep(Duration::from_millis(10)).await; // the first read
    c.add_tasks(2).await;
    c.join("W1").await;
    c.wait_all_running(2, SESSION).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let claimed = drain(&mut events, &mut seen);
    assert_eq!(
        claimed,
        vec![
            ("T0".into(), "W1".into(), 1, OwnershipChange::Claimed),
            ("T1".into(), "W1".into(), 1, OwnershipChange::Claimed),
        ]
    );

    // Handoff to a joining worker: released by W1, then moved to W2.
    c.join("W2").await;
    c.wait_until("W2 has one", SESSION, |c| c.on("W2").len() == 1)
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let moved = c.on("W2")[0].to_string();
    assert_eq!(
        drain(&mut events, &mut seen),
        handoff(&moved, "W1", "W2", 2)
    );

    // Graceful shutdown: a release and a move, not a loss and a takeover
    // (the registration goes first, while the session lives on).
    let store = c.shutdown("W2").await;
    c.wait_until("W1 has both", SESSION, |c| c.on("W1").len() == 2)
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        drain(&mut events, &mut seen),
        handoff(&moved, "W2", "W1", 3)
    );
    tenure_core::CoordinationStore::close(&store).await.unwrap();

    // A crash: lost with the session, then taken over.
    c.join("W3").await;
    c.wait_until("W3 has one", SESSION, |c| c.on("W3").len() == 1)
        .await;
    let lost = c.on("W3")[0].clone();
    let lost_token = c.running()[&lost].1;
    c.crash("W3").await;
    c.wait_until("W1 has both", SESSION * 2, |c| c.on("W1").len() == 2)
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let tail = drain(&mut events, &mut seen);
    let lost = lost.to_string();
    assert_eq!(
        tail[tail.len() - 2..],
        [
            (lost.clone(), "W3".into(), lost_token, OwnershipChange::Lost),
            (
                lost.clone(),
                "W1".into(),
                lost_token + 1,
                OwnershipChange::TakenOver { from: from("W3") }
            ),
        ]
    );
    assert!(seen.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
    assert!(c.running().contains_key(&task(0)));
    c.stop().await;
}

/// The observer hears of changes late (its watch events are delayed), so a
/// handoff's release and claim both land before it reads again: the
/// ownership record it knew was deleted and created again by another
/// worker, and the folder lists the same names as before. The record's own
/// watch still tells the observer to read it again: a move, not silence.
#[tokio::test(start_paused = true)]
async fn a_handoff_that_lands_between_two_reads_still_shows_as_a_move() {
    let mut c = Cluster::new().await;
    c.add_tasks(2).await;
    c.join("W1").await;
    c.wait_all_running(2, SESSION).await;
    let mut events = Box::pin(c.admin.ownership_events());
    let mut seen = Vec::new();
    tokio::time::sleep(Duration::from_millis(10)).await; // the first read
    c.admin_store.delay_watches(Duration::from_millis(200));
    c.join("W2").await;
    c.wait_until("W2 has one", SESSION, |c| c.on("W2").len() == 1)
        .await;
    let moved = c.on("W2")[0].to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        drain(&mut events, &mut seen),
        handoff(&moved, "W1", "W2", 2)
    );
    c.stop().await;
}

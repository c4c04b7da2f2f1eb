//! A worker cut off from the store, on the memory backend under paused
//! tokio time: it stops its handlers at once when told (or within its
//! suspend grace), resumes its tasks with new tokens when the connection
//! comes back within the session, and stops them before its session
//! deadline when it is never told (a silent partition).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{StopReason, WorkerEventKind};
use tenure_tests::runtime::{Cluster, SESSION, started_at, stopped_at};

const TASKS: usize = 4;

async fn one_worker(grace: Option<Duration>) -> Cluster {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join_with("W1", |b| match grace {
        Some(g) => b.suspend_grace(g),
        None => b,
    })
    .await;
    c.wait_all_running(TASKS, SESSION).await;
    c
}

#[tokio::test(start_paused = true)]
async fn suspended_worker_stops_every_handler_at_once_by_default() {
    let c = one_worker(None).await;
    let mut events = c.member("W1").worker.events();
    let before = c.running();
    let cut = c.now_ms();
    c.member("W1").store.suspend();
    c.wait_until("nothing runs", Duration::from_millis(50), |c| {
        c.running().is_empty()
    })
    .await;
    for (task, (_, tok)) in &before {
        assert_eq!(stopped_at(&c.history, task, *tok), Some(cut), "{task}");
    }
    let mut reasons = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let WorkerEventKind::Stopped { reason, .. } = e.kind {
            reasons.push(reason);
        }
    }
    assert_eq!(reasons, vec![StopReason::SessionAtRisk; TASKS]);
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn suspended_worker_with_a_grace_stops_its_handlers_when_the_grace_ends() {
    let grace = Duration::from_millis(600);
    let c = one_worker(Some(grace)).await;
    let before = c.running();
    let cut = c.now_ms();
    c.member("W1").store.suspend();
    tokio::time::sleep(grace - Duration::from_millis(10)).await;
    assert_eq!(c.running().len(), TASKS, "still within the grace");
    c.wait_until("nothing runs", Duration::from_millis(20), |c| {
        c.running().is_empty()
    })
    .await;
    for (task, (_, tok)) in &before {
        let stop = stopped_at(&c.history, task, *tok).unwrap();
        assert_eq!(stop - cut, grace.as_millis() as u64, "{task}");
    }
    c.stop().await;
}

/// What the code does: the records are still ours, so each is re-confirmed
/// by compare-and-set with a new token (token + 1) and the handler starts
/// again with it on the same worker.
#[tokio::test(start_paused = true)]
async fn resumed_within_the_session_worker_reclaims_its_tasks_with_new_tokens() {
    let c = one_worker(None).await;
    let before = c.running();
    let owners = c.admin.owners().await.unwrap();
    c.member("W1").store.suspend();
    tokio::time::sleep(SESSION / 2).await;
    assert!(c.running().is_empty());
    c.member("W1").store.resume();
    let took = c.wait_all_running(TASKS, Duration::from_millis(200)).await;
    let after = c.running();
    let owners_after = c.admin.owners().await.unwrap();
    for (task, (w, tok)) in &before {
        assert_eq!(&after[task].0, w, "{task} stays");
        assert_eq!(after[task].1, tok + 1, "{task} gets the next token");
        assert_eq!(
            owners_after[task].token,
            tok + 1,
            "{task} record re-confirmed"
        );
        assert_eq!(owners_after[task].worker, owners[task].worker);
    }
    println!("running again {took:?} after the resume");
    c.stop().await;
}

/// The worker is never told: its state stays connected and the client's
/// own deadline keeps moving. Only the runtime's deadline (from the send
/// time of its last answered request) can stop the handlers, and it must
/// have them gone a safety margin before the server can end the session
/// and a survivor claim.
#[tokio::test(start_paused = true)]
async fn silently_partitioned_worker_stops_its_handlers_before_its_session_deadline() {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    c.join("W1").await;
    c.join("W2").await;
    c.wait_until("balanced", SESSION * 2, |c| {
        c.running().len() == TASKS && c.on("W1").len() == TASKS / 2
    })
    .await;
    let timing = c.member("W1").worker.timing();
    let before: Vec<_> = c
        .running()
        .into_iter()
        .filter(|(_, (w, _))| w.as_str() == "W1")
        .collect();
    let cut = c.now_ms();
    c.member("W1").store.partition();
    c.wait_until("W2 runs everything", SESSION * 2, |c| {
        c.on("W2").len() == TASKS
    })
    .await;
    // The server ends the session at cut + SESSION at the earliest.
    let expiry = cut + SESSION.as_millis() as u64;
    let margin = timing.safety_margin.as_millis() as u64;
    // The last answered request was sent at most a heartbeat before the cut.
    let earliest = cut + (SESSION - timing.heartbeat - timing.stop_lead()).as_millis() as u64;
    for (task, (_, tok)) in &before {
        let stop = stopped_at(&c.history, task, *tok).unwrap();
        assert!(
            stop <= expiry - margin,
            "{task} stopped at {stop} ms, the session could end at {expiry} ms"
        );
        assert!(
            stop >= earliest,
            "{task} stopped at {stop} ms: by the deadline, not a signal"
        );
        let (w, new) = c.running()[task].clone();
        assert_eq!(w.as_str(), "W2");
        assert!(new > *tok);
        assert!(
            started_at(&c.history, task, new).unwrap() >= expiry,
            "{task}"
        );
        println!("{task}: stopped {} ms after the cut", stop - cut);
    }
    // Healed: W1 learns its session ended, registers again, gets its share.
    c.member("W1").store.resume();
    c.wait_until("balanced again", SESSION * 2, |c| {
        c.on("W1").len() == TASKS / 2
    })
    .await;
    c.stop().await;
}

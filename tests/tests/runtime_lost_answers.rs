//! A claim the server applied but whose answer the worker never got (the
//! connection dropped after the server applied the multi), on the memory
//! backend under paused tokio time: the worker finds the record of its own
//! session that it does not hold and releases it, so the task is never
//! stranded until the session ends, and a handler only ever runs under a
//! token its worker claimed knowingly.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{CoordinationStore, Layout, TaskSpec};
use tenure_tests::runtime::{Cluster, entries_of, task, task_name};
use tenure_tests::sim::history::Entry;

/// A bound for a retry after a failed request, a leader round and a claim.
const BOUND: Duration = Duration::from_millis(500);

fn layout(c: &Cluster) -> Layout {
    Layout::at(c.root.clone()).unwrap()
}

/// The tokens the handlers of the task were started with.
fn started_tokens(c: &Cluster, i: usize) -> Vec<u64> {
    entries_of(&c.history, &task(i))
        .into_iter()
        .filter_map(|e| match e {
            Entry::Start { token, .. } => Some(token),
            Entry::Stop { .. } => None,
        })
        .collect()
}

/// The task is still wanted: the stray record is released and the task
/// claimed afresh, so the only handler runs with the next token, never with
/// the one of the lost answer.
#[tokio::test(start_paused = true)]
async fn lost_claim_answer_is_released_and_the_task_claimed_afresh() {
    let mut c = Cluster::new().await;
    c.join("W1").await;
    tokio::time::sleep(BOUND).await;
    let owners = layout(&c).owners().clone();
    c.member("W1").store.lose_answers(&owners, 1);
    c.add_tasks(1).await;
    c.wait_all_running(1, BOUND).await;
    tokio::time::sleep(BOUND).await;
    assert_eq!(started_tokens(&c, 0), vec![2], "token 1 was never run");
    let (w, token) = c.running()[&task(0)].clone();
    assert_eq!((w.as_str(), token), ("W1", 2));
    c.stop().await;
}

/// The task stops being wanted before the worker tries it again (it is
/// paused while the worker is cut off): without the fix nothing would ever
/// touch the record again and it would hold the task until W1's session
/// ends. It is released as soon as W1 is back, in the same session.
#[tokio::test(start_paused = true)]
async fn lost_claim_answer_of_a_task_no_longer_wanted_is_released_in_the_same_session() {
    let mut c = Cluster::new().await;
    // W2 leads, so that the leader keeps working while W1 is cut off.
    c.join("W2").await;
    tokio::time::sleep(BOUND).await;
    c.join("W1").await;
    tokio::time::sleep(BOUND).await;
    assert_eq!(
        c.admin.leader().await.unwrap().unwrap().worker.as_str(),
        "W2"
    );
    let layout = layout(&c);
    let record = layout.owner(&task(0));
    let w1 = c.member("W1").store.clone();
    let session = w1.session_state().session().unwrap();
    w1.lose_answers(layout.owners(), 1);
    let spec = TaskSpec::new(task_name(0)).unwrap().pinned("W1").unwrap();
    c.admin.add_task(spec).await.unwrap();
    // The claim is applied; its answer is lost. Cut W1 off before it
    // retries, and pause the task meanwhile.
    for _ in 0..100 {
        if c.admin_store.get(&record).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let node = c.admin_store.get(&record).await.unwrap().expect("claimed");
    assert_eq!(node.ephemeral_owner, Some(session));
    w1.suspend();
    c.admin.pause_task(&task(0)).await.unwrap();
    tokio::time::sleep(BOUND).await;
    w1.resume();
    let mut released = false;
    for _ in 0..100 {
        if c.admin_store.get(&record).await.unwrap().is_none() {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(released, "the record of the lost answer is still there");
    assert_eq!(w1.session_state().session(), Some(session), "same session");
    assert!(started_tokens(&c, 0).is_empty(), "never ran");
    // Resumed, it runs on W1 with a fresh token.
    c.admin.resume_task(&task(0)).await.unwrap();
    c.wait_all_running(1, BOUND).await;
    assert_eq!(started_tokens(&c, 0), vec![2]);
    c.stop().await;
}

//! What one claim costs and what it checks: two requests (one read of the
//! ownership record, the fencing counter and the task; one multi), the
//! task's payload coming back with the claim, and a task changed or removed
//! between the read and the multi never claimed on what was read.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::internals::claim::{self, ClaimError};
use tenure_core::internals::records::{Record, TaskRecord};
use tenure_core::{CoordinationStore, Layout, SessionId, TaskSpec, WorkerId};
use tenure_memory::{MemoryStore, OpCounts};
use tenure_tests::runtime::{Cluster, SESSION, task, task_name};

/// How long the claimer's answers take in the tests of a change between
/// the claim's read and its multi.
const SLOW: Duration = Duration::from_millis(100);

async fn claimer(c: &Cluster) -> (MemoryStore, Layout, SessionId) {
    let store = c.server.connect(SESSION).await.unwrap();
    let session = store.session_state().session().unwrap();
    (store, Layout::at(c.root.clone()).unwrap(), session)
}

/// Claims T0 for W1 with every answer [`SLOW`]: the claim's read is
/// applied at once and its answer is on its way for a while.
fn claim_slowly(
    store: &MemoryStore,
    layout: &Layout,
    session: SessionId,
) -> tokio::task::JoinHandle<Result<claim::Claimed, ClaimError>> {
    store.delay_answers(SLOW);
    let (store, layout) = (store.clone(), layout.clone());
    let w = WorkerId::new("W1").unwrap();
    tokio::spawn(async move { claim::claim(&store, &layout, &task(0), &w, session).await })
}

fn payload_of(node: &tenure_core::Node) -> Vec<u8> {
    let path = tenure_core::Path::new("/t").unwrap();
    TaskRecord::decode(&path, &node.data)
        .unwrap()
        .payload_bytes()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_claim_is_one_read_and_one_multi_and_brings_the_task_with_it() {
    let c = Cluster::new().await;
    c.add_tasks(1).await;
    let (store, layout, session) = claimer(&c).await;
    let w = WorkerId::new("W1").unwrap();
    let before = store.op_counts();
    let claimed = claim::claim(&store, &layout, &task(0), &w, session)
        .await
        .unwrap();
    assert_eq!(
        store.op_counts() - before,
        OpCounts {
            reads: 1,
            writes: 0,
            multis: 1
        }
    );
    assert_eq!(claimed.claim.token, 1);
    let node = store.get(&layout.task(&task(0))).await.unwrap().unwrap();
    assert_eq!(claimed.task, node, "the task node as the claim read it");

    // Held: another claim answers from its one read, writing nothing.
    let (other, _, other_session) = claimer(&c).await;
    let before = other.op_counts();
    let r = claim::claim(
        &other,
        &layout,
        &task(0),
        &WorkerId::new("W2").unwrap(),
        other_session,
    )
    .await;
    assert!(matches!(r, Err(ClaimError::Owned)), "{r:?}");
    assert_eq!(
        other.op_counts() - before,
        OpCounts {
            reads: 1,
            writes: 0,
            multis: 0
        }
    );
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_task_changed_between_the_claims_read_and_its_multi_is_read_again() {
    let c = Cluster::new().await;
    c.add_tasks(1).await;
    let (store, layout, session) = claimer(&c).await;
    let before = store.op_counts();
    let claiming = claim_slowly(&store, &layout, session);
    // The read is applied at once; its answer is on its way.
    tokio::time::sleep(SLOW / 4).await;
    c.admin
        .update_task(TaskSpec::new(task_name(0)).unwrap().payload("changed"))
        .await
        .unwrap();
    let claimed = claiming.await.unwrap().unwrap();
    assert_eq!(payload_of(&claimed.task), b"changed");
    assert_eq!(
        store.op_counts() - before,
        OpCounts {
            reads: 2,
            writes: 0,
            multis: 2
        },
        "the first multi found the task changed and wrote nothing"
    );
    assert_eq!(claimed.claim.token, 1, "no token was used by the first try");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_task_removed_between_the_claims_read_and_its_multi_is_not_claimed() {
    let c = Cluster::new().await;
    c.add_tasks(1).await;
    let (store, layout, session) = claimer(&c).await;
    let claiming = claim_slowly(&store, &layout, session);
    tokio::time::sleep(SLOW / 4).await;
    c.admin.remove_task(&task(0)).await.unwrap();
    let r = claiming.await.unwrap();
    assert!(matches!(r, Err(ClaimError::NoTask)), "{r:?}");
    assert_eq!(store.get(&layout.owner(&task(0))).await.unwrap(), None);
    assert_eq!(store.get(&layout.epoch(&task(0))).await.unwrap(), None);
    c.stop().await;
}

//! What the runtime reads back from a real ZooKeeper server: a task
//! removed and added again restarts with its new payload although its
//! node's version is 0 again; a fencing counter that does not decode stops
//! the claims of its task and of no other.
//!
//! Workers run in this process over the test binary's shared server, each
//! cluster at a root of its own.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use tenure_core::{StopReason, TaskId, TaskSpec, WorkerEventKind};
use tenure_tests::backend::Backend;
use tenure_tests::live::LiveCluster;
use tenure_tests::zookeeper::ZkBackend;

const SESSION: Duration = Duration::from_secs(2);
/// A bound for a leader round and a claim or restart, with room for a
/// loaded machine.
const BOUND: Duration = Duration::from_secs(10);
/// How many times the removal and re-addition is tried until the leader
/// saw only the task added again (its 20 ms debounce is far longer than
/// the two admin requests, so the first try almost always is one).
const TRIES: usize = 5;

async fn backend() -> Arc<dyn Backend> {
    Arc::new(ZkBackend::shared().await)
}

fn t0() -> TaskId {
    TaskId::new("T0").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_removed_and_added_again_in_one_round_restarts_with_the_new_payload() {
    let mut c = LiveCluster::new(backend().await, SESSION).await;
    let spec = |payload: &str| TaskSpec::new("T0").unwrap().payload(payload);
    c.admin.add_task(spec("p0")).await.unwrap();
    c.join("W1").await;
    c.wait_until("T0 runs", BOUND, |c| c.running_payload(&t0()).is_some())
        .await;
    let path = c.admin.layout().task(&t0());
    let store = c.admin.store().clone();
    let mut in_one_round = 0;
    for attempt in 1..=TRIES {
        let before = store.get(&path).await.unwrap().unwrap();
        let (_, old) = c.running()[&t0()].clone();
        let mut events = c.events("W1");
        let payload = format!("p{attempt}");
        c.admin.remove_task(&t0()).await.unwrap();
        c.admin.add_task(spec(&payload)).await.unwrap();
        let after = store.get(&path).await.unwrap().unwrap();
        assert_eq!(after.version, before.version, "ZooKeeper starts at 0 again");
        assert_ne!(after.incarnation, before.incarnation);
        c.wait_until("T0 runs with the new payload", BOUND, |c| {
            c.running_payload(&t0()).as_deref() == Some(payload.as_bytes())
        })
        .await;
        // Why the handler with the old token stopped: `Updated` if the
        // leader saw only the new task, `Unassigned` if it saw the removal.
        let mut reason = None;
        while let Ok(e) = events.try_recv() {
            if let WorkerEventKind::Stopped {
                task,
                token,
                reason: r,
            } = e.kind
                && task == t0()
                && token == old
            {
                reason = Some(r);
            }
        }
        eprintln!("attempt {attempt}: the old handler stopped as {reason:?}");
        if reason == Some(StopReason::Updated) {
            in_one_round += 1;
            break;
        }
    }
    assert_eq!(
        in_one_round, 1,
        "in {TRIES} tries the leader never saw the removal and the addition in one round"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_fencing_counter_stops_the_claims_of_its_task_only() {
    tenure_tests::live::malformed_epoch_stops_only_its_task(backend().await).await;
}

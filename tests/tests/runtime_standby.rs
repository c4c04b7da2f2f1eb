//! Standby plans on the memory backend under paused tokio time: every
//! target names, for each other worker, the tasks its worker takes if that
//! one leaves, so a worker's tasks are taken over as soon as its session
//! ends — with no leader round in between. Shown here with no leader able
//! to lead at all (the `term` node does not decode, so an elected worker
//! keeps the `leader` node without leading): the survivors still take the
//! crashed worker's tasks, with larger tokens and after its handlers
//! stopped, and once the term is repaired the new leader moves nothing.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use tenure_core::internals::records::{Record, TargetRecord};
use tenure_core::{CoordinationStore, TaskId, WorkerId};
use tenure_tests::runtime::{Cluster, Entry, SESSION, assert_handed_over, write_by_hand};

const TASKS: usize = 12;
const WORKERS: [&str; 3] = ["W1", "W2", "W3"];

/// Every published target, by worker.
async fn targets(c: &Cluster) -> BTreeMap<WorkerId, TargetRecord> {
    let store = c.admin.store();
    let layout = c.admin.layout();
    let mut out = BTreeMap::new();
    for w in WORKERS {
        let id = WorkerId::new(w).unwrap();
        let path = layout.target(&id);
        if let Some(node) = store.get(&path).await.unwrap() {
            out.insert(id, TargetRecord::decode(&path, &node.data).unwrap());
        }
    }
    out
}

/// Three workers, every task running, balanced, and every worker's tasks
/// planned on the others.
async fn three_workers_with_plans() -> Cluster {
    let mut c = Cluster::new().await;
    c.add_tasks(TASKS).await;
    for w in WORKERS {
        c.join(w).await;
    }
    c.wait_until("balanced", SESSION * 2, |c| {
        c.running().len() == TASKS && WORKERS.iter().all(|w| c.on(w).len() == TASKS / 3)
    })
    .await;
    let mut planned = false;
    for _ in 0..100 {
        let t = targets(&c).await;
        planned = WORKERS.iter().all(|leaving| {
            let leaving = WorkerId::new(*leaving).unwrap();
            let count: usize = t
                .values()
                .filter_map(|rec| rec.standby.get(&leaving))
                .map(BTreeMap::len)
                .sum();
            count == TASKS / 3
        });
        if planned {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        planned,
        "every worker's tasks are planned: {:?}",
        targets(&c).await
    );
    c
}

#[tokio::test(start_paused = true)]
async fn a_crashed_worker_s_tasks_are_taken_over_with_no_leader_round() {
    let mut c = three_workers_with_plans().await;
    let plans = targets(&c).await;
    let before: Vec<(TaskId, u64)> = c
        .running()
        .into_iter()
        .filter(|(_, (w, _))| w.as_str() == "W1")
        .map(|(t, (_, token))| (t, token))
        .collect();
    // No leader can lead from now on: the term does not decode.
    let term = c.admin.layout().term().clone();
    write_by_hand(&**c.admin.store(), &term, b"garbage").await;
    c.crash("W1").await;
    c.wait_until("W2 and W3 run everything", SESSION * 2, |c| {
        c.running().len() == TASKS && c.on("W2").len() + c.on("W3").len() == TASKS
    })
    .await;
    // Each of W1's tasks went where the plans said, with a larger token,
    // started only after W1's handler had stopped.
    let w1 = WorkerId::new("W1").unwrap();
    let now = c.running();
    for (task, old) in &before {
        let (runner, new) = &now[task];
        let planned_on: Vec<&WorkerId> = plans
            .iter()
            .filter(|(_, rec)| rec.standby.get(&w1).is_some_and(|t| t.contains_key(task)))
            .map(|(w, _)| w)
            .collect();
        assert_eq!(planned_on, [runner], "{task}");
        assert_handed_over(&c.history, task, *old, *new);
    }
    // The survivors' own tasks never stopped.
    assert_eq!(c.on("W2").len() + c.on("W3").len(), TASKS);
    let placed: BTreeMap<TaskId, (WorkerId, u64)> = c.running();

    // Repaired, a leader leads again and publishes the placement the
    // survivors already run: nothing moves, no token changes.
    write_by_hand(&**c.admin.store(), &term, b"7").await;
    let mut led = false;
    for _ in 0..200 {
        let t = targets(&c).await;
        led = t.values().any(|rec| rec.term > 7)
            && t.iter().all(|(w, rec)| {
                w.as_str() == "W1"
                    || rec
                        .tasks
                        .keys()
                        .all(|task| placed.get(task).is_some_and(|(on, _)| on == w))
            });
        if led {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(led, "a new leader published the survivors' placement");
    tokio::time::sleep(SESSION).await;
    assert_eq!(c.running(), placed, "nothing moved after the repair");
    c.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_returning_worker_is_not_taken_for_gone() {
    // A worker that registers after the plans were published is in a new
    // plan only once listed: nobody claims its tasks while it lives.
    let mut c = three_workers_with_plans().await;
    c.join("W4").await;
    tokio::time::sleep(SESSION * 2).await;
    let running = c.running();
    assert_eq!(running.len(), TASKS);
    let on_w4 = c.on("W4").len();
    assert_eq!(on_w4, TASKS / 4, "{running:?}");
    // Every task started once more at most (the moves to W4), never twice.
    for task in running.keys() {
        let starts = c
            .history
            .entries()
            .iter()
            .filter(|e| matches!(e, Entry::Start { task: t, .. } if t == task))
            .count();
        assert!(starts <= 2, "{task} started {starts} times");
    }
    c.stop().await;
}

/// The version of every target node of `workers` (each write of a target
/// moves it by one).
async fn target_versions(c: &Cluster, workers: &[&str]) -> BTreeMap<String, Option<u64>> {
    let store = c.admin.store();
    let mut out = BTreeMap::new();
    for w in workers {
        let path = c.admin.layout().target(&WorkerId::new(*w).unwrap());
        let node = store.get(&path).await.unwrap();
        out.insert((*w).to_owned(), node.map(|n| n.version.0));
    }
    out
}

#[tokio::test(start_paused = true)]
async fn plans_the_strategy_answers_quickly_go_with_the_placement_in_one_write() {
    // Sticky's plans take well under the budget: a join changes every
    // target (the placement moves tasks to the newcomer, and every plan
    // now counts it) and each target is written once, plans included,
    // instead of once for the placement and once more for the plans.
    let mut c = three_workers_with_plans().await;
    tokio::time::sleep(SESSION).await;
    let before = target_versions(&c, &WORKERS).await;
    c.join("W4").await;
    c.wait_until("W4 runs its share", SESSION * 2, |c| {
        c.on("W4").len() == TASKS / 4 && c.running().len() == TASKS
    })
    .await;
    tokio::time::sleep(SESSION).await;
    let after = target_versions(&c, &WORKERS).await;
    let t = targets(&c).await;
    let w4 = WorkerId::new("W4").unwrap();
    let planned_for_w4: usize = t
        .values()
        .filter_map(|rec| rec.standby.get(&w4))
        .map(BTreeMap::len)
        .sum();
    assert_eq!(planned_for_w4, TASKS / 4, "W4's tasks are planned: {t:?}");
    for w in WORKERS {
        let (b, a) = (before[w].unwrap(), after[w].unwrap());
        assert_eq!(a - b, 1, "{w}'s target written {} times", a - b);
    }
    c.stop().await;
}

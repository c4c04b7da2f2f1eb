//! Every built-in strategy driving a real cluster on the memory backend
//! under paused tokio time: each is handed to `Worker::builder(..)
//! .strategy(..)`, and after every change of membership each task runs
//! exactly once, where the strategy puts it. `Delayed` holds moves to a
//! joining worker back for its window but lets orphans be taken over at
//! once; `Throttled` moves at most its cap of running tasks per round.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure_core::TaskId;
use tenure_core::strategy::{Assignment, Strategy, StrategyInput, Target, WorkerInfo};
use tenure_strategies::{Delayed, Sticky, StrategyKind, StrategyOptions, Throttled, by_name};
use tenure_tests::sim::SESSION;
use tenure_tests::strategy_cluster::{Cluster, TASKS, settle};

/// Three workers start, one crashes, it comes back: after each change every
/// task runs once, placed as the strategy computes.
async fn three_workers_crash_and_return(options: StrategyOptions) {
    for kind in StrategyKind::ALL {
        let opts = options.clone();
        let reference = kind.build(&options);
        let mut c = Cluster::new(move || by_name(kind.name(), &opts).unwrap()).await;
        for w in ["W0", "W1", "W2"] {
            c.join(w).await;
        }
        settle().await;
        c.check_settled(&*reference).await;
        assert!(c.running().len() == TASKS);
        // Rendezvous hashing balances only statistically.
        if !matches!(kind, StrategyKind::FirstCome | StrategyKind::ConsistentHash) {
            for w in ["W0", "W1", "W2"] {
                assert_eq!(c.on(w), 3, "{} {:?}", kind, c.running());
            }
        }
        let victim = if c.leader().await.as_str() == "W1" {
            "W2"
        } else {
            "W1"
        };
        c.crash(victim).await;
        settle().await;
        c.check_settled(&*reference).await;
        assert_eq!(c.on(victim), 0);
        c.join(victim).await;
        // Long enough for Delayed's window and Throttled's batches.
        tokio::time::sleep(options.rebalance_delay.unwrap_or_default()).await;
        settle().await;
        settle().await;
        c.check_settled(&*reference).await;
        c.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn every_built_in_places_each_task_once_where_it_computes() {
    three_workers_crash_and_return(StrategyOptions::default()).await;
}

#[tokio::test(start_paused = true)]
async fn every_built_in_wrapped_in_delayed_and_throttled_settles_where_it_computes() {
    three_workers_crash_and_return(StrategyOptions {
        rebalance_delay: Some(Duration::from_secs(5)),
        max_moves: Some(1),
        ..StrategyOptions::default()
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn delayed_holds_a_joiner_back_but_takes_orphans_over_at_once() {
    const WINDOW: Duration = Duration::from_secs(30);
    let mut c = Cluster::new(|| Box::new(Delayed::new(Sticky, WINDOW))).await;
    c.join("W0").await;
    c.join("W1").await;
    // Both settle (until then every worker is young, and Delayed is Sticky).
    tokio::time::sleep(WINDOW).await;
    c.check_settled(&Sticky).await;
    // W2 joins: for the whole window it receives nothing.
    c.join("W2").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(c.on("W2"), 0, "{:?}", c.running());
    // A settled worker (not the leader, which times the window) dies while
    // W2 is still young: its tasks go to the other settled worker at once.
    let victim = if c.leader().await.as_str() == "W0" {
        "W1"
    } else {
        "W0"
    };
    let survivor = if victim == "W0" { "W1" } else { "W0" };
    c.crash(victim).await;
    tokio::time::sleep(SESSION + Duration::from_secs(1)).await;
    let running = c.running();
    assert_eq!(running.len(), TASKS, "{running:?}");
    assert_eq!(c.on(survivor), TASKS, "{running:?}");
    // Once the window is over, W2 gets its share by handoff.
    tokio::time::sleep(WINDOW).await;
    c.check_settled(&Sticky).await;
    assert_eq!(c.on("W2"), 4);
    assert_eq!(c.on(survivor), 5);
    c.shutdown().await;
}

/// One leader round: the live workers, who ran what, the target.
type Round = (Vec<WorkerInfo>, Assignment, Target);

/// A strategy that records every round it is asked for.
#[derive(Debug, Clone)]
struct Recording<S> {
    inner: S,
    rounds: Arc<Mutex<Vec<Round>>>,
}

impl<S: Strategy> Strategy for Recording<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        let target = self.inner.assign(input);
        self.rounds.lock().unwrap().push((
            input.workers.to_vec(),
            input.current.clone(),
            target.clone(),
        ));
        target
    }
}

/// Running tasks (on a live worker) that `target` places elsewhere.
fn running_moves(workers: &[WorkerInfo], current: &Assignment, target: &Target) -> usize {
    current
        .iter()
        .filter(|(t, w)| {
            workers.iter().any(|x| x.id == **w) && target.placements.get(*t) != Some(*w)
        })
        .count()
}

#[tokio::test(start_paused = true)]
async fn throttled_moves_at_most_its_cap_per_round() {
    let rounds = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recording {
        inner: Throttled::new(Sticky, 1).with_recheck(Duration::from_millis(500)),
        rounds: rounds.clone(),
    };
    let make = {
        let recorder = recorder.clone();
        move || Box::new(recorder.clone()) as Box<dyn Strategy>
    };
    let mut c = Cluster::new(make).await;
    c.join("W0").await;
    c.join("W1").await;
    settle().await;
    c.check_settled(&Sticky).await;
    rounds.lock().unwrap().clear();
    // W2 joins: Sticky wants 3 tasks moved to it; they move one per round.
    c.join("W2").await;
    settle().await;
    settle().await;
    c.check_settled(&Sticky).await;
    for w in ["W0", "W1", "W2"] {
        assert_eq!(c.on(w), 3, "{:?}", c.running());
    }
    let rounds: Vec<Round> = rounds.lock().unwrap().clone();
    let mut rounds_with_a_move = 0;
    let mut held_back = false;
    for (workers, current, target) in &rounds {
        let moves = running_moves(workers, current, target);
        assert!(
            moves <= 1,
            "{moves} moves in one round: {current:?} → {target:?}"
        );
        rounds_with_a_move += usize::from(moves == 1);
        held_back |= target.recheck_after.is_some();
    }
    assert!(
        rounds_with_a_move >= 3,
        "{rounds_with_a_move} rounds moved a task"
    );
    assert!(held_back, "no round held a move back");
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn delayed_ages_survive_a_leader_change() {
    const WINDOW: Duration = Duration::from_secs(30);
    let mut c = Cluster::new(|| Box::new(Delayed::new(Sticky, WINDOW))).await;
    for w in ["W0", "W1", "W2"] {
        c.join(w).await;
    }
    // Every worker is old.
    tokio::time::sleep(WINDOW).await;
    settle().await;
    c.check_settled(&Sticky).await;
    // The leader dies; its tasks are taken over at once (orphans).
    let old_leader = c.leader().await;
    c.crash(old_leader.as_str()).await;
    tokio::time::sleep(SESSION + Duration::from_secs(1)).await;
    let leader = c.leader().await;
    assert_ne!(leader, old_leader);
    let other = c
        .workers()
        .into_iter()
        .find(|w| *w != leader)
        .unwrap()
        .to_string();
    assert_eq!(c.running().len(), TASKS);
    // Unbalance the survivors: remove every task of the non-leader. The new
    // leader still knows it is old and moves tasks to it at once, well
    // within the window a newly joined worker waits.
    let gone: Vec<TaskId> = c
        .running()
        .into_iter()
        .filter(|(_, w)| w.as_str() == other)
        .map(|(t, _)| t)
        .collect();
    for t in &gone {
        c.admin.remove_task(t).await.unwrap();
    }
    let left = TASKS - gone.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(c.running().len(), left);
    assert_eq!(c.on(&other), left / 2, "{:?}", c.running());
    assert_eq!(c.on(leader.as_str()), left - left / 2);
    // A genuinely new worker is still held back for the window.
    c.join("W3").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(c.on("W3"), 0, "{:?}", c.running());
    tokio::time::sleep(WINDOW).await;
    settle().await;
    assert!(c.on("W3") >= 1, "{:?}", c.running());
    assert_eq!(c.running().len(), left);
    c.shutdown().await;
}

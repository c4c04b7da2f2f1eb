//! Where the workers' leader places tasks: strategies and pacing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tenure_core::strategy::{Sticky, Strategy, StrategyInput, TaskInfo, WorkerInfo};
use tenure_core::{TaskId, WorkerId};
use tenure_strategies::{StrategyKind, StrategyOptions};

use super::super::{Cluster, Target, expect_within};
use super::worker_count;

/// Where `strategy` puts `tasks` (weight 1, no tags) on `workers`
/// (capacity 1, up for an hour) while every task runs on `current`.
fn expected_placement(
    strategy: &dyn Strategy,
    workers: &[&str],
    tasks: &[String],
    current: &str,
) -> BTreeMap<String, String> {
    let workers: Vec<WorkerInfo> = workers
        .iter()
        .map(|w| WorkerInfo {
            id: WorkerId::new(w).unwrap(),
            capacity: std::num::NonZeroU32::MIN,
            tags: BTreeSet::new(),
            age: Duration::from_secs(3600),
        })
        .collect();
    let tasks: Vec<TaskInfo> = tasks
        .iter()
        .map(|t| TaskInfo {
            id: TaskId::new(t).unwrap(),
            weight: std::num::NonZeroU32::MIN,
            tags: BTreeSet::new(),
            pinned: None,
        })
        .collect();
    let current = tasks
        .iter()
        .map(|t| (t.id.clone(), WorkerId::new(current).unwrap()))
        .collect();
    let input = StrategyInput {
        workers: &workers,
        tasks: &tasks,
        current: &current,
    };
    let target = strategy.assign(&input);
    assert!(target.open.is_empty(), "{target:?}");
    target
        .placements
        .iter()
        .map(|(t, w)| (t.as_str().to_owned(), w.as_str().to_owned()))
        .collect()
}

/// Task → owner of every running task in `status --json`; `None` while a
/// task is not running or not where the leader wants it.
fn settled_placement(c: &Cluster) -> Option<BTreeMap<String, String>> {
    let status = c.status();
    status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let settled = t["state"] == "running" && t["owner"] == t["target"];
            settled.then(|| {
                let owner = t["owner"].as_str().unwrap().to_owned();
                (t["task"].as_str().unwrap().to_owned(), owner)
            })
        })
        .collect()
}

/// How many tasks each worker gets.
fn loads(placement: &BTreeMap<String, String>) -> BTreeMap<&str, usize> {
    let mut loads = BTreeMap::new();
    for worker in placement.values() {
        *loads.entry(worker.as_str()).or_default() += 1;
    }
    loads
}

/// `--strategy consistent-hash` on every worker: the tasks run where
/// rendezvous hashing puts them. The task names are chosen so that it
/// puts them lopsidedly (loads at least 2 apart), which the default sticky
/// strategy never would.
pub fn workers_place_tasks_with_the_chosen_strategy(t: &Target) {
    let c = t.cluster("hashed");
    let workers = ["a", "b"];
    let hash = StrategyKind::ConsistentHash.build(&StrategyOptions::default());
    let (tasks, expected) = (0..100)
        .map(|set| {
            let tasks: Vec<String> = (0..6).map(|i| format!("h{set}-{i}")).collect();
            let expected = expected_placement(hash.as_ref(), &workers, &tasks, "a");
            (tasks, expected)
        })
        .find(|(_, expected)| {
            let loads = loads(expected);
            let (a, b) = (loads.get("a").copied(), loads.get("b").copied());
            a.unwrap_or(0).abs_diff(b.unwrap_or(0)) >= 2
        })
        .expect("a lopsided set of task names");
    let sticky = expected_placement(&Sticky, &workers, &tasks, "a");
    assert_ne!(
        loads(&sticky),
        loads(&expected),
        "the test tells them apart"
    );

    let options = ["--strategy", "consistent-hash"];
    let a = c.worker("a", &options, "exec sleep 600");
    let b = c.worker("b", &options, "exec sleep 600");
    expect_within(
        Duration::from_secs(20),
        "both workers registered",
        &[&a, &b],
        || worker_count(&c) == 2,
    );
    for task in &tasks {
        c.ok(&["tasks", "add", task]);
    }
    expect_within(
        Duration::from_secs(30),
        "the tasks run where consistent hashing puts them",
        &[&a, &b],
        || settled_placement(&c).as_ref() == Some(&expected),
    );
    assert!(a.log().contains("consistent-hash"), "{}", a.log());
}

/// `--strategy round-robin --rebalance-delay 3s --max-moves 1`: a worker
/// runs six tasks, a second one joins. Round-robin gives it half of them
/// (not the half sticky would choose: the cluster's name, which
/// round-robin hashes, is chosen so), but only once it has been up for
/// the delay, and the leader moves one task per round (its log says it
/// held the others back).
pub fn rebalance_delay_and_max_moves_pace_the_handover_to_a_new_worker(t: &Target) {
    const DELAY_MS: u128 = 3000;
    let workers = ["a", "b"];
    let tasks: Vec<String> = (1..=6).map(|i| format!("t{i}")).collect();
    let sticky = expected_placement(&Sticky, &workers, &tasks, "a");
    let round_robin = |cluster: &str| {
        let options = StrategyOptions {
            job_name: cluster.to_owned(),
            ..StrategyOptions::default()
        };
        let strategy = StrategyKind::RoundRobin.build(&options);
        expected_placement(strategy.as_ref(), &workers, &tasks, "a")
    };
    let base = t.cluster("paced");
    let (name, expected) = (0..32)
        .map(|n| format!("{}-{n}", base.name))
        .map(|name| {
            let expected = round_robin(&name);
            (name, expected)
        })
        .find(|(_, expected)| *expected != sticky)
        .expect("a cluster name for which round-robin and sticky differ");
    let c = Cluster { name, ..base };
    let moved: BTreeSet<&String> = expected
        .iter()
        .filter(|(_, w)| *w == "b")
        .map(|(t, _)| t)
        .collect();
    assert_eq!(moved.len(), 3, "{expected:?}");

    let file = c.path("starts.log");
    let script = format!(
        "echo \"$TENURE_TASK $TENURE_WORKER $(date +%s%N)\" >> '{}'; exec sleep 600",
        file.display()
    );
    let options = [
        "--strategy",
        "round-robin",
        "--rebalance-delay",
        "3s",
        "--max-moves",
        "1",
        "--log-level",
        "info,tenure_strategies=debug",
    ];
    let a = c.worker("a", &options, &script);
    expect_within(Duration::from_secs(20), "a registered", &[&a], || {
        worker_count(&c) == 1
    });
    for task in &tasks {
        c.ok(&["tasks", "add", task]);
    }
    let all_on_a: BTreeMap<String, String> =
        tasks.iter().map(|t| (t.clone(), "a".to_owned())).collect();
    expect_within(Duration::from_secs(30), "a runs every task", &[&a], || {
        settled_placement(&c).as_ref() == Some(&all_on_a)
    });

    let b = c.worker("b", &options, &script);
    expect_within(Duration::from_secs(20), "b registered", &[&a, &b], || {
        worker_count(&c) == 2
    });
    let b_since_ms = c.status()["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["worker"] == "b")
        .unwrap()["since_ms"]
        .as_u64()
        .unwrap();
    expect_within(
        Duration::from_secs(30),
        "the tasks run where round-robin puts them",
        &[&a, &b],
        || settled_placement(&c).as_ref() == Some(&expected),
    );

    let read_starts = || -> Vec<(String, String, u128)> {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let (task, worker, ns) = (f.next()?, f.next()?, f.next()?.parse().ok()?);
                Some((task.to_owned(), worker.to_owned(), ns))
            })
            .collect()
    };
    // A command writes its line just after its claim shows in the status.
    expect_within(
        Duration::from_secs(5),
        "every command wrote its start",
        &[&a, &b],
        || read_starts().len() >= 9,
    );
    let starts = read_starts();
    let on_a = starts.iter().filter(|s| s.1 == "a").count();
    assert_eq!(
        on_a,
        6,
        "every task started once on a: {starts:?}\na's log:\n{}\nb's log:\n{}",
        a.log(),
        b.log()
    );
    let on_b: Vec<(u128, &String)> = starts
        .iter()
        .filter(|s| s.1 == "b")
        .map(|s| (s.2 / 1_000_000, &s.0))
        .collect();
    let started_on_b: BTreeSet<&String> = on_b.iter().map(|s| s.1).collect();
    assert_eq!(started_on_b, moved, "the moved tasks started on b");
    assert_eq!(on_b.len(), 3, "each once: {starts:?}");
    let first_ms = on_b
        .iter()
        .map(|s| s.0.saturating_sub(u128::from(b_since_ms)))
        .min()
        .unwrap();
    assert!(
        first_ms >= DELAY_MS,
        "the first task moved {first_ms} ms after b registered, within the delay"
    );
    let log = a.log();
    let held: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("moves held back"))
        .collect();
    assert!(
        held.first().is_some_and(|l| l.contains("moves=1 held=2")),
        "the leader moves one task and holds the other two back: {log}"
    );
    assert!(
        log.contains("strategy=\"throttled(delayed(round-robin))\""),
        "{log}"
    );
    eprintln!(
        "measured [{}]: first move to the new worker {first_ms} ms after it registered (delay {DELAY_MS} ms)",
        t.backend
    );
}

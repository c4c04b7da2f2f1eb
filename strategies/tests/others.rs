//! Properties of FirstCome, the ElasticJob family and ConsistentHash.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use proptest::prelude::*;
use tenure_core::strategy::{Strategy, Target};
use tenure_strategies::{AverageAllocation, ConsistentHash, FirstCome, Odevity, RoundRobin};

/// The strategies that ignore current placements.
fn stateless() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(AverageAllocation::new()),
        Box::new(Odevity::new("cluster-a")),
        Box::new(RoundRobin::new("cluster-a")),
        Box::new(ConsistentHash::new(7)),
    ]
}

fn elastic() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(AverageAllocation::new()),
        Box::new(Odevity::new("0")),
        Box::new(Odevity::new("1")),
        Box::new(RoundRobin::new("polygenelubricants")),
        Box::new(RoundRobin::new("cluster-b")),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn first_come_keeps_valid_owners_and_opens_the_rest(case in arb_case(Params::full()), k in 0usize..64) {
        let target = FirstCome.assign(&case.input());
        check_valid(&case, &target, true)?;
        prop_assert_eq!(&target.placements, &case.valid_current());
        prop_assert_eq!(&target, &FirstCome.assign(&case.permuted(k).input()));
        prop_assert_eq!(target.recheck_after, None);
    }

    #[test]
    fn stateless_strategies_place_every_placeable_task_deterministically(
        case in arb_case(Params::full()),
        k in 0usize..64,
    ) {
        for s in stateless() {
            let target = s.assign(&case.input());
            check_valid(&case, &target, false)?;
            prop_assert_eq!(&target, &s.assign(&case.input()), "{}", s.name());
            prop_assert_eq!(&target, &s.assign(&case.permuted(k).input()), "{}", s.name());
            // They ignore the current placements.
            let fresh = Case { current: Default::default(), ..case.clone() };
            prop_assert_eq!(&target, &s.assign(&fresh.input()), "{}", s.name());
        }
    }

    #[test]
    fn elastic_job_strategies_balance_task_counts_within_each_eligibility_group(
        case in arb_case(Params::full()),
    ) {
        for s in elastic() {
            let target = s.assign(&case.input());
            // Group tasks by their eligible workers; within a group, counts per
            // eligible worker differ by at most one.
            let mut groups: BTreeMap<Vec<String>, BTreeMap<String, usize>> = BTreeMap::new();
            for t in &case.tasks {
                let eligible: Vec<String> = case.workers.iter()
                    .filter(|w| t.eligible(w)).map(|w| w.id.to_string()).collect();
                if eligible.is_empty() { continue; }
                let counts = groups.entry(eligible.clone())
                    .or_insert_with(|| eligible.iter().map(|w| (w.clone(), 0)).collect());
                *counts.get_mut(target.placements[&t.id].as_str()).unwrap() += 1;
            }
            for counts in groups.values() {
                let max = counts.values().max().unwrap();
                let min = counts.values().min().unwrap();
                prop_assert!(max - min <= 1, "{}: {:?}", s.name(), counts);
            }
        }
    }

    #[test]
    fn consistent_hash_moves_only_the_tasks_of_a_leaving_worker(
        case in arb_case(Params::full()),
        seed in any::<u64>(),
        gone in 0usize..8,
    ) {
        prop_assume!(!case.workers.is_empty());
        let s = ConsistentHash::new(seed);
        let before = s.assign(&case.input());
        let mut smaller = case.clone();
        let left = smaller.workers.remove(gone % case.workers.len()).id;
        let after = s.assign(&smaller.input());
        for (t, w) in &before.placements {
            if *w != left {
                prop_assert_eq!(after.placements.get(t), Some(w));
            }
        }
    }

    #[test]
    fn consistent_hash_moves_only_tasks_that_go_to_a_joining_worker(
        case in arb_case(Params::full()),
        seed in any::<u64>(),
        capacity in 1u32..5,
    ) {
        let s = ConsistentHash::new(seed);
        let before = s.assign(&case.input());
        let mut bigger = case.clone();
        let mut newcomer = worker("zz-new", capacity);
        newcomer.tags = ["x".to_owned()].into();
        bigger.workers.push(newcomer);
        let after = s.assign(&bigger.input());
        for (t, w) in &after.placements {
            if w.as_str() != "zz-new" {
                prop_assert_eq!(before.placements.get(t), Some(w));
            }
        }
    }

    #[test]
    fn consistent_hash_shares_follow_capacity(seed in any::<u64>()) {
        // 1,000 tasks over capacities 1, 1, 2, 4: each count is binomial; the
        // bound is six standard deviations.
        let case = Case {
            workers: vec![worker("a", 1), worker("b", 1), worker("c", 2), worker("d", 4)],
            tasks: (0..1000).map(|i| task(&format!("task-{i}"), 1)).collect(),
            current: Default::default(),
        };
        let load = loads(&case, &ConsistentHash::new(seed).assign(&case.input()));
        for (w, c) in [("a", 1.0), ("b", 1.0), ("c", 2.0), ("d", 4.0)] {
            let p: f64 = c / 8.0;
            let mean = 1000.0 * p;
            let sd = (1000.0 * p * (1.0 - p)).sqrt();
            let got = load[&wid(w)] as f64;
            prop_assert!((got - mean).abs() <= 6.0 * sd, "{}: {} tasks, expected {}", w, got, mean);
        }
    }
}

#[test]
fn consistent_hash_with_a_fixed_seed_is_within_three_percent_of_the_shares() {
    let case = Case {
        workers: vec![
            worker("a", 1),
            worker("b", 1),
            worker("c", 2),
            worker("d", 4),
        ],
        tasks: (0..40_000).map(|i| task(&format!("task-{i}"), 1)).collect(),
        current: Default::default(),
    };
    let load = loads(&case, &ConsistentHash::new(0).assign(&case.input()));
    for (w, share) in [
        ("a", 5000.0),
        ("b", 5000.0),
        ("c", 10_000.0),
        ("d", 20_000.0),
    ] {
        let got = load[&wid(w)] as f64;
        assert!((got - share).abs() / share < 0.03, "{w}: {got} vs {share}");
    }
}

#[test]
fn consistent_hash_placements_are_pinned_for_seed_zero() {
    // A change here changes every deployed cluster's placements.
    let case = Case {
        workers: vec![worker("a", 1), worker("b", 1), worker("c", 1)],
        tasks: (0..8).map(|i| task(&format!("t{i}"), 1)).collect(),
        current: Default::default(),
    };
    let target: Target = ConsistentHash::new(0).assign(&case.input());
    let got: Vec<&str> = target.placements.values().map(|w| w.as_str()).collect();
    // Computed independently from the documented definition (FNV-1a,
    // fmix64, u = ((h >> 12) + 0.5) / 2^52, lowest −ln(u)/capacity).
    assert_eq!(got, ["a", "a", "b", "a", "a", "b", "b", "c"]);
}

#[test]
fn first_come_opens_orphans_and_tasks_no_longer_eligible_where_they_run() {
    let mut case = Case {
        workers: vec![worker("a", 1), worker("b", 1)],
        tasks: (0..4).map(|i| task(&format!("t{i}"), 1)).collect(),
        current: Default::default(),
    };
    case.tasks[2].pinned = Some(wid("b"));
    case.tasks[3].tags = BTreeSet::from(["gpu".to_owned()]);
    case.current.insert(tid("t0"), wid("a"));
    case.current.insert(tid("t1"), wid("gone"));
    case.current.insert(tid("t2"), wid("a"));
    let target = FirstCome.assign(&case.input());
    assert_eq!(target.placements, [(tid("t0"), wid("a"))].into());
    assert_eq!(target.open, [tid("t1"), tid("t2")].into());
}

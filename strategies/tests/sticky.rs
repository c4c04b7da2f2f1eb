//! Properties of `Sticky`: validity, determinism, stability, minimal
//! movement, balance.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use tenure_core::strategy::{Strategy as _, Target};
use tenure_strategies::Sticky;

fn run(case: &Case) -> Target {
    Sticky.assign(&case.input())
}

fn placeable_weight(case: &Case) -> u64 {
    case.tasks
        .iter()
        .filter(|t| case.placeable(t))
        .map(|t| u64::from(t.weight.get()))
        .sum()
}

/// Deviation from Sticky's quotas for the final loads.
fn deviations(case: &Case, target: &Target) -> BTreeMap<tenure_core::WorkerId, i128> {
    let load = loads(case, target);
    let q = Sticky::quotas(&case.workers, placeable_weight(case), &load);
    load.iter()
        .map(|(w, l)| (w.clone(), i128::from(*l) - i128::from(q[w])))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sticky_places_every_placeable_task_on_a_live_eligible_worker(case in arb_case(Params::full())) {
        let target = run(&case);
        check_valid(&case, &target, false)?;
        prop_assert_eq!(target.recheck_after, None);
    }

    #[test]
    fn sticky_is_deterministic_and_ignores_input_order(case in arb_case(Params::full()), k in 0usize..64) {
        let target = run(&case);
        prop_assert_eq!(&target, &run(&case));
        prop_assert_eq!(&target, &run(&case.permuted(k)));
    }

    #[test]
    fn sticky_applied_to_its_own_output_moves_nothing(case in arb_case(Params::full())) {
        let target = run(&case);
        let again = run(&case.after(&target));
        prop_assert_eq!(again, target);
    }

    #[test]
    fn sticky_moves_exactly_the_lower_bound_with_unit_weights(case in arb_case(Params::unit())) {
        let target = run(&case);
        prop_assert_eq!(moved(&case, &target), lower_bound_unit(&case));
    }

    #[test]
    fn sticky_loads_are_shares_rounded_down_or_up(case in arb_case(Params::unit())) {
        let target = run(&case);
        let load = loads(&case, &target);
        let shares = shares(&case, case.tasks.len() as u64);
        for (w, (floor, fractional)) in case.workers.iter().zip(shares) {
            let l = load[&w.id];
            prop_assert!(l == floor || (fractional && l == floor + 1),
                "{} has {} tasks, share floor {} fractional {}", &w.id, l, floor, fractional);
        }
    }

    #[test]
    fn sticky_equal_capacities_differ_by_at_most_one(
        case in arb_case(Params { max_capacity: 1, ..Params::unit() }),
    ) {
        let load = loads(&case, &run(&case));
        let (max, min) = (load.values().max().unwrap(), load.values().min().unwrap());
        prop_assert!(max - min <= 1, "loads {:?}", load);
    }

    #[test]
    fn sticky_join_and_leave_move_exactly_the_lower_bound(
        case in arb_case(Params { workers: 2..=8, ..Params::unit() }),
        leave in proptest::collection::vec(any::<bool>(), 10),
        join in proptest::collection::vec((any::<bool>(), 1u32..=4), 10),
    ) {
        // A settled cluster first: Sticky's own placement of the tasks.
        let settled = case.after(&run(&Case { current: Default::default(), ..case.clone() }));
        // Then some workers leave (not all) and some join.
        let mut changed = settled.clone();
        let mut gone = 0;
        changed.workers.retain(|w| {
            let i: usize = w.id.as_str()[1..].parse().unwrap();
            let leaves = leave[i] && gone + 1 < case.workers.len();
            gone += usize::from(leaves);
            !leaves
        });
        for (i, (joins, capacity)) in join.iter().enumerate() {
            let name = format!("w{i}");
            if *joins && settled.worker(&wid(&name)).is_none() {
                changed.workers.push(worker(&name, *capacity));
            }
        }
        changed.workers.sort_by(|a, b| a.id.cmp(&b.id));
        let target = run(&changed);
        check_valid(&changed, &target, false)?;
        prop_assert_eq!(moved(&changed, &target), lower_bound_unit(&changed));
    }

    #[test]
    fn sticky_weighted_tasks_stay_within_one_max_weight_of_the_share(
        case in arb_case(Params { max_weight: 5, ..Params::unit() }),
    ) {
        let target = run(&case);
        let load = loads(&case, &target);
        let total = placeable_weight(&case);
        let max_weight = case.tasks.iter().map(|t| u64::from(t.weight.get())).max().unwrap_or(1);
        let tolerance = max_weight - 1;
        for (w, (floor, fractional)) in case.workers.iter().zip(shares(&case, total)) {
            let l = load[&w.id];
            let ceil = floor + u64::from(fractional);
            prop_assert!(l + tolerance >= floor && l <= ceil + tolerance,
                "{} carries {}, share in [{}, {}], max weight {}", &w.id, l, floor, ceil, max_weight);
        }
        // And the pairwise bound: dev(d) − dev(r) ≤ lightest task on d.
        let dev = deviations(&case, &target);
        let lo = dev.values().min().copied().unwrap_or(0);
        for (d, dd) in &dev {
            let lightest = case.tasks.iter()
                .filter(|t| target.placements.get(&t.id) == Some(d))
                .map(|t| i128::from(t.weight.get())).min();
            if let Some(lightest) = lightest {
                prop_assert!(dd - lo <= lightest, "dev {:?}", dev);
            }
        }
    }

    #[test]
    fn sticky_with_tags_and_pins_no_single_move_lowers_the_imbalance(case in arb_case(Params::full())) {
        let target = run(&case);
        let dev = deviations(&case, &target);
        for t in &case.tasks {
            let Some(d) = target.placements.get(&t.id) else { continue };
            for r in case.workers.iter().filter(|r| r.id != *d && t.eligible(r)) {
                // Moving t from d to r lowers Σ dev² iff dev(d) − dev(r) > weight.
                prop_assert!(dev[d] - dev[&r.id] <= i128::from(t.weight.get()),
                    "{} could move from {} to {}: {:?}", &t.id, d, &r.id, dev);
            }
        }
    }

    #[test]
    fn sticky_keeps_every_valid_placement_of_a_balanced_cluster(case in arb_case(Params::unit())) {
        // Balanced by construction: Sticky's own output; then tasks are added.
        let base = case.after(&run(&case));
        let mut grown = base.clone();
        for i in 0..5 {
            grown.tasks.push(task(&format!("u{i}"), 1));
        }
        let target = run(&grown);
        let kept = base.valid_current().iter()
            .filter(|(t, w)| target.placements.get(*t) == Some(*w)).count();
        // Only the excess over the new quotas may leave.
        prop_assert_eq!(moved(&grown, &target), lower_bound_unit(&grown));
        prop_assert!(kept + lower_bound_unit(&grown) >= base.valid_current().len());
    }
}

fn cluster(workers: &[(&str, u32)], tasks: usize) -> Case {
    Case {
        workers: workers.iter().map(|(n, c)| worker(n, *c)).collect(),
        tasks: (0..tasks).map(|i| task(&format!("t{i:03}"), 1)).collect(),
        current: Default::default(),
    }
}

#[test]
fn hundred_tasks_ten_to_nine_workers_moves_only_the_orphans() {
    let names: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
    let ten: Vec<(&str, u32)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    let settled = cluster(&ten, 100);
    let settled = settled.after(&run(&settled));
    let mut nine = settled.clone();
    nine.workers.remove(4);
    let target = run(&nine);
    assert_eq!(moved(&nine, &target), 10);
    let load = loads(&nine, &target);
    assert!(load.values().all(|&l| l == 11 || l == 12), "{load:?}");
}

#[test]
fn hundred_tasks_nine_to_ten_workers_moves_ten_to_the_newcomer() {
    let names: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
    let nine: Vec<(&str, u32)> = names[..9].iter().map(|n| (n.as_str(), 1)).collect();
    let settled = cluster(&nine, 100);
    let mut ten = settled.after(&run(&settled));
    ten.workers.push(worker("w9", 1));
    let target = run(&ten);
    assert_eq!(moved(&ten, &target), 10);
    assert!(loads(&ten, &target).values().all(|&l| l == 10));
    assert!(
        target
            .placements
            .iter()
            .all(|(t, w)| ten.current[t] == *w || w.as_str() == "w9")
    );
}

#[test]
fn capacities_one_one_two_four_get_proportional_shares() {
    let case = cluster(&[("a", 1), ("b", 1), ("c", 2), ("d", 4)], 100);
    let load = loads(&case, &run(&case));
    // Shares 12.5, 12.5, 25, 50: the extra unit goes to the first by name.
    assert_eq!(load.values().copied().collect::<Vec<_>>(), [13, 12, 25, 50]);
}

#[test]
fn quotas_round_up_where_the_load_already_is() {
    let workers = [worker("a", 1), worker("b", 1), worker("c", 1)];
    let loads: BTreeMap<_, _> = [(wid("a"), 3), (wid("b"), 4), (wid("c"), 3)].into();
    let q = Sticky::quotas(&workers, 10, &loads);
    assert_eq!(q.values().copied().collect::<Vec<_>>(), [3, 4, 3]);
    let q = Sticky::quotas(&workers, 10, &BTreeMap::new());
    assert_eq!(q.values().copied().collect::<Vec<_>>(), [4, 3, 3]);
}

#[test]
fn tasks_without_an_eligible_worker_are_left_unplaced() {
    let mut case = cluster(&[("a", 1), ("b", 1)], 3);
    case.tasks[0].pinned = Some(wid("gone"));
    case.tasks[1].tags.insert("gpu".into());
    case.tasks[2].pinned = Some(wid("b"));
    let target = run(&case);
    assert_eq!(target.placements.len(), 1);
    assert_eq!(target.placements[&tid("t002")], wid("b"));
}

#[test]
fn no_workers_no_placements() {
    let case = cluster(&[], 5);
    assert_eq!(run(&case), Target::default());
}

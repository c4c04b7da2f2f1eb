//! Properties of the Delayed and Throttled wrappers, alone and composed.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use tenure_core::strategy::{Strategy, Target};
use tenure_strategies::{
    ConsistentHash, Delayed, Sticky, StrategyKind, StrategyOptions, Throttled,
};

const WINDOW: Duration = Duration::from_secs(10);

fn young(case: &Case, w: &tenure_core::WorkerId) -> bool {
    case.worker(w).is_some_and(|w| w.age < WINDOW)
}

/// No young worker receives a task that runs validly on another worker;
/// homeless tasks go to a settled worker whenever one is eligible.
fn check_delay(case: &Case, target: &Target) -> Result<(), TestCaseError> {
    let valid = case.valid_current();
    for t in &case.tasks {
        let Some(w) = target.placements.get(&t.id) else {
            continue;
        };
        if !young(case, w) {
            continue;
        }
        match valid.get(&t.id) {
            Some(owner) => prop_assert_eq!(owner, w, "{} moved to young {}", &t.id, w),
            None => prop_assert!(
                !case
                    .workers
                    .iter()
                    .any(|s| s.age >= WINDOW && t.eligible(s)),
                "homeless {} put on young {} although a settled worker is eligible",
                &t.id,
                w
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn delayed_gives_young_workers_no_running_task(case in arb_case(Params::full()), k in 0usize..64) {
        let s = Delayed::new(Sticky, WINDOW);
        let target = s.assign(&case.input());
        check_valid(&case, &target, false)?;
        check_delay(&case, &target)?;
        prop_assert_eq!(&target, &s.assign(&case.permuted(k).input()));
    }

    #[test]
    fn delayed_rechecks_when_the_first_refused_worker_settles(case in arb_case(Params::full())) {
        let inner = Sticky.assign(&case.input());
        let target = Delayed::new(Sticky, WINDOW).assign(&case.input());
        // Refused: young workers the inner strategy gave a task they did not get.
        let refused = inner.placements.iter()
            .filter(|(t, w)| young(&case, w) && target.placements.get(*t) != Some(*w))
            .map(|(_, w)| WINDOW - case.worker(w).unwrap().age)
            .min();
        prop_assert_eq!(target.recheck_after, refused);
        // Placements on settled workers or kept on young ones are the inner's.
        for (t, w) in &target.placements {
            if inner.placements.get(t) != Some(w) {
                prop_assert!(young(&case, &inner.placements[t]), "{} changed without a young worker", t);
            }
        }
    }

    #[test]
    fn delayed_without_young_workers_is_the_inner_strategy(case in arb_case(Params::full())) {
        let mut settled = case.clone();
        for w in &mut settled.workers {
            w.age += WINDOW;
        }
        for inner in [Box::new(Sticky) as Box<dyn Strategy>, Box::new(ConsistentHash::new(3))] {
            let wrapped = Delayed::new(inner, WINDOW);
            prop_assert_eq!(wrapped.assign(&settled.input()), wrapped.inner().assign(&settled.input()));
        }
    }

    #[test]
    fn throttled_moves_at_most_n_running_tasks(case in arb_case(Params::full()), n in 0usize..6) {
        let inner = Sticky.assign(&case.input());
        let target = Throttled::new(Sticky, n).assign(&case.input());
        check_valid(&case, &target, false)?;
        let wanted = running_moved(&case, &inner);
        let made = running_moved(&case, &target);
        prop_assert!(made.len() <= n);
        // The moves made are the first n of the inner's, by task name.
        prop_assert_eq!(&made[..], &wanted[..wanted.len().min(n)]);
        // Everything else is the inner's decision, or the task stays put.
        let valid = case.valid_current();
        for (t, w) in &target.placements {
            prop_assert!(inner.placements.get(t) == Some(w) || valid.get(t) == Some(w));
        }
        if wanted.len() > n {
            prop_assert_eq!(target.recheck_after, Some(tenure_strategies::DEFAULT_RECHECK));
        } else {
            prop_assert_eq!(&target, &inner);
        }
    }

    #[test]
    fn throttled_delayed_sticky_keeps_both_promises(case in arb_case(Params::full()), n in 0usize..6) {
        let s = Throttled::new(Delayed::new(Sticky, WINDOW), n);
        let target = s.assign(&case.input());
        check_valid(&case, &target, false)?;
        check_delay(&case, &target)?;
        prop_assert!(running_moved(&case, &target).len() <= n);
        prop_assert_eq!(s.name(), "throttled(delayed(sticky))");
    }

    #[test]
    fn throttled_sticky_reaches_stickys_target_in_rounds(case in arb_case(Params::unit()), n in 1usize..6) {
        // Repeated rounds, each taking effect, end where Sticky alone would
        // settle, within ⌈moves / n⌉ + 1 rounds.
        let s = Throttled::new(Sticky, n);
        let mut state = case.clone();
        let bound = running_moved(&case, &Sticky.assign(&case.input())).len().div_ceil(n) + 1;
        for _ in 0..bound {
            state = state.after(&s.assign(&state.input()));
        }
        prop_assert_eq!(Sticky.assign(&state.input()), s.assign(&state.input()));
        prop_assert_eq!(running_moved(&state, &Sticky.assign(&state.input())).len(), 0);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_built_in_in_any_wrapping_is_valid_deterministic_and_keeps_the_wrappers_promises(
        case in arb_case(Params::full()),
        k in 0usize..64,
        delayed in any::<bool>(),
        cap in proptest::option::of(0usize..4),
    ) {
        let options = StrategyOptions {
            rebalance_delay: delayed.then_some(WINDOW),
            max_moves: cap,
            ..StrategyOptions::default()
        };
        for kind in StrategyKind::ALL {
            let s = kind.build(&options);
            let target = s.assign(&case.input());
            check_valid(&case, &target, kind == StrategyKind::FirstCome)?;
            prop_assert_eq!(&target, &s.assign(&case.permuted(k).input()), "{}", s.name());
            if delayed {
                check_delay(&case, &target)?;
            }
            if let Some(n) = cap {
                prop_assert!(running_moved(&case, &target).len() <= n, "{}", s.name());
            }
        }
    }
}

fn cluster(n: usize, tasks: usize) -> Case {
    Case {
        workers: (0..n).map(|i| worker(&format!("w{i}"), 1)).collect(),
        tasks: (0..tasks).map(|i| task(&format!("t{i:03}"), 1)).collect(),
        current: Default::default(),
    }
}

#[test]
fn a_flapping_worker_causes_no_handoffs_until_it_settles() {
    let s = Delayed::new(Sticky, WINDOW);
    let settled = cluster(10, 100);
    let settled = settled.after(&s.assign(&settled.input()));
    // w3 dies: its 10 tasks are taken over at once.
    let mut nine = settled.clone();
    nine.workers.remove(3);
    let t = s.assign(&nine.input());
    assert_eq!(moved(&nine, &t), 10);
    assert_eq!(t.recheck_after, None);
    // w3 comes back, 2 s old: nothing moves; recheck when it is 10 s old.
    let mut back = nine.after(&t);
    let mut w3 = worker("w3", 1);
    w3.age = Duration::from_secs(2);
    back.workers.insert(3, w3);
    let t = s.assign(&back.input());
    assert_eq!(moved(&back, &t), 0);
    assert_eq!(t.recheck_after, Some(Duration::from_secs(8)));
    // Settled: it gets its share back, 10 moves, the lower bound.
    back.workers[3].age = WINDOW;
    let t = s.assign(&back.input());
    assert_eq!(moved(&back, &t), 10);
    assert_eq!(moved(&back, &t), lower_bound_unit(&back));
}

#[test]
fn orphans_go_to_a_young_worker_only_when_no_settled_one_is_eligible() {
    let mut case = cluster(2, 2);
    case.workers[1].age = Duration::ZERO;
    case.workers[1].tags.insert("gpu".into());
    case.tasks[1].tags.insert("gpu".into());
    let t = Delayed::new(Sticky, WINDOW).assign(&case.input());
    assert_eq!(t.placements[&tid("t000")], wid("w0"));
    assert_eq!(t.placements[&tid("t001")], wid("w1"));
}

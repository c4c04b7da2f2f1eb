//! Standby plans (`Strategy::standby`): `Sticky`'s fast answer is the
//! default's (its own `assign` once per leaving worker), and with equal
//! capacities and unit weights the round after a departure keeps the
//! planned placement, so a takeover by plan moves nothing again. (With
//! unequal capacities the rounding of the shares depends on the loads it
//! starts from, and a few tasks may move once more in that round.)

mod common;

use common::*;
use proptest::prelude::*;
use tenure_core::strategy::{Assignment, Strategy, StrategyInput, Target};
use tenure_strategies::Sticky;

/// `Sticky` without its own `standby`: the trait's default.
#[derive(Debug)]
struct AssignOnly;

impl Strategy for AssignOnly {
    fn name(&self) -> &str {
        "assign-only"
    }
    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        Sticky.assign(input)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sticky_standby_is_its_assign_without_the_leaving_worker(case in arb_case(Params::full())) {
        // From the placement Sticky itself made, and from an arbitrary one.
        let placed = case.after(&Sticky.assign(&case.input()));
        for c in [&case, &placed] {
            prop_assert_eq!(Sticky.standby(&c.input()), AssignOnly.standby(&c.input()));
        }
    }

    #[test]
    fn sticky_keeps_a_standby_plan_after_the_departure(
        case in arb_case(Params { max_capacity: 1, ..Params::unit() }),
    ) {
        let placed = Sticky.assign(&case.input()).placements;
        let input = StrategyInput { workers: &case.workers, tasks: &case.tasks, current: &placed };
        for (leaving, plan) in Sticky.standby(&input) {
            let others: Vec<_> = case.workers.iter().filter(|w| w.id != leaving).cloned().collect();
            let mut after: Assignment = placed.clone();
            for (task, successor) in &plan {
                prop_assert_ne!(successor, &leaving);
                after.insert(task.clone(), successor.clone());
            }
            let next = Sticky.assign(&StrategyInput { workers: &others, tasks: &case.tasks, current: &after });
            prop_assert_eq!(next.placements, after, "{} left", leaving);
        }
    }
}

//! The default strategy: keep what is valid, move the fewest tasks to
//! balance. (Being written; see issue 4.)

use super::{Strategy, StrategyInput, Target};

/// Keeps every valid placement and moves the fewest tasks needed to balance.
#[derive(Clone, Debug, Default)]
pub struct Sticky;

impl Strategy for Sticky {
    fn name(&self) -> &str {
        "sticky"
    }

    fn assign(&self, input: &StrategyInput<'_>) -> Target {
        // Provisional: least-loaded placement keeping valid current ones.
        let mut target = Target::default();
        let mut load: std::collections::BTreeMap<_, u64> =
            input.workers.iter().map(|w| (&w.id, 0u64)).collect();
        for t in input.tasks {
            if let Some(w) = input.current.get(&t.id) {
                if let Some(info) = input.workers.iter().find(|x| x.id == *w) {
                    if t.eligible(info) {
                        target.placements.insert(t.id.clone(), w.clone());
                        *load.entry(&info.id).or_default() += u64::from(t.weight);
                    }
                }
            }
        }
        for t in input.tasks {
            if target.placements.contains_key(&t.id) {
                continue;
            }
            let best = input
                .workers
                .iter()
                .filter(|w| t.eligible(w))
                .min_by_key(|w| (load[&w.id] * 1000 / u64::from(w.capacity.max(1)), &w.id));
            if let Some(w) = best {
                *load.entry(&w.id).or_default() += u64::from(t.weight);
                target.placements.insert(t.id.clone(), w.id.clone());
            }
        }
        target
    }
}

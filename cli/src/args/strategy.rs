//! `--strategy`: the built-in load strategies by name, with what each
//! does for `--help`.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use tenure_strategies::StrategyKind;

/// Parses `--strategy` with [`StrategyKind`]'s own parser (whose error
/// lists the names), and offers the built-ins to `--help`.
#[derive(Clone, Copy, Debug)]
pub struct StrategyParser;

impl TypedValueParser for StrategyParser {
    type Value = StrategyKind;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<StrategyKind, clap::Error> {
        let parse = |text: &str| {
            text.parse::<StrategyKind>().map_err(|e| match e {
                tenure_core::Error::InvalidInput(reason) => reason,
                other => other.to_string(),
            })
        };
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(StrategyKind::ALL.into_iter().map(|kind| {
            PossibleValue::new(kind.name()).help(describe(kind))
        })))
    }
}

/// What each strategy does, for `--help`.
fn describe(kind: StrategyKind) -> &'static str {
    match kind {
        StrategyKind::Sticky => {
            "keeps tasks where they run and moves the fewest needed to balance the load by capacity"
        }
        StrategyKind::FirstCome => {
            "never rebalances: a free task goes to the first eligible worker that claims it"
        }
        StrategyKind::RoundRobin => {
            "ElasticJob's ROUND_ROBIN: tasks by name in even blocks over the workers by name, \
             the list rotated by the cluster name's hash; ignores where tasks run"
        }
        StrategyKind::Average => {
            "ElasticJob's AVG_ALLOCATION: tasks by name in even blocks over the workers by name; \
             ignores where tasks run"
        }
        StrategyKind::Odevity => {
            "ElasticJob's ODEVITY: as average, the worker list reversed if the cluster name's \
             hash is even; ignores where tasks run"
        }
        StrategyKind::ConsistentHash => {
            "rendezvous hashing weighted by capacity: balanced only statistically, but a worker \
             that joins or leaves moves only the tasks it gains or had"
        }
    }
}

//! Choosing a strategy by name, for configuration files and command lines.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tenure_core::strategy::{Sticky, Strategy};
use tenure_core::{Error, Result};

use crate::{
    AverageAllocation, ConsistentHash, Delayed, FirstCome, InstanceOrder, Odevity, RoundRobin,
    Throttled,
};

/// The built-in strategies, by the names a command line uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StrategyKind {
    /// [`Sticky`], `sticky`.
    Sticky,
    /// [`FirstCome`], `first-come`.
    FirstCome,
    /// [`RoundRobin`], `round-robin` (also ElasticJob's `ROUND_ROBIN`).
    RoundRobin,
    /// [`AverageAllocation`], `average` (also `average-allocation` and
    /// ElasticJob's `AVG_ALLOCATION`).
    Average,
    /// [`Odevity`], `odevity` (also `ODEVITY`).
    Odevity,
    /// [`ConsistentHash`], `consistent-hash`.
    ConsistentHash,
}

impl StrategyKind {
    /// Every built-in, in the order they are listed to users.
    pub const ALL: [StrategyKind; 6] = [
        StrategyKind::Sticky,
        StrategyKind::FirstCome,
        StrategyKind::RoundRobin,
        StrategyKind::Average,
        StrategyKind::Odevity,
        StrategyKind::ConsistentHash,
    ];

    /// The name a command line uses (and [`Strategy::name`] returns).
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Sticky => "sticky",
            StrategyKind::FirstCome => "first-come",
            StrategyKind::RoundRobin => "round-robin",
            StrategyKind::Average => "average",
            StrategyKind::Odevity => "odevity",
            StrategyKind::ConsistentHash => "consistent-hash",
        }
    }

    /// Builds the strategy with `options` (wrapped in [`Delayed`] and
    /// [`Throttled`] if the options ask for it).
    pub fn build(self, options: &StrategyOptions) -> Box<dyn Strategy> {
        let base: Box<dyn Strategy> = match self {
            StrategyKind::Sticky => Box::new(Sticky),
            StrategyKind::FirstCome => Box::new(FirstCome),
            StrategyKind::RoundRobin => Box::new(
                RoundRobin::new(options.job_name.clone())
                    .with_instance_order(options.instance_order),
            ),
            StrategyKind::Average => {
                Box::new(AverageAllocation::new().with_instance_order(options.instance_order))
            }
            StrategyKind::Odevity => Box::new(
                Odevity::new(options.job_name.clone()).with_instance_order(options.instance_order),
            ),
            StrategyKind::ConsistentHash => Box::new(ConsistentHash::new(options.seed)),
        };
        let delayed: Box<dyn Strategy> = match options.rebalance_delay {
            Some(window) => Box::new(Delayed::new(base, window)),
            None => base,
        };
        match options.max_moves {
            Some(n) => Box::new(Throttled::new(delayed, n)),
            None => delayed,
        }
    }

    fn choices() -> String {
        Self::ALL.map(StrategyKind::name).join(", ")
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = Error;

    /// Accepts the names of [`StrategyKind::name`], `average-allocation`,
    /// and ElasticJob's type names (`AVG_ALLOCATION`, `ODEVITY`,
    /// `ROUND_ROBIN`), ignoring case,
    /// with `_` and `-` interchangeable.
    fn from_str(s: &str) -> Result<Self> {
        let key = s.trim().to_ascii_lowercase().replace('_', "-");
        let kind = match key.as_str() {
            "avg-allocation" | "average-allocation" => Some(StrategyKind::Average),
            _ => Self::ALL.into_iter().find(|k| k.name() == key),
        };
        kind.ok_or_else(|| {
            Error::InvalidInput(format!(
                "unknown strategy {s:?}; choose one of: {}",
                Self::choices()
            ))
        })
    }
}

/// Settings for [`by_name`] that some strategies need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategyOptions {
    /// The job name whose Java hash code `round-robin` and `odevity` use
    /// (use the cluster name). Default `"tenure"`.
    pub job_name: String,
    /// The seed of `consistent-hash`. Default 0.
    pub seed: u64,
    /// How workers are listed to the ElasticJob strategies.
    pub instance_order: InstanceOrder,
    /// If set, wrap in [`Delayed`] with this window.
    pub rebalance_delay: Option<Duration>,
    /// If set, wrap in [`Throttled`] with this many moves per round.
    pub max_moves: Option<usize>,
}

impl Default for StrategyOptions {
    fn default() -> Self {
        StrategyOptions {
            job_name: "tenure".to_owned(),
            seed: 0,
            instance_order: InstanceOrder::Ascending,
            rebalance_delay: None,
            max_moves: None,
        }
    }
}

/// The built-in strategy called `name` (see [`StrategyKind`] for the names),
/// built with `options`.
///
/// ```
/// use tenure_strategies::{StrategyOptions, by_name};
/// let s = by_name("round-robin", &StrategyOptions::default()).unwrap();
/// assert_eq!(s.name(), "round-robin");
/// assert!(by_name("fastest", &StrategyOptions::default()).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] if `name` is not a built-in; the message lists
/// the choices.
pub fn by_name(name: &str, options: &StrategyOptions) -> Result<Box<dyn Strategy>> {
    Ok(name.parse::<StrategyKind>()?.build(options))
}

//! Picking a strategy by name.

use std::time::Duration;

use tenure_core::Error;
use tenure_strategies::{StrategyKind, StrategyOptions, by_name};

#[test]
fn every_built_in_is_found_by_its_own_name() {
    for kind in StrategyKind::ALL {
        let s = by_name(kind.name(), &StrategyOptions::default()).unwrap();
        assert_eq!(s.name(), kind.name());
        assert_eq!(kind.to_string().parse::<StrategyKind>().unwrap(), kind);
    }
}

#[test]
fn elastic_job_type_names_are_accepted() {
    let parse = |s: &str| s.parse::<StrategyKind>().unwrap();
    assert_eq!(parse("AVG_ALLOCATION"), StrategyKind::Average);
    assert_eq!(parse("average-allocation"), StrategyKind::Average);
    assert_eq!(parse("ODEVITY"), StrategyKind::Odevity);
    assert_eq!(parse("ROUND_ROBIN"), StrategyKind::RoundRobin);
    assert_eq!(parse(" Consistent_Hash "), StrategyKind::ConsistentHash);
}

#[test]
fn an_unknown_name_is_refused_with_the_choices() {
    let err = by_name("fastest", &StrategyOptions::default()).unwrap_err();
    let Error::InvalidInput(message) = &err else {
        panic!("unexpected error {err:?}");
    };
    assert!(message.contains("\"fastest\""), "{message}");
    for kind in StrategyKind::ALL {
        assert!(message.contains(kind.name()), "{message}");
    }
}

#[test]
fn options_wrap_in_delayed_and_throttled() {
    let options = StrategyOptions {
        rebalance_delay: Some(Duration::from_secs(30)),
        max_moves: Some(5),
        ..StrategyOptions::default()
    };
    let s = by_name("sticky", &options).unwrap();
    assert_eq!(s.name(), "throttled(delayed(sticky))");
    let s = by_name(
        "odevity",
        &StrategyOptions {
            max_moves: Some(1),
            ..StrategyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(s.name(), "throttled(odevity)");
}

//! A short seeded soak of `tenure worker` on each backend at a 2 s
//! session: every kind of fault once or more in about 25 s, then the
//! checks of
//! `tenure_tests::soak` (no task run twice at once, tokens rising, nothing
//! stranded past the session + 1 s, no command outliving its worker,
//! nothing running after the end). The long runs are in BENCHMARKS.md
//! ("Soak").
//!
//! The suite runs these beside every other test on a 2-core machine; at
//! the shortest session (1 s) the bound of session + 1 s is within
//! scheduling noise there (a task stranded 2.07 s against 2 s once in six
//! runs), so the 1 s runs are the long ones in BENCHMARKS.md, run by hand
//! with the `soak` program (`--session-secs 1`).
//!
//! It lives here rather than in `tenure-tests` so that cargo builds the
//! `tenure` program it runs (`CARGO_BIN_EXE_tenure`).

use std::path::PathBuf;
use std::time::Duration;

use tenure_tests::failover::StoreKind;
use tenure_tests::soak::{self, SoakOptions};

/// The seed of both runs (printed with the summary, so a failure can be
/// replayed with the `soak` program).
const SEED: u64 = 20261204;

fn short_soak(backend: StoreKind) {
    let tenure = PathBuf::from(env!("CARGO_BIN_EXE_tenure"));
    let opts = SoakOptions::short(tenure, backend, Duration::from_secs(2), SEED);
    let outcome = soak::run(&opts, SEED);
    let summary = soak::summary(&opts, &outcome);
    eprintln!("{summary}");
    assert!(outcome.verdict.passed(), "{summary}");
}

#[test]
fn a_short_soak_on_zookeeper_finds_no_task_run_twice_or_stranded() {
    short_soak(StoreKind::Zookeeper);
}

#[test]
fn a_short_soak_on_etcd_finds_no_task_run_twice_or_stranded() {
    short_soak(StoreKind::Etcd);
}

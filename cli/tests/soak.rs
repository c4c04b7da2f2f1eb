//! A short seeded soak of `tenure worker` on each backend, at the
//! shortest session the program accepts (1 s: etcd grants no shorter
//! lease, and a shorter ZooKeeper session leaves no room for a grace):
//! every kind of fault once or more in about 25 s, then the checks of
//! `tenure_tests::soak` (no task run twice at once, tokens rising, nothing
//! stranded past the session + 1 s, no command outliving its worker,
//! nothing running after the end). The long runs are in BENCHMARKS.md
//! ("Soak").
//!
//! Both are ignored while the defects they find are open (see each
//! `ignore`); run them with `cargo test -p tenure-cli --test soak --
//! --ignored --nocapture`.
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
    let opts = SoakOptions::short(tenure, backend, Duration::from_secs(1), SEED);
    let outcome = soak::run(&opts, SEED);
    let summary = soak::summary(&opts, &outcome);
    eprintln!("{summary}");
    assert!(outcome.verdict.passed(), "{summary}");
}

#[test]
#[ignore = "flaky on a busy machine: once in six runs here, with the etcd soak beside it, a task stayed stranded just over the bound after a blackhole (2.07 s against 2 s); the overlaps it found after a worker's SIGSTOP (up to 0.99 s) are fixed"]
fn a_short_soak_on_zookeeper_finds_no_task_run_twice_or_stranded() {
    short_soak(StoreKind::Zookeeper);
}

#[test]
#[ignore = "flaky on a busy machine: once in four runs here, with the ZooKeeper soak beside it, a worker claimed a task just after it was paused; the overlaps after a worker's SIGSTOP are fixed"]
fn a_short_soak_on_etcd_finds_no_task_run_twice_or_stranded() {
    short_soak(StoreKind::Etcd);
}

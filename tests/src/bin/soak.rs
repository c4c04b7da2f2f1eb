//! The soak of `tenure worker` on real servers (see
//! `tenure_tests::soak`): prints the seed first, the faults as they are
//! applied, then a summary; exits with 1 when a check failed, 2 on bad
//! options.
//!
//! Ctrl-C or SIGTERM ends it at once: the servers, the workers and their
//! commands die with it (parent-death signals); the descendants of
//! `--setsid-helper` end by themselves after `--duration-secs` + 600 s.
//!
//! ```text
//! cargo build -p tenure-cli -p tenure-tests --bins
//! target/debug/soak --backend zookeeper --session-secs 2 --duration-secs 300
//! target/debug/soak --backend zookeeper --members 3 --session-secs 1 --seed 7
//! target/debug/soak --backend etcd --session-secs 10 --faults 20
//! ```

use std::process::ExitCode;

use clap::Parser;
use tenure_tests::soak::{self, SoakOptions};

fn main() -> ExitCode {
    let opts = SoakOptions::parse();
    if let Err(e) = opts.validate() {
        eprintln!("soak: {e}");
        return ExitCode::from(2);
    }
    let tenure = opts.tenure_program();
    if !tenure.is_file() {
        eprintln!(
            "soak: no tenure program at {} (build it with `cargo build -p tenure-cli`, or pass --tenure)",
            tenure.display()
        );
        return ExitCode::from(2);
    }
    let seed = opts.seed();
    println!("soak seed {seed}; replay: {}", soak::replay(&opts, seed));
    let outcome = soak::run(&opts, seed);
    print!("{}", soak::summary(&opts, &outcome));
    if outcome.verdict.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

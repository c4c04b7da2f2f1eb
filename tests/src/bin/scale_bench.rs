//! The scale benchmark: how tenure behaves with many tasks on a real
//! server (BENCHMARKS.md, "Scale").
//!
//! ```text
//! cargo run --release -p tenure-tests --bin scale_bench -- \
//!     --backend memory,zookeeper,etcd --tasks 100,1000 --workers 4,20 --runs 5
//! ```
//!
//! For each backend and task count it runs W in-process workers, each with
//! its own client and session (ZooKeeper and etcd clients each behind their
//! own loopback proxy), and measures with the wall clock, each run on a
//! fresh cluster:
//!
//! 1. cold start: from the first worker's start (all W start at once, their
//!    clients already connected) until every task runs, balanced;
//! 2. takeover: one worker that does not lead is partitioned silently (its
//!    proxy, or the memory client's partition, passes nothing and tells
//!    nobody), so the server ends its session when the session timeout
//!    runs out; until every task it ran runs elsewhere;
//! 3. handback: that worker comes back under its name with a new client;
//!    until balanced again, and how many tasks moved.
//!
//! Every handler start and stop goes to one history that fails the run if
//! a task ever runs on two workers at once or a token does not rise. Each
//! worker's requests are counted by kind and folder on its client
//! ([`counting`]), the leader's rounds from its own log events
//! ([`rounds`]). The servers (started by the test harness on free loopback
//! ports) are killed at the end, and with this process if it dies.
//!
//! A program rather than a `cargo bench` target: it takes sizes and
//! backends on its command line, starts servers, and runs for minutes;
//! `cargo bench` passes arguments of its own, and `--all-targets` builds
//! would make every CI check compile it as a bench. As a `[[bin]]` of
//! `tenure-tests` it is built by `cargo test` for `tests/scale_bench.rs`,
//! which runs it on the memory backend with tiny sizes so it does not rot.
//!
//! `RUST_LOG` filters its diagnostics on stderr (default `warn`); the
//! tables go to stdout.

#[path = "scale_bench/baseline.rs"]
mod baseline;
#[path = "scale_bench/cluster.rs"]
mod cluster;
#[path = "scale_bench/costs.rs"]
mod costs;
#[path = "scale_bench/counting.rs"]
mod counting;
#[path = "scale_bench/options.rs"]
mod options;
#[path = "scale_bench/phases.rs"]
mod phases;
#[path = "scale_bench/placement.rs"]
mod placement;
#[path = "scale_bench/plot.rs"]
mod plot;
#[path = "scale_bench/process.rs"]
mod process;
#[path = "scale_bench/report.rs"]
mod report;
#[path = "scale_bench/rounds.rs"]
mod rounds;
#[path = "scale_bench/servers.rs"]
mod servers;
#[path = "scale_bench/stats.rs"]
mod stats;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use options::{Options, Setup};
use report::Measured;
use servers::Server;

/// What was measured, the servers' descriptions, and the failure that
/// ended the measuring early, if one did.
type Outcome = (Vec<Measured>, Vec<String>, Option<String>);

/// Measures every backend and size of `options`; the first failure ends it
/// (what was measured before it is kept).
async fn measure(options: &Options) -> Result<Outcome, String> {
    let setups = options.setups()?;
    let mut measured = Vec::new();
    let mut servers = Vec::new();
    for &kind in &options.backend {
        let server = Server::start(kind).await;
        for &setup in &setups {
            let (m, failure) = measure_size(&server, setup, options).await;
            measured.extend(m);
            if failure.is_some() {
                servers.push(server.describe());
                return Ok((measured, servers, failure));
            }
        }
        // Asked last: a ZooKeeper server just started may not say yet.
        servers.push(server.describe());
    }
    Ok((measured, servers, None))
}

/// Measures one backend at one size: its runs, then (with `--tenure`) the
/// memory of one `tenure worker` process. Returns what was measured (none
/// if the first run failed) and the failure that ended it early, if one
/// did.
async fn measure_size(
    server: &Server,
    setup: Setup,
    options: &Options,
) -> (Option<Measured>, Option<String>) {
    let cluster = |suffix: String| {
        format!(
            "scale-{}-{}-{}-{}-{suffix}",
            std::process::id(),
            server.name().to_lowercase(),
            setup.tasks,
            setup.workers
        )
    };
    let measured = |runs: Vec<_>, process| Measured {
        backend: server.name(),
        setup,
        runs,
        process,
    };
    let mut runs = Vec::new();
    for run in 1..=options.runs {
        let cluster = cluster(format!("{}-{run}", setup.session.as_millis()));
        let result = match phases::run_once(server, setup, &cluster).await {
            Ok(result) => result,
            Err(e) => {
                let so_far = (!runs.is_empty()).then(|| measured(runs, None));
                return (so_far, Some(format!("{cluster}: {e}")));
            }
        };
        eprintln!(
            "{} {} tasks × {} workers, {:?} session, run {run} (load {}): cold start {:?}, takeover {:?}, handback {:?} ({} moved)",
            server.name(),
            setup.tasks,
            setup.workers,
            setup.session,
            load(),
            result.cold.took,
            result.takeover.took,
            result.handback.took,
            result.handback.moved,
        );
        runs.push(result);
    }
    let Some(tenure) = &options.tenure else {
        return (Some(measured(runs, None)), None);
    };
    let cluster = cluster("process".to_owned());
    match process::measure(server, setup, &cluster, tenure).await {
        Ok(process) => {
            if let Some(p) = &process {
                eprintln!(
                    "{} {} tasks × {} workers: one tenure worker process ran {} tasks in {} KiB (peak {} KiB)",
                    server.name(),
                    setup.tasks,
                    setup.workers,
                    p.ran,
                    p.rss_kib,
                    p.peak_kib
                );
            }
            (Some(measured(runs, process)), None)
        }
        Err(e) => (Some(measured(runs, None)), Some(format!("{cluster}: {e}"))),
    }
}

/// The load averages over 1, 5 and 15 minutes, from `/proc/loadavg`.
fn load() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The CPU, its cores and the kernel, from `/proc`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cores} cores, Linux {}", kernel.trim())
}

fn main() -> ExitCode {
    let options = Options::parse();
    let log = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_filter(log),
        )
        .with(rounds::layer())
        .init();
    if let Err(e) = costs::install() {
        eprintln!("scale_bench: {e}");
        return ExitCode::FAILURE;
    }
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("scale_bench: cannot start the async runtime");
        return ExitCode::FAILURE;
    };
    let (measured, servers, failure) = match runtime.block_on(measure(&options)) {
        Ok(done) => done,
        Err(e) => {
            eprintln!("scale_bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    println!("scale_bench {} ({build} build)", argv.join(" "));
    println!("machine: {} (load at the end: {})", machine(), load());
    for s in servers {
        println!("{s}");
    }
    println!("\n{}", report::times_table(&measured));
    println!("{}", report::requests_table(&measured));
    println!("{}", report::server_table(&measured));
    println!("{}", report::folders_table(&measured));
    println!("{}", report::costs_table(&measured));
    if options.tenure.is_some() {
        println!("{}", report::process_table(&measured));
    }
    if let Some(dir) = &options.plots {
        match plot::write_all(dir, &measured) {
            Ok(files) => {
                for f in files {
                    println!("plot: {}", f.display());
                }
            }
            Err(e) => {
                eprintln!("scale_bench: plots: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match failure {
        None => ExitCode::SUCCESS,
        Some(e) => {
            println!("stopped early: {e}");
            eprintln!("scale_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

//! The scale benchmark program (`src/bin/scale_bench.rs`) still runs: on
//! the memory backend with tiny sizes and a short session it finishes, its
//! history check passes, and it prints both tables with a row per phase.
//! The real measurement (BENCHMARKS.md, "Scale") is run by hand.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use tenure_tests::server_util::{ServerProcess, scratch_dir};

/// Two runs of a 1 s session each take about two seconds in a debug build.
const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn scale_bench_runs_on_the_memory_backend_with_tiny_sizes() {
    let dir = scratch_dir("scale-bench");
    let output = dir.path().join("output");
    let mut command = Command::new(env!("CARGO_BIN_EXE_scale_bench"));
    command.args([
        "--backend",
        "memory",
        "--tasks",
        "6,9",
        "--workers",
        "3",
        "--runs",
        "2",
        "--session-ms",
        "1000",
        "--settle-ms",
        "100",
        "--plots",
    ]);
    let plots = dir.path().join("plots");
    command.arg(&plots);
    let mut bench = ServerProcess::spawn("scale_bench", &command, &output).unwrap();
    let status = bench.wait_exit(LIMIT);
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(status.is_some_and(|s| s.success()), "{status:?}:\n{text}");
    // Times: one row per size; a third of the tasks comes back.
    for (tasks, back) in [(6, 2), (9, 3)] {
        let row = row(&text, &format!("| memory | {tasks} | 3 | 2 | 1000 |"));
        assert_eq!(row.last(), Some(&back.to_string()), "{text}");
    }
    // Requests: a row per size and phase, with requests counted.
    for tasks in [6, 9] {
        for phase in ["cold start", "takeover", "handback"] {
            let row = row(&text, &format!("| memory | {tasks} | 3 | 1000 | {phase} |"));
            let requests: u64 = row[6].split(' ').next().unwrap().parse().unwrap();
            assert!(requests > 0, "{phase}: {row:?}");
        }
    }
    // Costs: memory per worker, the leader's rounds in the cold start, and
    // the status time, measured for each size.
    let costs = text
        .split_once("| memory per worker (MiB) |")
        .map(|(_, rest)| rest)
        .expect("the costs table");
    for tasks in [6, 9] {
        let row = row(costs, &format!("| memory | {tasks} | 3 | 1000 |"));
        let per_worker: f64 = row[4].split(' ').next().unwrap().parse().unwrap();
        assert!(per_worker >= 0.0, "{row:?}");
        assert!(
            row[5].ends_with(')') && !row[5].ends_with("(0)"),
            "cold start rounds: {row:?}"
        );
        let status: f64 = row[9].split(' ').next().unwrap().parse().unwrap();
        assert!(status > 0.0, "{row:?}");
    }
    // Plots: the times against the task count and one timeline.
    for name in ["cold-start.svg", "takeover.svg", "timeline-memory.svg"] {
        let svg = std::fs::read_to_string(plots.join(name)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{name}");
    }
}

/// The cells of the one line of `text` that starts with `start`.
fn row(text: &str, start: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(start)).collect();
    assert_eq!(lines.len(), 1, "{start:?} in:\n{text}");
    let cells = lines[0].trim_matches('|').split('|');
    cells.map(|c| c.trim().to_owned()).collect()
}

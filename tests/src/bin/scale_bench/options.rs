//! The scale benchmark's command line and the sizes it asks for.

use std::time::Duration;

use clap::Parser;

use crate::servers::BackendKind;

/// Sizes and timing of a benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// Tasks in the cluster.
    pub tasks: usize,
    /// Workers in the cluster.
    pub workers: usize,
    /// The session timeout asked for.
    pub session: Duration,
    /// How long after a phase reached its goal its requests are still
    /// counted (the leader's last round, the releases' answers, …) before
    /// the next phase starts.
    pub settle: Duration,
}

/// How tenure behaves with many tasks on real servers: cold start, takeover
/// after a worker is cut off, handback when it returns; each phase repeated
/// on fresh clusters, medians and ranges printed as Markdown tables.
#[derive(Clone, Debug, Parser)]
#[command(name = "scale_bench")]
pub struct Options {
    /// Backends to measure, side by side (the harness starts each server
    /// on a free loopback port and stops it at the end).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "memory")]
    pub backend: Vec<BackendKind>,
    /// Task counts to measure, side by side.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub tasks: Vec<usize>,
    /// Worker counts to measure, side by side (each worker with its own
    /// client and session).
    #[arg(long, value_delimiter = ',', default_value = "4")]
    pub workers: Vec<usize>,
    /// Runs per backend and task count, each on a fresh cluster.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Session timeouts to measure, side by side, in milliseconds.
    #[arg(long, value_delimiter = ',', default_value = "2000")]
    pub session_ms: Vec<u64>,
    /// Write SVG plots into this folder: cold start and takeover against
    /// the task count, and an ownership timeline per backend.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<std::path::PathBuf>,
    /// How long after a phase's goal its requests are still counted, in
    /// milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub settle_ms: u64,
    /// Also measure the memory of one `tenure worker` process (this
    /// binary, e.g. `target/release/tenure`) running its share of the
    /// tasks beside the in-process workers, once per backend and size
    /// (not on the memory backend).
    #[arg(long, value_name = "PATH")]
    pub tenure: Option<std::path::PathBuf>,
}

impl Options {
    /// The setups to measure: every session timeout × worker count ×
    /// task count, in that nesting.
    ///
    /// # Errors
    /// Sizes that cannot run: no tasks, fewer than two workers, no runs.
    pub fn setups(&self) -> Result<Vec<Setup>, String> {
        if self.workers.iter().any(|&w| w < 2) {
            return Err("--workers must be at least 2 (one is cut off)".into());
        }
        let empty = self.tasks.is_empty() || self.workers.is_empty() || self.session_ms.is_empty();
        if self.runs == 0 || self.tasks.contains(&0) || self.backend.is_empty() || empty {
            return Err(
                "--runs, --tasks, --workers, --session-ms and --backend must not be empty or zero"
                    .into(),
            );
        }
        let mut setups = Vec::new();
        for &session_ms in &self.session_ms {
            for &workers in &self.workers {
                for &tasks in &self.tasks {
                    setups.push(Setup {
                        tasks,
                        workers,
                        session: Duration::from_millis(session_ms),
                        settle: Duration::from_millis(self.settle_ms),
                    });
                }
            }
        }
        Ok(setups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_comma_separated_and_defaults_are_the_documented_ones() {
        let o = Options::parse_from([
            "scale_bench",
            "--backend",
            "memory,etcd",
            "--tasks",
            "100,1000",
        ]);
        assert_eq!(o.backend, [BackendKind::Memory, BackendKind::Etcd]);
        assert_eq!(o.tasks, [100, 1000]);
        let setups = o.setups().unwrap();
        assert_eq!(setups.len(), 2);
        assert_eq!(setups[1].workers, 4);
        assert_eq!(setups[1].session, Duration::from_secs(2));
        assert_eq!(o.runs, 5);
        let o = Options::parse_from([
            "scale_bench",
            "--tasks",
            "10,20",
            "--workers",
            "4,8",
            "--session-ms",
            "1000,2000",
        ]);
        let setups = o.setups().unwrap();
        assert_eq!(setups.len(), 8);
        assert_eq!(
            (setups[7].tasks, setups[7].workers, setups[7].session),
            (20, 8, Duration::from_secs(2))
        );
    }

    #[test]
    fn sizes_that_cannot_run_are_refused() {
        let o = Options::parse_from(["scale_bench", "--workers", "1"]);
        assert!(o.setups().is_err());
        let o = Options::parse_from(["scale_bench", "--tasks", "0"]);
        assert!(o.setups().is_err());
        let o = Options::parse_from(["scale_bench", "--workers", "4,1"]);
        assert!(o.setups().is_err());
    }
}

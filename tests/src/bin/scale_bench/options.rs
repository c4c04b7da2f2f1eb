//! The scale benchmark's command line.

use std::time::Duration;

use clap::Parser;

use crate::phases::Setup;
use crate::servers::BackendKind;

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
    /// Workers in every cluster (each with its own client and session).
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Runs per backend and task count, each on a fresh cluster.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// The session timeout asked for, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub session_ms: u64,
    /// How long after a phase's goal its requests are still counted, in
    /// milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub settle_ms: u64,
}

impl Options {
    /// The setups to measure, one per task count.
    ///
    /// # Errors
    /// Sizes that cannot run: no tasks, fewer than two workers, no runs.
    pub fn setups(&self) -> Result<Vec<Setup>, String> {
        if self.workers < 2 {
            return Err("--workers must be at least 2 (one is cut off)".into());
        }
        if self.runs == 0 || self.tasks.contains(&0) || self.backend.is_empty() {
            return Err("--runs, --tasks and --backend must not be empty or zero".into());
        }
        Ok(self
            .tasks
            .iter()
            .map(|&tasks| Setup {
                tasks,
                workers: self.workers,
                session: Duration::from_millis(self.session_ms),
                settle: Duration::from_millis(self.settle_ms),
            })
            .collect())
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
    }

    #[test]
    fn sizes_that_cannot_run_are_refused() {
        let o = Options::parse_from(["scale_bench", "--workers", "1"]);
        assert!(o.setups().is_err());
        let o = Options::parse_from(["scale_bench", "--tasks", "0"]);
        assert!(o.setups().is_err());
    }
}

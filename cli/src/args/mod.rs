//! The command line: options shared by every subcommand, and the
//! subcommands, one file per family.
//!
//! - `connect`: how to reach the cluster;
//! - `cluster`: `tenure cluster …`;
//! - `tasks`: `tenure tasks …`;
//! - `views`: `status`, `workers ls`, `watch`;
//! - `worker`: `tenure worker`; `strategy`: its `--strategy`;
//! - `child`: the hidden `tenure __child`, parsed apart;
//! - `console`: `tenure console`;
//! - `manual`: `tenure completions`, `tenure man`.

mod child;
mod cluster;
mod connect;
mod console;
mod manual;
mod strategy;
mod tasks;
mod views;
mod worker;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use child::{ChildArgs, parse as parse_child};
pub use cluster::{ClusterCommand, ClusterName};
pub use connect::{Backend, CREDENTIAL_ENV, ConnectArgs};
pub use console::ConsoleArgs;
pub use manual::{CompletionsArgs, ManArgs, print_completions, print_man};
pub use tasks::{AddArgs, ShowArgs, TasksCommand, UpdateArgs};
pub use views::{ListArgs, WatchArgs, WorkerName, WorkersCommand};
pub use worker::{OnCrashLoop, OnSuccess, WorkerArgs};

const ABOUT: &str = "Operate a tenure cluster, and run any command as a failover-safe task";

const LONG_ABOUT: &str = "\
Operate a tenure cluster, and run any command as a failover-safe task.

A tenure cluster runs named tasks on workers so that every task runs on
exactly one live worker; when a worker dies, a survivor takes its tasks
over. `tenure worker` joins a cluster and runs a command for every task it
owns; the other subcommands add, pause, resume, remove and list tasks and
show who runs what.

Every subcommand takes the connection options; they also come from the
environment (TENURE_BACKEND, TENURE_CONNECT, TENURE_CLUSTER, TENURE_USER,
TENURE_PASSWORD).";

const EXAMPLES: &str = "\
Examples:
  tenure --connect 127.0.0.1:2181 --cluster demo tasks add report --payload 'daily'
  tenure --cluster demo worker --id host-a -- sh -c 'exec ./report.sh \"$TENURE_PAYLOAD\"'
  tenure --cluster demo status
  tenure --backend etcd --connect 127.0.0.1:2379 --cluster demo watch

Exit codes: 0 success, 1 failure, 2 invalid input or usage, 3 server
unreachable or connection lost, 4 credentials refused, 5 the task does not
exist or already exists, 6 the cluster does not exist (status, tasks ls,
workers ls and watch only read: they create nothing), 7 the cluster is in
use (cluster rm while workers are registered).";

/// `tenure`'s command line.
#[derive(Debug, Parser)]
#[command(
    name = "tenure",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// How to reach the cluster.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// How to log.
    #[command(flatten)]
    pub log: LogArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How to log.
#[derive(Debug, Args)]
#[command(next_help_heading = "Logging")]
pub struct LogArgs {
    /// Log line format on standard error
    #[arg(
        long,
        global = true,
        env = "TENURE_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,

    /// Log filter: a level (error, warn, info, debug, trace) or a
    /// RUST_LOG-style directive list [default: RUST_LOG, else info for
    /// `worker` and warn otherwise]
    #[arg(long, global = true, env = "TENURE_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
}

/// Log line formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add, change, show, pause, resume, re-arm, remove and list tasks
    #[command(subcommand)]
    Tasks(TasksCommand),

    /// List, drain and undrain the workers
    #[command(subcommand)]
    Workers(WorkersCommand),

    /// List the clusters, and remove one no worker is registered in
    #[command(subcommand)]
    Cluster(ClusterCommand),

    /// Show every task: state, owner, fencing token, target, time since claimed
    Status(ListArgs),

    /// Follow the cluster live: the status table and ownership events, until Ctrl-C
    Watch(WatchArgs),

    /// Serve the web console: tasks, workers, live ownership events and a timeline
    #[command(long_about = crate::console::LONG_ABOUT)]
    Console(ConsoleArgs),

    /// Join the cluster as a worker and run COMMAND for every task this worker owns
    #[command(long_about = crate::worker::LONG_ABOUT)]
    Worker(WorkerArgs),

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(long_about = manual::COMPLETIONS_ABOUT)]
    Completions(CompletionsArgs),

    /// Print the manual page (roff, for `man -l -` or a man directory)
    #[command(long_about = manual::MAN_ABOUT)]
    Man(ManArgs),
}

impl Command {
    /// Whether the subcommand talks to a cluster.
    pub fn connects(&self) -> bool {
        !matches!(self, Command::Completions(_) | Command::Man(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn memory_backend_is_refused_with_the_reason() {
        let err = Cli::try_parse_from(["tenure", "--backend", "memory", "status"]).unwrap_err();
        assert!(err.to_string().contains("one process"), "{err}");
    }

    #[test]
    fn passwords_do_not_show_in_debug_output() {
        let cli = Cli::try_parse_from(["tenure", "--password", "hunter2", "status"]).unwrap();
        assert!(!format!("{cli:?}").contains("hunter2"));
    }
}

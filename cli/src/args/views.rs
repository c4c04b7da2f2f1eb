//! The views: `status`, `workers …` and `watch`.

use std::time::Duration;

use clap::{Args, Subcommand};

use crate::duration;

/// `tenure workers …`.
#[derive(Debug, Subcommand)]
pub enum WorkersCommand {
    /// List the live workers (DRAINED: takes no tasks)
    #[command(visible_alias = "list")]
    Ls(ListArgs),

    /// Drain a worker: it takes no tasks and hands over those it runs, but
    /// keeps running
    #[command(long_about = DRAIN_ABOUT)]
    Drain(WorkerName),

    /// Undrain a worker: it may take tasks again
    Undrain(WorkerName),
}

const DRAIN_ABOUT: &str = "\
Drain a worker: it takes no tasks and hands over those it runs, but keeps
running.

The leader moves the worker's tasks to the other workers, each stopped on
the drained worker before it starts elsewhere. The mark is kept in the
cluster (the `drained` node under its root): it survives a leader change
and the worker's restart, until `tenure workers undrain ID`. A worker not
registered now may be drained ahead of its start. A task that no other
worker may run (pinned to it, or needing tags only it has) stops and waits
until the worker is undrained or an eligible worker joins. `workers ls` and
`status` show drained workers. Draining twice changes nothing.";

/// The worker a command names.
#[derive(Debug, Args)]
pub struct WorkerName {
    /// The worker's id (as given to `tenure worker --id`)
    #[arg(value_name = "ID")]
    pub id: String,
}

/// A listing.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (schema in the tenure-cli README) instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `tenure watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Print one JSON object per line: status snapshots and events
    #[arg(long)]
    pub json: bool,

    /// Stop after this many ownership events
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,

    /// Stop after this long
    #[arg(long = "for", value_name = "DURATION", value_parser = duration::parse)]
    pub duration: Option<Duration>,

    /// How often to re-read the whole status (events arrive at once)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration::parse)]
    pub interval: Duration,
}

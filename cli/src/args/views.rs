//! The read-only views: `status`, `workers ls` and `watch`.

use std::time::Duration;

use clap::{Args, Subcommand};

use crate::duration;

/// `tenure workers …`.
#[derive(Debug, Subcommand)]
pub enum WorkersCommand {
    /// List the live workers
    #[command(visible_alias = "list")]
    Ls(ListArgs),
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

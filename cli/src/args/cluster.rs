//! `tenure cluster …`: the clusters of the servers.

use clap::{Args, Subcommand};

use super::ListArgs;

/// `tenure cluster …`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// List the clusters (the children of /tenure), with their workers and
    /// tasks; writes nothing
    #[command(visible_alias = "list")]
    Ls(ListArgs),

    /// Remove a cluster no worker is registered in: its tasks, fencing
    /// counters and every other node under /tenure/NAME
    #[command(long_about = RM_ABOUT)]
    Rm(ClusterName),
}

const RM_ABOUT: &str = "\
Remove a cluster no worker is registered in: its tasks, fencing counters
(`epochs`, stale ones included), targets, drain marks and every other node
under /tenure/NAME. Nothing outside it is touched.

Refused (exit code 7, naming the workers) while any worker is registered in
the cluster, or a leader or task owner's session is still alive there: stop
its workers first. It asks nothing: it removes or refuses. A worker that
starts while the removal runs makes the cluster's folders again and
registers; the removal then refuses, and what it had removed (tasks first,
fencing counters last) stays removed. A cluster added again under the same
name starts its fencing tokens at 1: reset whatever checks them outside.";

/// The cluster a command names.
#[derive(Debug, Args)]
pub struct ClusterName {
    /// The cluster's name (as given to --cluster)
    #[arg(value_name = "NAME")]
    pub name: String,
}

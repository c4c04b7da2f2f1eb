//! `tenure tasks …`.

use clap::{Args, Subcommand};

use super::views::ListArgs;

/// `tenure tasks …`.
#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Add a task; a worker starts it as soon as the leader places it
    Add(AddArgs),
    /// Remove a task; its command is stopped
    #[command(visible_alias = "remove")]
    Rm(NameArg),
    /// Pause a task: its command is stopped and runs nowhere until resumed
    Pause(NameArg),
    /// Resume a paused task
    Resume(NameArg),
    /// Change a task's payload, weight, tags or pinning (re-arms a done
    /// task; its command restarts with the new payload)
    Update(UpdateArgs),
    /// Show one task: state, owner, token, weight, tags, pinning, payload
    Show(ShowArgs),
    /// Re-arm a done task (its command exited with 0): it runs again
    Rearm(NameArg),
    /// List the tasks
    #[command(visible_alias = "list")]
    Ls(ListArgs),
}

/// A task's name.
#[derive(Debug, Args)]
pub struct NameArg {
    /// The task's name
    pub name: String,
}

/// `tenure tasks add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The task's name: 1 to 255 bytes, no `/`, no control characters
    pub name: String,

    /// The payload the command gets in TENURE_PAYLOAD: text, or @FILE to read
    /// a file (@- reads standard input, @@text is the text "@text")
    #[arg(long, value_name = "TEXT|@FILE")]
    pub payload: Option<String>,

    /// Relative weight: strategies give heavier tasks more room
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub weight: u32,

    /// A tag a worker must have to run the task (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Run the task on this worker only
    #[arg(long, value_name = "WORKER")]
    pub pin: Option<String>,
}

/// `tenure tasks update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The task's name
    pub name: String,

    /// The new payload: text, or @FILE (@- reads standard input, @@text is
    /// the text "@text")
    #[arg(long, value_name = "TEXT|@FILE")]
    pub payload: Option<String>,

    /// The new weight
    #[arg(long, value_name = "N")]
    pub weight: Option<u32>,

    /// The tags a worker must have (repeatable; replaces all the tags)
    #[arg(long = "tag", value_name = "TAG", conflicts_with = "no_tags")]
    pub tags: Vec<String>,

    /// Remove every tag
    #[arg(long)]
    pub no_tags: bool,

    /// Run the task on this worker only
    #[arg(long, value_name = "WORKER", conflicts_with = "unpin")]
    pub pin: Option<String>,

    /// Let the task run on any worker
    #[arg(long)]
    pub unpin: bool,
}

/// `tenure tasks show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The task's name
    pub name: String,

    /// Print JSON (a `tasks` document of this one task) instead of text
    #[arg(long)]
    pub json: bool,
}

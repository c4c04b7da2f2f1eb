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

//! The operating subcommands: `tasks …`, `workers …`, `status`,
//! `cluster …`.

use serde::Serialize;
use tenure_core::{Admin, CoordinationStore, Error, Layout, Path, TaskId, TaskSpec, WorkerId};

use crate::args::{
    AddArgs, ClusterCommand, ClusterName, ListArgs, ShowArgs, TasksCommand, WorkerName,
    WorkersCommand,
};
use crate::edit::{Update, read_payload};
use crate::error::{CliError, CliResult};
use crate::output::schema::{SCHEMA, StatusDoc, TasksDoc, WorkersDoc};
use crate::output::{emit, emit_json, table};

/// A `tenure tasks …` request, checked before connecting.
#[derive(Debug)]
pub enum TaskOp {
    /// Add this task.
    Add(TaskSpec),
    /// Remove a task.
    Remove(TaskId),
    /// Pause a task.
    Pause(TaskId),
    /// Resume a task.
    Resume(TaskId),
    /// Re-arm a done task.
    Rearm(TaskId),
    /// Change a task.
    Update(Update),
    /// Show one task.
    Show(ShowArgs),
    /// List the tasks, as JSON or not.
    List(bool),
}

impl TaskOp {
    /// Checks a `tenure tasks …` command line: names, weight, tags,
    /// payload.
    ///
    /// # Errors
    /// [`CliError::Invalid`] naming what is wrong.
    pub fn check(command: TasksCommand) -> CliResult<Self> {
        Ok(match command {
            TasksCommand::Add(args) => TaskOp::Add(spec(&args)?),
            TasksCommand::Rm(arg) => TaskOp::Remove(TaskId::new(&arg.name)?),
            TasksCommand::Pause(arg) => TaskOp::Pause(TaskId::new(&arg.name)?),
            TasksCommand::Resume(arg) => TaskOp::Resume(TaskId::new(&arg.name)?),
            TasksCommand::Rearm(arg) => TaskOp::Rearm(TaskId::new(&arg.name)?),
            TasksCommand::Update(args) => TaskOp::Update(Update::check(&args)?),
            TasksCommand::Show(args) => {
                TaskId::new(&args.name)?;
                TaskOp::Show(args)
            }
            TasksCommand::Ls(ListArgs { json }) => TaskOp::List(json),
        })
    }
}

impl TaskOp {
    /// Whether the request changes the cluster (a listing only reads).
    pub fn writes(&self) -> bool {
        !matches!(self, TaskOp::List(_) | TaskOp::Show(_))
    }
}

/// Runs a `tenure tasks …` request.
///
/// # Errors
/// Unknown or duplicate tasks, payloads over the backend's limit, store
/// errors.
pub async fn tasks(admin: &Admin, cluster: &str, op: TaskOp) -> CliResult {
    match op {
        TaskOp::List(json) => {
            let tasks = admin.tasks().await?;
            if json {
                emit_json(&TasksDoc::new(cluster, &tasks))
            } else {
                emit(&table::tasks(&tasks))
            }
        }
        TaskOp::Show(args) => crate::edit::show(admin, cluster, &args).await,
        change => emit(&format!("{}\n", change_task(admin, cluster, change).await?)),
    }
}

/// Makes the change a checked `tenure tasks …` request asks for (the web
/// console's operations go through here too), and says what was done.
///
/// # Errors
/// [`CliError::Conflict`] for an unknown or duplicate task; payloads over
/// the backend's limit; store errors. A listing is refused as
/// [`CliError::Invalid`]: it changes nothing.
pub async fn change_task(admin: &Admin, cluster: &str, op: TaskOp) -> CliResult<String> {
    Ok(match op {
        TaskOp::Add(spec) => {
            let name = spec.id.clone();
            admin.add_task(spec).await.map_err(|e| match e {
                Error::AlreadyExists { .. } => {
                    CliError::Conflict(format!("task {name} already exists in cluster {cluster}"))
                }
                other => other.into(),
            })?;
            format!("added task {name}")
        }
        TaskOp::Remove(id) => {
            admin.remove_task(&id).await?;
            format!("removed task {id}")
        }
        TaskOp::Pause(id) => {
            admin.pause_task(&id).await?;
            format!("paused task {id}")
        }
        TaskOp::Resume(id) => {
            admin.resume_task(&id).await?;
            format!("resumed task {id}")
        }
        TaskOp::Rearm(id) => {
            admin.rearm_task(&id).await?;
            format!("re-armed task {id}")
        }
        TaskOp::Update(update) => update.apply(admin).await?,
        TaskOp::List(_) | TaskOp::Show(_) => {
            return Err(CliError::Invalid("a listing changes nothing".into()));
        }
    })
}

/// Runs `tenure workers …`.
///
/// # Errors
/// [`CliError::Invalid`] for a bad worker id; store errors.
pub async fn workers(admin: &Admin, cluster: &str, command: WorkersCommand) -> CliResult {
    let json = match command {
        WorkersCommand::Ls(ListArgs { json }) => json,
        WorkersCommand::Drain(WorkerName { id }) => {
            admin.drain_worker(&WorkerId::new(&id)?).await?;
            return emit(&format!("drained worker {id} in cluster {cluster}\n"));
        }
        WorkersCommand::Undrain(WorkerName { id }) => {
            admin.undrain_worker(&WorkerId::new(&id)?).await?;
            return emit(&format!("undrained worker {id} in cluster {cluster}\n"));
        }
    };
    let status = admin.status().await?;
    if json {
        emit_json(&WorkersDoc::new(cluster, &status))
    } else {
        emit(&table::workers(&status))
    }
}

/// Runs `tenure status`.
///
/// # Errors
/// Store errors.
pub async fn status(admin: &Admin, cluster: &str, args: ListArgs) -> CliResult {
    let status = admin.status().await?;
    if args.json {
        emit_json(&StatusDoc::new(cluster, &status))
    } else {
        emit(&table::status(cluster, &status))
    }
}

/// `tenure cluster ls --json`.
#[derive(Debug, Serialize)]
struct ClustersDoc {
    /// [`SCHEMA`].
    schema: u32,
    /// Every cluster, by name.
    clusters: Vec<ClusterJson>,
}

/// One cluster of `tenure cluster ls --json`.
#[derive(Debug, Serialize)]
struct ClusterJson {
    /// Its name.
    cluster: String,
    /// How many workers are registered in it.
    workers: usize,
    /// How many tasks it has.
    tasks: usize,
}

/// Runs `tenure cluster …`: only reads for `ls`, which works with
/// read-only credentials.
///
/// # Errors
/// [`CliError::InUse`] when `rm` finds workers registered;
/// [`CliError::NoCluster`] when it names no cluster; store errors.
pub async fn cluster(store: &dyn CoordinationStore, command: ClusterCommand) -> CliResult {
    let json = match command {
        ClusterCommand::Ls(ListArgs { json }) => json,
        ClusterCommand::Rm(ClusterName { name }) => {
            Admin::remove_cluster(store, &name).await?;
            return emit(&format!("removed cluster {name}\n"));
        }
    };
    let mut clusters = Vec::new();
    for name in Admin::clusters(store).await? {
        let layout = Layout::new(&name)?;
        clusters.push(ClusterJson {
            workers: count(store, layout.workers()).await?,
            tasks: count(store, layout.tasks()).await?,
            cluster: name,
        });
    }
    if json {
        return emit_json(&ClustersDoc {
            schema: SCHEMA,
            clusters,
        });
    }
    let rows = clusters
        .into_iter()
        .map(|c| vec![c.cluster, c.workers.to_string(), c.tasks.to_string()])
        .collect();
    emit(&table::render(&["CLUSTER", "WORKERS", "TASKS"], rows))
}

/// How many children `path` has (none if it does not exist).
async fn count(store: &dyn CoordinationStore, path: &Path) -> CliResult<usize> {
    match store.children(path).await {
        Ok(names) => Ok(names.len()),
        Err(e) if e.is_not_found() => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// The task `tenure tasks add` describes, checked before anything is
/// written.
///
/// # Errors
/// [`CliError::Invalid`] naming the bad name, weight, tag or worker, or
/// the payload file that cannot be read.
pub fn spec(args: &AddArgs) -> CliResult<TaskSpec> {
    let mut spec = TaskSpec::new(&args.name)?.weight(args.weight)?;
    for tag in &args.tags {
        spec = spec.tag(tag.clone())?;
    }
    if let Some(worker) = &args.pin {
        spec = spec.pinned(worker)?;
    }
    if let Some(payload) = &args.payload {
        spec = spec.payload(read_payload(payload)?);
    }
    Ok(spec)
}

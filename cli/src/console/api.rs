//! The JSON API's reads: the documents of `tenure status --json`,
//! `tasks ls --json` and `workers ls --json` (same schema), a page of
//! tasks, one task, the events kept, and the console itself.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::hub::Entry;
use super::query::TaskQuery;
use super::snapshot::Snapshot;
use super::state::{Console, Shared};
use crate::output::schema::{SCHEMA, StatusDoc, TaskJson, WorkersDoc};

/// The latest status, or 503 while the servers cannot be read (the API
/// never answers with an old status).
async fn fresh(c: &Console) -> Result<std::sync::Arc<Snapshot>, ApiError> {
    let view = c.snapshots.view().await;
    match (view.problem, view.snapshot) {
        (None, Some(s)) => Ok(s),
        (Some(p), _) => Err(ApiError::Unavailable(p.detail)),
        (None, None) => Err(ApiError::Unavailable("no status read yet".into())),
    }
}

/// `GET /api/status`: as `tenure status --json`.
pub async fn status(State(c): State<Shared>) -> Result<Json<StatusDoc>, ApiError> {
    let s = fresh(&c).await?;
    let mut doc = StatusDoc::new(&c.cluster, &s.status);
    doc.at_ms = s.read_ms;
    Ok(Json(doc))
}

/// `GET /api/workers`: as `tenure workers ls --json`.
pub async fn workers(State(c): State<Shared>) -> Result<Json<WorkersDoc>, ApiError> {
    let s = fresh(&c).await?;
    Ok(Json(WorkersDoc::new(&c.cluster, &s.status)))
}

/// `GET /api/tasks`: one page of `tenure tasks ls --json`, filtered and
/// sorted.
#[derive(Debug, Serialize)]
pub struct TasksPageDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: String,
    /// When the status was read, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Tasks in the cluster.
    pub total: usize,
    /// Tasks the filter kept.
    pub matched: usize,
    /// Rows skipped.
    pub offset: usize,
    /// Rows at most.
    pub limit: usize,
    /// This page's tasks.
    pub tasks: Vec<TaskJson>,
}

/// `GET /api/tasks`.
pub async fn tasks(
    State(c): State<Shared>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> Result<Json<TasksPageDoc>, ApiError> {
    let Query(q) = query?;
    let filter = q.check()?;
    let s = fresh(&c).await?;
    let page = filter.page(&s.status.tasks);
    Ok(Json(TasksPageDoc {
        schema: SCHEMA,
        cluster: c.cluster.clone(),
        at_ms: s.read_ms,
        total: page.total,
        matched: page.matched,
        offset: filter.offset,
        limit: filter.limit,
        tasks: page.rows.into_iter().map(TaskJson::from).collect(),
    }))
}

/// `GET /api/tasks/{name}`.
#[derive(Debug, Serialize)]
pub struct TaskDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: String,
    /// When the status was read.
    pub at_ms: u64,
    /// The task.
    pub task: TaskJson,
}

/// `GET /api/tasks/{name}`.
pub async fn task(
    State(c): State<Shared>,
    Path(name): Path<String>,
) -> Result<Json<TaskDoc>, ApiError> {
    let id = tenure_core::TaskId::new(&name)?;
    let s = fresh(&c).await?;
    let task = s
        .status
        .tasks
        .iter()
        .find(|t| t.task == id)
        .ok_or_else(|| ApiError::NotFound(format!("no task {id} in cluster {}", c.cluster)))?;
    Ok(Json(TaskDoc {
        schema: SCHEMA,
        cluster: c.cluster.clone(),
        at_ms: s.read_ms,
        task: TaskJson::from(task),
    }))
}

/// The query of `GET /api/events`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventsQuery {
    /// Only entries after this `seq`.
    pub after: Option<u64>,
    /// At most this many (the newest), 1 to 10,000; default 1000.
    pub limit: Option<usize>,
}

/// `GET /api/events`.
#[derive(Debug, Serialize)]
pub struct EventsDoc<'a> {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: &'a str,
    /// The newest entry's `seq` (0 if none): pass it as `after` to get only
    /// newer ones.
    pub last_seq: u64,
    /// Events (and gaps), oldest first.
    pub events: Vec<&'a Entry>,
}

/// `GET /api/events`.
pub async fn events(
    State(c): State<Shared>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::Invalid(format!(
            "limit must be a whole number from 1 to 10000, not {limit}"
        )));
    }
    let last_seq = c.hub.last_seq();
    let entries = c.hub.after(q.after, limit);
    let doc = EventsDoc {
        schema: SCHEMA,
        cluster: &c.cluster,
        last_seq,
        events: entries.iter().map(|e| &**e).collect(),
    };
    serde_json::to_value(doc)
        .map(Json)
        .map_err(|e| ApiError::Failed(format!("cannot encode JSON: {e}")))
}

/// `GET /api/console`: what this console shows and whether it can read
/// the cluster now.
#[derive(Debug, Serialize)]
pub struct ConsoleDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: String,
    /// `zookeeper` or `etcd`.
    pub backend: &'static str,
    /// The servers.
    pub servers: String,
    /// Whether operations are allowed (with a token).
    pub writes: bool,
    /// Whether the last status read succeeded.
    pub connected: bool,
    /// Why not, if not.
    pub problem: Option<String>,
    /// Since when, in milliseconds since the Unix epoch.
    pub problem_since_ms: Option<u64>,
    /// When the last successful status read was.
    pub read_ms: Option<u64>,
    /// The version of `tenure`.
    pub version: &'static str,
}

/// `GET /api/console`.
pub async fn console(State(c): State<Shared>) -> Json<ConsoleDoc> {
    let view = c.snapshots.view().await;
    Json(ConsoleDoc {
        schema: SCHEMA,
        cluster: c.cluster.clone(),
        backend: c.backend,
        servers: c.servers.clone(),
        writes: c.auth.writable(),
        connected: view.problem.is_none() && view.snapshot.is_some(),
        problem_since_ms: view.problem.as_ref().map(|p| p.since_ms),
        problem: view.problem.map(|p| p.detail),
        read_ms: view.snapshot.map(|s| s.read_ms),
        version: env!("CARGO_PKG_VERSION"),
    })
}

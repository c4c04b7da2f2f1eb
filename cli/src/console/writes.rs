//! The operations: add, update, pause, resume and remove a task. Each
//! needs writes enabled and a token ([`super::auth`]); its input is checked
//! by the same code as `tenure tasks …` (names, weight, tags, pin, then the
//! payload limit in the admin API) before anything is written; each is
//! logged with the token's name and the remote address.
//!
//! Draining a worker is not offered: the store has no place to mark a
//! worker as draining that the leader would read, and moving its tasks by
//! pinning them elsewhere would change the tasks themselves.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use tenure_core::{TaskId, TaskSpec, WorkerId};
use tracing::{info, warn};

use super::auth::Operator;
use super::error::ApiError;
use super::state::{Console, Shared};
use crate::args::AddArgs;
use crate::error::CliResult;
use crate::ops::{self, TaskOp};
use crate::output::schema::SCHEMA;

/// A weight as JSON gives it: a number, or text as a form sends it;
/// anything else is refused by [`Weight::value`] with the reason.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Weight(serde_json::Value);

impl Weight {
    /// The weight as `--weight` takes it.
    fn value(&self) -> Result<u32, ApiError> {
        let parsed = match &self.0 {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            serde_json::Value::String(t) => t.trim().parse::<u32>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| {
            ApiError::Invalid(format!(
                "invalid weight {}: a whole number from 1 to {}",
                self.0,
                u32::MAX
            ))
        })
    }
}

/// `POST /api/tasks`: what `tenure tasks add` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    /// The task's name.
    pub name: String,
    /// The payload, as text (never read from a file).
    pub payload: Option<String>,
    /// The weight (default 1).
    pub weight: Option<Weight>,
    /// Required tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The only worker allowed to run it.
    pub pin: Option<String>,
}

/// `PATCH /api/tasks/{name}`: the fields to change; the others stay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// The new payload, as text.
    pub payload: Option<String>,
    /// The new weight.
    pub weight: Option<Weight>,
    /// The new tags (all of them; `[]` removes every tag).
    pub tags: Option<Vec<String>>,
    /// The worker to pin it to; `null` unpins.
    #[serde(default, deserialize_with = "present")]
    pub pin: Option<Option<String>>,
}

/// Tells `"pin": null` (unpin) from no `pin` at all (keep).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// What an operation did.
#[derive(Debug, Serialize)]
pub struct OpDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// `add`, `update`, `pause`, `resume` or `remove`.
    pub op: &'static str,
    /// The task.
    pub task: String,
    /// What was done, as the CLI says it.
    pub message: String,
    /// The operator's token name.
    pub by: String,
}

/// Runs `op` on `task` for `who`, logging the outcome.
async fn run(
    c: &Console,
    who: &Operator,
    op: &'static str,
    task: &str,
    work: impl Future<Output = Result<String, ApiError>>,
) -> Result<Json<OpDoc>, ApiError> {
    let result = work.await;
    c.snapshots.invalidate();
    match &result {
        Ok(message) => info!(
            operator = %who.name, remote = %who.remote, op, task, "console operation: {message}"
        ),
        Err(e) => warn!(
            operator = %who.name, remote = %who.remote, op, task, error = e.message(),
            "console operation failed"
        ),
    }
    result.map(|message| {
        Json(OpDoc {
            schema: SCHEMA,
            op,
            task: task.to_owned(),
            message,
            by: who.name.clone(),
        })
    })
}

/// Checks the token, then input, as the CLI would.
fn refused_input(who: &Operator, op: &str, task: &str, e: ApiError) -> ApiError {
    warn!(operator = %who.name, remote = %who.remote, op, task, error = e.message(), "console operation refused");
    e
}

/// The CLI's check of a simple task op; its changes go through
/// [`ops::change_task`], as `tenure tasks …` does.
async fn simple(
    c: &Console,
    who: &Operator,
    op: &'static str,
    name: &str,
    make: fn(TaskId) -> TaskOp,
) -> Result<Json<OpDoc>, ApiError> {
    let id = TaskId::new(name).map_err(|e| refused_input(who, op, name, e.into()))?;
    run(c, who, op, name, async {
        ops::change_task(&c.admin, &c.cluster, make(id))
            .await
            .map_err(|e| not_found_if_unknown(e, op))
    })
    .await
}

/// The CLI says "conflict" for both an unknown and a duplicate task; only
/// `add` can meet a duplicate.
fn not_found_if_unknown(e: crate::error::CliError, op: &str) -> ApiError {
    match e {
        crate::error::CliError::Conflict(m) if op != "add" => ApiError::NotFound(m),
        other => other.into(),
    }
}

/// `POST /api/tasks/{name}/pause`.
pub async fn pause(
    State(c): State<Shared>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<OpDoc>, ApiError> {
    let who = c.auth.check(&headers, remote)?;
    simple(&c, &who, "pause", &name, TaskOp::Pause).await
}

/// `POST /api/tasks/{name}/resume`.
pub async fn resume(
    State(c): State<Shared>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<OpDoc>, ApiError> {
    let who = c.auth.check(&headers, remote)?;
    simple(&c, &who, "resume", &name, TaskOp::Resume).await
}

/// `DELETE /api/tasks/{name}`.
pub async fn remove(
    State(c): State<Shared>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<OpDoc>, ApiError> {
    let who = c.auth.check(&headers, remote)?;
    simple(&c, &who, "remove", &name, TaskOp::Remove).await
}

/// `POST /api/tasks`.
pub async fn add(
    State(c): State<Shared>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<AddBody>, JsonRejection>,
) -> Result<(StatusCode, Json<OpDoc>), ApiError> {
    let who = c.auth.check(&headers, remote)?;
    let Json(body) = body.map_err(|e| refused_input(&who, "add", "", e.into()))?;
    let spec = add_spec(&body).map_err(|e| refused_input(&who, "add", &body.name, e))?;
    let done = run(&c, &who, "add", &body.name, async {
        ops::change_task(&c.admin, &c.cluster, TaskOp::Add(spec))
            .await
            .map_err(|e| not_found_if_unknown(e, "add"))
    })
    .await?;
    Ok((StatusCode::CREATED, done))
}

/// The task `body` describes, checked by the CLI's own `tasks add` check.
fn add_spec(body: &AddBody) -> Result<TaskSpec, ApiError> {
    let weight = match &body.weight {
        Some(w) => w.value()?,
        None => 1,
    };
    let args = AddArgs {
        name: body.name.clone(),
        payload: None,
        weight,
        tags: body.tags.clone(),
        pin: body.pin.clone(),
    };
    let spec: CliResult<TaskSpec> = ops::spec(&args);
    let spec = spec?;
    Ok(match &body.payload {
        Some(p) => spec.payload(p.as_bytes().to_vec()),
        None => spec,
    })
}

/// `PATCH /api/tasks/{name}`.
pub async fn update(
    State(c): State<Shared>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Result<Json<UpdateBody>, JsonRejection>,
) -> Result<Json<OpDoc>, ApiError> {
    let who = c.auth.check(&headers, remote)?;
    let checked = body
        .map_err(ApiError::from)
        .and_then(|Json(body)| Change::check(&name, body));
    let (id, change) = checked.map_err(|e| refused_input(&who, "update", &name, e))?;
    run(&c, &who, "update", &name, async {
        c.admin
            .edit_task(&id, |spec| Ok(change.apply(spec)))
            .await
            .map_err(ApiError::from)?;
        Ok(format!("updated task {id}"))
    })
    .await
}

/// A checked update.
struct Change {
    payload: Option<Vec<u8>>,
    weight: Option<std::num::NonZeroU32>,
    tags: Option<std::collections::BTreeSet<String>>,
    pin: Option<Option<WorkerId>>,
}

impl Change {
    /// Checks every field with the same rules as `tasks add`.
    fn check(name: &str, body: UpdateBody) -> Result<(TaskId, Change), ApiError> {
        let mut scratch = TaskSpec::new(name)?;
        let id = scratch.id.clone();
        if body.payload.is_none()
            && body.weight.is_none()
            && body.tags.is_none()
            && body.pin.is_none()
        {
            return Err(ApiError::Invalid(
                "nothing to change: give payload, weight, tags or pin".into(),
            ));
        }
        let weight = match &body.weight {
            Some(w) => Some(scratch.clone().weight(w.value()?)?.weight),
            None => None,
        };
        let tags = match body.tags {
            Some(tags) => {
                for tag in tags {
                    scratch = scratch.tag(tag)?;
                }
                Some(scratch.tags)
            }
            None => None,
        };
        let pin = match body.pin {
            Some(Some(worker)) => Some(Some(WorkerId::new(worker)?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok((
            id,
            Change {
                payload: body.payload.map(String::into_bytes),
                weight,
                tags,
                pin,
            },
        ))
    }

    fn apply(&self, mut spec: TaskSpec) -> TaskSpec {
        if let Some(p) = &self.payload {
            spec.payload = p.clone();
        }
        if let Some(w) = self.weight {
            spec.weight = w;
        }
        if let Some(t) = &self.tags {
            spec.tags = t.clone();
        }
        if let Some(p) = &self.pin {
            spec.pinned = p.clone();
        }
        spec
    }
}

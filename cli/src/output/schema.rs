//! The JSON that `--json` prints: schema version 1, documented in the
//! crate's README. Fields are only ever added; a field is never renamed,
//! removed or given another type without raising [`SCHEMA`].

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tenure_core::{ClusterStatus, TaskState, TaskStatus, WorkerStatus};
use tenure_core::{OwnershipChange, OwnershipEvent};

/// The schema version every JSON document carries in its `schema` field.
pub const SCHEMA: u32 = 1;

/// One task.
#[derive(Debug, Serialize)]
pub struct TaskJson {
    /// The task's name.
    pub task: String,
    /// `running`, `waiting` or `paused`.
    pub state: &'static str,
    /// The worker that owns it.
    pub owner: Option<String>,
    /// The fencing token of the owner's claim.
    pub token: Option<u64>,
    /// When the owner claimed it, in milliseconds since the Unix epoch.
    pub since_ms: Option<u64>,
    /// Where the leader wants it.
    pub target: Option<String>,
    /// Its weight.
    pub weight: u32,
    /// The tags a worker needs to run it.
    pub tags: Vec<String>,
    /// The only worker allowed to run it.
    pub pinned: Option<String>,
    /// The payload's size in bytes.
    pub payload_bytes: usize,
}

impl From<&TaskStatus> for TaskJson {
    fn from(t: &TaskStatus) -> Self {
        TaskJson {
            task: t.task.to_string(),
            state: state_name(t.state),
            owner: t.owner.as_ref().map(|o| o.worker.to_string()),
            token: t.owner.as_ref().map(|o| o.token),
            since_ms: t.owner.as_ref().map(|o| o.since_ms),
            target: t.target.as_ref().map(ToString::to_string),
            weight: t.weight.get(),
            tags: t.tags.iter().cloned().collect(),
            pinned: t.pinned.as_ref().map(ToString::to_string),
            payload_bytes: t.payload_bytes,
        }
    }
}

/// A task state's name.
pub fn state_name(state: TaskState) -> &'static str {
    match state {
        TaskState::Running => "running",
        TaskState::Waiting => "waiting",
        TaskState::Paused => "paused",
        TaskState::Done => "done",
    }
}

/// One live worker.
#[derive(Debug, Serialize)]
pub struct WorkerJson {
    /// The worker's name.
    pub worker: String,
    /// Its capacity.
    pub capacity: u32,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its session, in hexadecimal (`0x…`): session ids exceed what
    /// JSON numbers carry exactly.
    pub session: String,
    /// When it registered, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// How many tasks it owns.
    pub owned: usize,
    /// Whether it is the elected leader.
    pub leader: bool,
    /// Whether it is drained (takes no tasks).
    pub drained: bool,
}

impl WorkerJson {
    fn new(w: &WorkerStatus, leader: Option<&str>) -> Self {
        WorkerJson {
            worker: w.worker.to_string(),
            capacity: w.capacity.get(),
            tags: w.tags.iter().cloned().collect(),
            session: format!("{:#x}", w.session),
            since_ms: w.since_ms,
            owned: w.owned,
            leader: leader == Some(w.worker.as_str()),
            drained: w.drained,
        }
    }
}

/// The leader.
#[derive(Debug, Serialize)]
pub struct LeaderJson {
    /// The leading worker.
    pub worker: String,
    /// Its term.
    pub term: u64,
}

/// `tenure tasks ls --json`.
#[derive(Debug, Serialize)]
pub struct TasksDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: String,
    /// Every task, by name.
    pub tasks: Vec<TaskJson>,
}

/// `tenure workers ls --json`.
#[derive(Debug, Serialize)]
pub struct WorkersDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The cluster's name.
    pub cluster: String,
    /// Every live worker, by name.
    pub workers: Vec<WorkerJson>,
}

/// `tenure status --json`, and the snapshots of `tenure watch --json`.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// `status`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The cluster's name.
    pub cluster: String,
    /// When the status was read, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The leader, if one is elected.
    pub leader: Option<LeaderJson>,
    /// Every live worker.
    pub workers: Vec<WorkerJson>,
    /// Every task.
    pub tasks: Vec<TaskJson>,
}

impl StatusDoc {
    /// The document for `status` of `cluster`.
    pub fn new(cluster: &str, status: &ClusterStatus) -> Self {
        let leader = status.leader.as_ref().map(|l| l.worker.as_str());
        StatusDoc {
            schema: SCHEMA,
            kind: "status",
            cluster: cluster.to_owned(),
            at_ms: millis(SystemTime::now()),
            leader: status.leader.as_ref().map(|l| LeaderJson {
                worker: l.worker.to_string(),
                term: l.term,
            }),
            workers: status
                .workers
                .iter()
                .map(|w| WorkerJson::new(w, leader))
                .collect(),
            tasks: status.tasks.iter().map(TaskJson::from).collect(),
        }
    }
}

impl TasksDoc {
    /// The document for the tasks of `cluster`.
    pub fn new(cluster: &str, tasks: &[TaskStatus]) -> Self {
        TasksDoc {
            schema: SCHEMA,
            cluster: cluster.to_owned(),
            tasks: tasks.iter().map(TaskJson::from).collect(),
        }
    }
}

impl WorkersDoc {
    /// The document for the workers of `cluster`.
    pub fn new(cluster: &str, status: &ClusterStatus) -> Self {
        let leader = status.leader.as_ref().map(|l| l.worker.as_str());
        WorkersDoc {
            schema: SCHEMA,
            cluster: cluster.to_owned(),
            workers: status
                .workers
                .iter()
                .map(|w| WorkerJson::new(w, leader))
                .collect(),
        }
    }
}

/// An ownership event of `tenure watch --json`.
#[derive(Debug, Serialize)]
pub struct EventDoc {
    /// [`SCHEMA`].
    pub schema: u32,
    /// `event`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When the watcher saw it, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The task.
    pub task: String,
    /// The worker concerned: the new owner, or the one that let go.
    pub worker: String,
    /// The fencing token of the claim concerned.
    pub token: u64,
    /// `claimed`, `released`, `lost`, `taken-over`, `moved` or `renewed`.
    pub change: &'static str,
    /// The previous owner, for `taken-over` and `moved`.
    pub from: Option<String>,
}

impl From<&OwnershipEvent> for EventDoc {
    fn from(e: &OwnershipEvent) -> Self {
        let (change, from) = change_name(&e.change);
        EventDoc {
            schema: SCHEMA,
            kind: "event",
            at_ms: millis(e.at),
            task: e.task.to_string(),
            worker: e.worker.to_string(),
            token: e.token,
            change,
            from: from.map(ToString::to_string),
        }
    }
}

/// An ownership change's name, and the previous owner it names.
pub fn change_name(change: &OwnershipChange) -> (&'static str, Option<&str>) {
    match change {
        OwnershipChange::Claimed => ("claimed", None),
        OwnershipChange::Released => ("released", None),
        OwnershipChange::Lost => ("lost", None),
        OwnershipChange::TakenOver { from } => ("taken-over", Some(from.as_str())),
        OwnershipChange::Moved { from } => ("moved", Some(from.as_str())),
        OwnershipChange::Renewed => ("renewed", None),
    }
}

/// Milliseconds since the Unix epoch.
pub fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

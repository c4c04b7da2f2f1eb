//! Events: what a worker did (for logs, tests and demos) and what happened
//! to ownership in a cluster (for operators).

use std::time::SystemTime;

use crate::ids::{TaskId, WorkerId};
use crate::store::Path;

/// Why a handler was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The task moved to another worker (or was paused or removed).
    Unassigned,
    /// The connection was lost or the session deadline came near.
    SessionAtRisk,
    /// The session ended.
    SessionLost,
    /// The worker is shutting down.
    Shutdown,
    /// The task's payload changed: the handler restarts with the new one.
    Updated,
    /// The handler ended by itself.
    Exited,
}

/// Something a worker did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerEventKind {
    /// A handler started with this fencing token.
    Started {
        /// The task.
        task: TaskId,
        /// Its fencing token.
        token: u64,
    },
    /// This worker claimed a task: its ownership record is created with
    /// this fencing token (a handler starts on it unless the task is
    /// paused or the session is at risk). Told for claims only, not for
    /// re-confirmations of a claim held.
    Claimed {
        /// The task.
        task: TaskId,
        /// The fencing token of the claim.
        token: u64,
        /// The other worker whose ownership record of the task this worker
        /// found and waited for before claiming (a handoff to this worker
        /// seen from its side); `None` when the claim found no record.
        waited_for: Option<WorkerId>,
    },
    /// A handler stopped.
    Stopped {
        /// The task.
        task: TaskId,
        /// The token it ran with.
        token: u64,
        /// Why.
        reason: StopReason,
    },
    /// This worker became the leader.
    Leading {
        /// The leader term.
        term: u64,
    },
    /// This worker stopped leading the cluster: its session was lost, a
    /// newer leader deposed it, or it stopped. Told once per
    /// [`Leading`](WorkerEventKind::Leading).
    LeadershipLost {
        /// The term that ended.
        term: u64,
    },
    /// A record this worker read does not decode: what depends on it
    /// waits until the node is repaired (a task whose fencing counter is
    /// malformed is not claimed, a leader whose term is malformed does not
    /// lead). Told once per node and problem; again if the node decoded in
    /// between.
    MalformedRecord {
        /// The node.
        path: Path,
        /// What it should hold: `task`, `ownership`, `epoch`, …
        record: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// Something a worker did, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerEvent {
    /// When, by this machine's clock.
    pub at: SystemTime,
    /// What.
    pub kind: WorkerEventKind,
}

impl WorkerEvent {
    pub(crate) fn started(task: TaskId, token: u64) -> Self {
        Self::now(WorkerEventKind::Started { task, token })
    }
    pub(crate) fn stopped(task: TaskId, token: u64, reason: StopReason) -> Self {
        Self::now(WorkerEventKind::Stopped {
            task,
            token,
            reason,
        })
    }
    pub(crate) fn now(kind: WorkerEventKind) -> Self {
        WorkerEvent {
            at: SystemTime::now(),
            kind,
        }
    }
}

/// What happened to the ownership of a task, as an observer of the store
/// sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnershipChange {
    /// A worker claimed a task nobody held before.
    Claimed,
    /// The owner released the task while staying alive (handoff, pause,
    /// removal, shutdown).
    Released,
    /// The owner's session ended while it held the task.
    Lost,
    /// A worker claimed a task whose previous owner's session had ended.
    TakenOver {
        /// The previous owner.
        from: WorkerId,
    },
    /// A worker claimed a task another live worker had released to it.
    Moved {
        /// The previous owner.
        from: WorkerId,
    },
    /// The owner re-confirmed its claim with a new token (after a lost
    /// connection, or a payload change).
    Renewed,
}

/// One ownership event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnershipEvent {
    /// When the observer saw it, by its clock.
    pub at: SystemTime,
    /// The task.
    pub task: TaskId,
    /// The worker concerned (new owner, or the one that released or lost).
    pub worker: WorkerId,
    /// The fencing token of the claim concerned.
    pub token: u64,
    /// What happened.
    pub change: OwnershipChange,
}

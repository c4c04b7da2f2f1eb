//! The records stored in the nodes of a cluster. They are plain JSON (the
//! two counters decimal text) so an operator can read them with `zkCli.sh
//! get` or `etcdctl get`. Decoding fails closed (see [`Record`]).

mod codec;

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::store::{Incarnation, Node, Version};

#[cfg(feature = "internals")]
pub use codec::{EPOCH, decode_epoch};
pub use codec::{Record, TERM, decode_term, next_token};

/// A task as stored under `tasks/<task>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The payload when it is UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// The payload in standard base64 when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_base64: Option<String>,
    /// Whether the task is paused (runs nowhere).
    #[serde(default)]
    pub paused: bool,
    /// Whether the task is done: its handler finished the work (see
    /// [`TaskContext::mark_done`](crate::TaskContext::mark_done)), so it
    /// runs nowhere until re-armed or updated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
    /// The task's weight (absent: 1; a stored 0 reads as 1).
    #[serde(default = "one", deserialize_with = "at_least_one")]
    pub weight: NonZeroU32,
    /// Tags a worker must all have to run the task.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// The only worker allowed to run the task, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<WorkerId>,
}

fn one() -> NonZeroU32 {
    NonZeroU32::MIN
}

/// A weight or capacity as stored. Versions before the types said "at
/// least 1" could store 0, which the runtime always read as 1; this is the
/// one place where that reading happens.
fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<NonZeroU32, D::Error> {
    Ok(NonZeroU32::new(u32::deserialize(d)?).unwrap_or(NonZeroU32::MIN))
}

impl TaskRecord {
    /// Stores `payload` as text when it is UTF-8, else as base64.
    pub fn set_payload(&mut self, payload: &[u8]) {
        match std::str::from_utf8(payload) {
            Ok(text) => {
                self.payload = Some(text.to_owned());
                self.payload_base64 = None;
            }
            Err(_) => {
                self.payload = None;
                self.payload_base64 =
                    Some(base64::engine::general_purpose::STANDARD.encode(payload));
            }
        }
    }

    /// The payload bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the base64 form is malformed (never for a
    /// record from [`Record::decode`], which refuses it).
    pub fn payload_bytes(&self) -> Result<Vec<u8>> {
        if let Some(b64) = &self.payload_base64 {
            return base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| Error::InvalidInput(format!("malformed task payload: {e}")));
        }
        Ok(self.payload.clone().unwrap_or_default().into_bytes())
    }
}

impl Record for TaskRecord {
    const KIND: &'static str = "task";

    fn check(&self) -> std::result::Result<(), String> {
        match &self.payload_base64 {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(drop)
                .map_err(|e| format!("payload_base64 is not standard base64: {e}")),
            None => Ok(()),
        }
    }
}

/// A live worker as stored in its ephemeral node `workers/<worker>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRecord {
    /// The session the worker registered under.
    pub session: u64,
    /// Relative capacity (a stored 0 reads as 1).
    #[serde(deserialize_with = "at_least_one")]
    pub capacity: NonZeroU32,
    /// The worker's tags.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// When the worker registered, in milliseconds since the Unix epoch
    /// (the worker's clock; informational).
    pub since_ms: u64,
}

impl Record for WorkerRecord {
    const KIND: &'static str = "worker";
}

/// An ownership record, the ephemeral node `owners/<task>` of the owner's
/// session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRecord {
    /// The worker running the task.
    pub worker: WorkerId,
    /// The fencing token of this claim.
    pub token: u64,
    /// The owner's session.
    pub session: u64,
    /// When the claim was made, in milliseconds since the Unix epoch (the
    /// owner's clock; informational).
    pub since_ms: u64,
}

impl Record for OwnerRecord {
    const KIND: &'static str = "ownership";
}

/// One state of a task node's data: which creation of the node it is and
/// the version of its data. A task removed and added again may repeat a
/// version (ZooKeeper starts every new node at 0), never an incarnation,
/// so two revisions are equal only for the same data. Stored as the JSON
/// array `[incarnation, version]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "(u64, u64)", into = "(u64, u64)")]
pub struct Revision {
    /// Which creation of the task node.
    pub incarnation: Incarnation,
    /// The version of its data.
    pub version: Version,
}

impl Revision {
    /// The revision of a node as read.
    pub fn of(node: &Node) -> Self {
        Revision {
            incarnation: node.incarnation,
            version: node.version,
        }
    }
}

impl From<(u64, u64)> for Revision {
    fn from((incarnation, version): (u64, u64)) -> Self {
        Revision {
            incarnation: Incarnation(incarnation),
            version: Version(version),
        }
    }
}

impl From<Revision> for (u64, u64) {
    fn from(r: Revision) -> Self {
        (r.incarnation.0, r.version.0)
    }
}

/// What the leader wants one worker to run: `targets/<worker>`.
///
/// Each task maps to the revision of its task node when the leader
/// decided, so an owner notices a changed payload (or a task removed and
/// added again) and restarts its handler.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The leader's term.
    pub term: u64,
    /// Task → the revision of its task node.
    pub tasks: BTreeMap<TaskId, Revision>,
    /// When a leader first saw the worker (milliseconds since the Unix
    /// epoch, that leader's clock), so that a later leader keeps the
    /// worker's age. Only affects when tasks move (the `Delayed` window),
    /// never who may run one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_ms: Option<u64>,
    /// The worker's session when it was first seen: a later leader trusts
    /// `seen_ms` only for a registration under that same session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_session: Option<u64>,
    /// Standby plans: another worker → the tasks of that worker this one
    /// claims, at these revisions, as soon as that worker's registration
    /// goes (before any leader round). A hint: claims decide who runs a
    /// task.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub standby: BTreeMap<WorkerId, BTreeMap<TaskId, Revision>>,
}

impl Record for TargetRecord {
    const KIND: &'static str = "target";
}

/// The `tasks` folder node: every admin change of a task rewrites it by
/// compare-and-set in the same multi, counting the change and naming the
/// task, so the leader (watching this one node) reads only the tasks that
/// changed since its last read. Empty data (older admins) means "unknown".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeLog {
    /// How many changes were counted so far.
    pub changes: u64,
    /// The tasks of the last changes, oldest first: the last one is change
    /// number `changes`. At most [`ChangeLog::RECENT`].
    #[serde(default)]
    pub recent: Vec<TaskId>,
}

impl Record for ChangeLog {
    const KIND: &'static str = "tasks change log";

    /// Empty before the first change through the admin API.
    fn empty() -> Option<Self> {
        Some(Self::default())
    }
}

impl ChangeLog {
    /// How many recent changes are kept.
    pub const RECENT: usize = 64;

    /// Counts a change of `task`.
    pub fn note(&mut self, task: TaskId) {
        self.changes += 1;
        self.recent.push(task);
        if self.recent.len() > Self::RECENT {
            let excess = self.recent.len() - Self::RECENT;
            self.recent.drain(..excess);
        }
    }

    /// The tasks changed after change number `seen`, or `None` if the
    /// record no longer names them all (or the count went backwards).
    pub fn changed_since(&self, seen: u64) -> Option<&[TaskId]> {
        let missed = usize::try_from(self.changes.checked_sub(seen)?).ok()?;
        let start = self.recent.len().checked_sub(missed)?;
        Some(&self.recent[start..])
    }
}

/// A task that any eligible worker may claim, as listed in `open`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTask {
    /// The task node's revision when the leader decided.
    pub revision: Revision,
    /// Tags a worker must all have.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// The only worker allowed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<WorkerId>,
}

/// The tasks open to any worker: the node `open`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRecord {
    /// The leader's term.
    pub term: u64,
    /// Task → what a worker needs to know to claim it.
    pub tasks: BTreeMap<TaskId, OpenTask>,
}

impl Record for OpenRecord {
    const KIND: &'static str = "open list";

    /// Empty before the first leader wrote it.
    fn empty() -> Option<Self> {
        Some(Self::default())
    }
}

/// The elected leader: the ephemeral node `leader`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderRecord {
    /// The leading worker.
    pub worker: WorkerId,
    /// Its session.
    pub session: u64,
    /// Its term.
    pub term: u64,
}

impl Record for LeaderRecord {
    const KIND: &'static str = "leader";
}

/// Milliseconds since the Unix epoch by this machine's clock.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TaskId {
        TaskId::new(name).unwrap()
    }

    #[test]
    fn the_tasks_record_names_recent_changes_and_admits_when_it_cannot() {
        let mut r = ChangeLog::default();
        r.note(t("A"));
        r.note(t("B"));
        assert_eq!(r.changed_since(0), Some(&[t("A"), t("B")][..]));
        assert_eq!(r.changed_since(1), Some(&[t("B")][..]));
        assert_eq!(r.changed_since(2), Some(&[][..]));
        // The count went back (a rewrite by an older admin, say).
        assert_eq!(r.changed_since(3), None);
        for _ in 0..ChangeLog::RECENT {
            r.note(t("C"));
        }
        assert_eq!(r.recent.len(), ChangeLog::RECENT);
        assert_eq!(r.changed_since(1), None);
        assert_eq!(r.changed_since(2).map(<[TaskId]>::len), Some(64));
    }

    #[test]
    fn a_stored_zero_weight_or_capacity_reads_as_one_and_a_missing_weight_as_one() {
        let path = crate::store::Path::new("/c/x").unwrap();
        let task = TaskRecord::decode(&path, br#"{"weight":0}"#).unwrap();
        assert_eq!(task.weight.get(), 1);
        let task = TaskRecord::decode(&path, br#"{}"#).unwrap();
        assert_eq!(task.weight.get(), 1);
        let task = TaskRecord::decode(&path, br#"{"weight":3}"#).unwrap();
        assert_eq!(task.weight.get(), 3);
        let worker =
            WorkerRecord::decode(&path, br#"{"session":1,"capacity":0,"since_ms":0}"#).unwrap();
        assert_eq!(worker.capacity.get(), 1);
        assert!(TaskRecord::decode(&path, br#"{"weight":-1}"#).is_err());
    }
}

//! Listings: workers, tasks with their owners and targets, the leader.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use serde::Serialize;

use crate::error::Result;
use crate::ids::{TaskId, WorkerId};
use crate::runtime::admin::Admin;
use crate::runtime::records::{LeaderRecord, Record};
use crate::runtime::view;

/// Who runs a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ownership {
    /// The owner.
    pub worker: WorkerId,
    /// The fencing token of its claim.
    pub token: u64,
    /// When it claimed, in milliseconds since the Unix epoch (its clock).
    pub since_ms: u64,
}

/// The state of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    /// A worker owns it.
    Running,
    /// Nobody owns it yet (being placed, or no eligible worker).
    Waiting,
    /// Paused; a worker may still be stopping it.
    Paused,
    /// Done: its handler finished the work; it runs nowhere until
    /// re-armed ([`Admin::rearm_task`](crate::Admin::rearm_task)) or
    /// updated.
    Done,
}

/// A task and where it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskStatus {
    /// The task.
    pub task: TaskId,
    /// Its state.
    pub state: TaskState,
    /// Its weight.
    pub weight: NonZeroU32,
    /// Its required tags.
    pub tags: BTreeSet<String>,
    /// The worker it is pinned to.
    pub pinned: Option<WorkerId>,
    /// The payload size in bytes.
    pub payload_bytes: usize,
    /// Its owner.
    pub owner: Option<Ownership>,
    /// Where the leader wants it.
    pub target: Option<WorkerId>,
}

/// A live worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkerStatus {
    /// The worker.
    pub worker: WorkerId,
    /// Its capacity.
    pub capacity: NonZeroU32,
    /// Its tags.
    pub tags: BTreeSet<String>,
    /// Its session.
    pub session: u64,
    /// When it registered, in milliseconds since the Unix epoch (its clock).
    pub since_ms: u64,
    /// How many tasks it owns.
    pub owned: usize,
    /// Whether it is drained ([`Admin::drain_worker`]): it takes no tasks.
    pub drained: bool,
}

/// The elected leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeaderStatus {
    /// The leading worker.
    pub worker: WorkerId,
    /// Its term.
    pub term: u64,
}

/// Everything at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    /// The leader, if one is elected.
    pub leader: Option<LeaderStatus>,
    /// The live workers.
    pub workers: Vec<WorkerStatus>,
    /// Every task.
    pub tasks: Vec<TaskStatus>,
}

impl Admin {
    /// Who runs what now.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) naming a
    /// node read that does not decode; store errors.
    pub async fn owners(&self) -> Result<BTreeMap<TaskId, Ownership>> {
        let owners = view::owners(&*self.store, &self.layout).await?.complete()?;
        Ok(owners
            .into_iter()
            .map(|(t, (rec, _))| {
                (
                    t,
                    Ownership {
                        worker: rec.worker,
                        token: rec.token,
                        since_ms: rec.since_ms,
                    },
                )
            })
            .collect())
    }

    /// Where the leader wants each task.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) naming a
    /// node read that does not decode; store errors.
    pub async fn targets(&self) -> Result<BTreeMap<TaskId, WorkerId>> {
        let targets = view::targets(&*self.store, &self.layout)
            .await?
            .complete()?;
        let mut out = BTreeMap::new();
        for (worker, (rec, _)) in targets {
            for task in rec.tasks.into_keys() {
                out.insert(task, worker.clone());
            }
        }
        Ok(out)
    }

    /// The live workers.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) naming a
    /// node read that does not decode; store errors.
    pub async fn workers(&self) -> Result<Vec<WorkerStatus>> {
        Ok(self.status().await?.workers)
    }

    /// Every task with its owner and target.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) naming a
    /// node read that does not decode; store errors.
    pub async fn tasks(&self) -> Result<Vec<TaskStatus>> {
        Ok(self.status().await?.tasks)
    }

    /// The elected leader.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) naming a
    /// node read that does not decode; store errors.
    pub async fn leader(&self) -> Result<Option<LeaderStatus>> {
        let path = self.layout.leader();
        Ok(match self.store.get(path).await? {
            Some(n) => {
                let l = LeaderRecord::decode(path, &n.data)?;
                Some(LeaderStatus {
                    worker: l.worker,
                    term: l.term,
                })
            }
            None => None,
        })
    }

    /// Leader, workers and tasks, read together.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) naming a
    /// node read that does not decode; store errors.
    pub async fn status(&self) -> Result<ClusterStatus> {
        let store = &*self.store;
        let workers = view::workers(store, &self.layout, false)
            .await?
            .complete()?;
        let tasks = view::tasks(store, &self.layout).await?.complete()?;
        let owners = self.owners().await?;
        let targets = self.targets().await?;
        let leader = self.leader().await?;
        let drained = self.drained().await?;
        let mut owned: BTreeMap<&WorkerId, usize> = BTreeMap::new();
        for o in owners.values() {
            *owned.entry(&o.worker).or_default() += 1;
        }
        let workers = workers
            .iter()
            .map(|(id, (rec, _))| WorkerStatus {
                worker: id.clone(),
                capacity: rec.capacity,
                tags: rec.tags.clone(),
                session: rec.session,
                since_ms: rec.since_ms,
                owned: owned.get(id).copied().unwrap_or(0),
                drained: drained.contains(id),
            })
            .collect();
        let tasks = tasks
            .into_iter()
            .map(|(id, (rec, _))| {
                let owner = owners.get(&id).cloned();
                let state = if rec.paused {
                    TaskState::Paused
                } else if rec.done {
                    TaskState::Done
                } else if owner.is_some() {
                    TaskState::Running
                } else {
                    TaskState::Waiting
                };
                TaskStatus {
                    state,
                    weight: rec.weight,
                    tags: rec.tags.clone(),
                    pinned: rec.pinned.clone(),
                    payload_bytes: rec.payload_bytes().map(|p| p.len()).unwrap_or(0),
                    owner,
                    target: targets.get(&id).cloned(),
                    task: id,
                }
            })
            .collect();
        Ok(ClusterStatus {
            leader,
            workers,
            tasks,
        })
    }
}

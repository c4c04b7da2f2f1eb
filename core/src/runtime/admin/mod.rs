//! The admin handle: add, update, pause, resume and remove tasks; list
//! workers, tasks, owners and targets; follow ownership events; list and
//! remove clusters (`clusters.rs`).
//!
//! Every change of a task is one atomic multi that also rewrites the `tasks`
//! folder node by compare-and-set (counting the change and naming the task,
//! [`ChangeLog`]), so the leader notices any change with one watch and
//! reads only the tasks that changed.

mod clusters;
mod done;
mod drain;
mod events;
mod spec;
mod status;

use std::future::Future;

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::layout::Layout;
use crate::runtime::records::{ChangeLog, Record, TaskRecord};
use crate::store::{CreateMode, DynStore, Op, Path, StoreExt, Version};

pub use spec::TaskSpec;
pub use status::{ClusterStatus, LeaderStatus, Ownership, TaskState, TaskStatus, WorkerStatus};

/// Operates a cluster. Cheap to clone.
///
/// ```
/// use tenure_core::{Admin, DynStore, Result, TaskId, TaskSpec, TaskState};
///
/// async fn operate(store: DynStore) -> Result<()> {
///     let admin = Admin::new(store, "ecas").await?;
///     admin.add_task(TaskSpec::new("TASK_1")?.payload("daily report")).await?;
///     let task = TaskId::new("TASK_1")?;
///     admin.pause_task(&task).await?; // its handler stops wherever it runs
///     admin.resume_task(&task).await?;
///     for status in admin.tasks().await? {
///         if status.state == TaskState::Running {
///             let owner = status.owner.expect("a running task has an owner");
///             println!("{} on {}, token {}", status.task, owner.worker, owner.token);
///         }
///     }
///     admin.remove_task(&task).await
/// }
/// # let _ = operate;
/// ```
#[derive(Clone, Debug)]
pub struct Admin {
    store: DynStore,
    layout: Layout,
}

/// How many times a read-modify-write of a task retries a lost race. Every
/// change also rewrites the `tasks` folder node by compare-and-set, so
/// concurrent admins changing different tasks race there too; a lost race
/// means another change succeeded.
const CAS_RETRIES: usize = 32;

/// What the payload's key adds to a task record: `,"payload_base64":""`.
const PAYLOAD_KEY: usize = 20;

impl Admin {
    /// An admin handle for `cluster` (at `/tenure/<cluster>`), creating the
    /// cluster's folders if needed.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad cluster name; store errors.
    pub async fn new(store: DynStore, cluster: &str) -> Result<Self> {
        Self::at(store, Layout::new(cluster)?).await
    }

    /// An admin handle for `cluster` if it exists, writing nothing: for
    /// read-only uses (status, listings, watching), which then work with
    /// read-only credentials and leave no trace of a mistyped name.
    ///
    /// # Errors
    /// [`Error::UnknownCluster`] if any of the cluster's folders is
    /// missing; [`Error::InvalidName`] for a bad cluster name; store
    /// errors.
    pub async fn existing(store: DynStore, cluster: &str) -> Result<Self> {
        let layout = Layout::new(cluster)?;
        for path in layout.skeleton() {
            if store.get(path).await?.is_none() {
                return Err(Error::UnknownCluster {
                    path: layout.root().clone(),
                });
            }
        }
        Ok(Admin { store, layout })
    }

    /// An admin handle for a cluster kept at `layout`.
    ///
    /// # Errors
    /// Store errors while creating the cluster's folders.
    pub async fn at(store: DynStore, layout: Layout) -> Result<Self> {
        for path in layout.skeleton() {
            store.create_all(path).await?;
        }
        Ok(Admin { store, layout })
    }

    /// An admin handle of a cluster the caller knows exists (a worker's),
    /// writing nothing.
    pub(crate) fn of(store: DynStore, layout: Layout) -> Self {
        Admin { store, layout }
    }

    /// An admin handle for the cluster at `root`.
    ///
    /// # Errors
    /// As [`Admin::at`].
    pub async fn at_root(store: DynStore, root: Path) -> Result<Self> {
        Self::at(store, Layout::at(root)?).await
    }

    /// The cluster's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The store.
    pub fn store(&self) -> &DynStore {
        &self.store
    }

    fn encode_task(&self, spec: &TaskSpec, record: &TaskRecord) -> Result<Vec<u8>> {
        let data = record.encode()?;
        let limit = self.store.info().max_payload;
        if data.len() > limit {
            // The largest payload of this kind that fits beside the
            // record's other fields: text is stored as it is (JSON
            // escapes aside), anything else as base64 (4 bytes per 3).
            let mut bare = record.clone();
            bare.payload = None;
            bare.payload_base64 = None;
            let room = limit.saturating_sub(bare.encode()?.len() + PAYLOAD_KEY);
            let binary = record.payload_base64.is_some();
            return Err(Error::PayloadTooLarge {
                size: spec.payload.len(),
                limit: if binary { room / 4 * 3 } else { room },
            });
        }
        Ok(data)
    }

    /// The write of the `tasks` folder node that counts a change of `task`,
    /// by compare-and-set on the version just read.
    ///
    /// Empty (no change counted yet, or emptied by hand to start again),
    /// the count starts from 0: the leader, seeing no count or a count
    /// that went back, re-reads every task. A change log that does not
    /// decode refuses the change: counting on from a guess could make the
    /// leader miss changes.
    async fn bump(&self, task: &TaskId) -> Result<Op> {
        let path = self.layout.tasks();
        let node = self
            .store
            .get(path)
            .await?
            .ok_or_else(|| Error::NotFound { path: path.clone() })?;
        let mut record = ChangeLog::decode(path, &node.data)?;
        record.note(task.clone());
        Ok(Op::Set {
            path: path.clone(),
            data: record.encode()?,
            version: Some(node.version),
        })
    }

    /// Adds a task; it starts on a worker as soon as the leader places it.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if a task of that name exists (nothing is
    /// changed); [`Error::PayloadTooLarge`] naming the limit;
    /// [`Error::MalformedRecord`] if the change log (the `tasks` node) does
    /// not decode; store errors.
    pub async fn add_task(&self, spec: TaskSpec) -> Result<()> {
        let record = spec.to_record(false);
        let data = self.encode_task(&spec, &record)?;
        let path = self.layout.task(&spec.id);
        self.change(&spec.id, || {
            let op = Op::Create {
                path: path.clone(),
                data: data.clone(),
                mode: CreateMode::Persistent,
            };
            async move { Ok(op) }
        })
        .await
    }

    /// Replaces a task's payload, weight, tags and pinning (its pause state
    /// is kept). The owner restarts its handler with the new payload.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::PayloadTooLarge`];
    /// [`Error::MalformedRecord`] if the task's record or the change log
    /// does not decode (nothing is changed); store errors.
    pub async fn update_task(&self, spec: TaskSpec) -> Result<()> {
        self.modify(&spec.id.clone(), |old| {
            let record = spec.to_record(old.paused);
            let data = self.encode_task(&spec, &record)?;
            Ok(data)
        })
        .await
    }

    /// Changes some of a task's payload, weight, tags and pinning: `edit`
    /// gets the task as stored and returns it changed (its name must stay);
    /// the pause state is kept. Read and write are one compare-and-set, so
    /// a concurrent change is never overwritten: `edit` runs again on the
    /// newer task. The owner restarts its handler if the payload changed.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::InvalidInput`] when `edit` renames
    /// the task; whatever `edit` returns (nothing is written then);
    /// [`Error::PayloadTooLarge`]; store errors.
    pub async fn edit_task(
        &self,
        id: &TaskId,
        edit: impl Fn(TaskSpec) -> Result<TaskSpec>,
    ) -> Result<()> {
        self.modify(id, |old| {
            let spec = edit(TaskSpec::from_record(id.clone(), old)?)?;
            if spec.id != *id {
                return Err(Error::InvalidInput(format!(
                    "an edit of task {id} cannot rename it to {}",
                    spec.id
                )));
            }
            self.encode_task(&spec, &spec.to_record(old.paused))
        })
        .await
    }

    /// Pauses a task: its runner stops and it runs nowhere until resumed.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::MalformedRecord`] if the task's
    /// record or the change log does not decode; store errors.
    pub async fn pause_task(&self, id: &TaskId) -> Result<()> {
        self.set_paused(id, true).await
    }

    /// Resumes a paused task.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::MalformedRecord`] if the task's
    /// record or the change log does not decode; store errors.
    pub async fn resume_task(&self, id: &TaskId) -> Result<()> {
        self.set_paused(id, false).await
    }

    async fn set_paused(&self, id: &TaskId, paused: bool) -> Result<()> {
        self.modify(id, |old| {
            let mut record = old.clone();
            record.paused = paused;
            record.encode()
        })
        .await
    }

    /// Removes a task: its runner stops. Its fencing counter is kept, so a
    /// task added again later under the same name never reuses a token.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::MalformedRecord`] if the change log
    /// does not decode; store errors.
    pub async fn remove_task(&self, id: &TaskId) -> Result<()> {
        let path = self.layout.task(id);
        self.change(id, || {
            let op = Op::Delete {
                path: path.clone(),
                version: None,
            };
            async move { Ok(op) }
        })
        .await
        .map_err(|e| unknown(id, e))
    }

    /// A task as stored: payload, weight, tags and pinning.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::MalformedRecord`] if its record
    /// does not decode; store errors.
    pub async fn task(&self, id: &TaskId) -> Result<TaskSpec> {
        let (record, _) = self.read_task(id).await?;
        TaskSpec::from_record(id.clone(), &record)
    }

    /// Reads a task record and its version.
    async fn read_task(&self, id: &TaskId) -> Result<(TaskRecord, Version)> {
        let path = self.layout.task(id);
        match self.store.get(&path).await? {
            Some(node) => Ok((TaskRecord::decode(&path, &node.data)?, node.version)),
            None => Err(Error::UnknownTask {
                task: id.to_string(),
            }),
        }
    }

    /// Read-modify-write of a task by compare-and-set.
    async fn modify(
        &self,
        id: &TaskId,
        change: impl Fn(&TaskRecord) -> Result<Vec<u8>>,
    ) -> Result<()> {
        let change = &change;
        self.change(id, || async move {
            let (old, version) = self.read_task(id).await?;
            Ok(Op::Set {
                path: self.layout.task(id),
                data: change(&old)?,
                version: Some(version),
            })
        })
        .await
        .map_err(|e| unknown(id, e))
    }

    /// One change of task `id`: the write `task_op` makes, in one multi with
    /// the rewrite of the `tasks` node; both are made again while a
    /// compare-and-set loses a race.
    ///
    /// The `tasks` node is read before the task: every change made through
    /// this API rewrites it, so a task removed and added again after that
    /// read fails the multi. A compare-and-set on the task's version alone
    /// would not notice: the new task node may have the version read
    /// (ZooKeeper starts every node at 0).
    async fn change<F>(&self, id: &TaskId, task_op: impl Fn() -> F) -> Result<()>
    where
        F: Future<Output = Result<Op>>,
    {
        for _ in 0..CAS_RETRIES {
            let bump = self.bump(id).await?;
            let ops = [task_op().await?, bump];
            match self.store.multi(&ops).await {
                Err(Error::VersionConflict { .. }) => continue,
                other => return other.map(drop),
            }
        }
        Err(Error::VersionConflict {
            path: self.layout.task(id).clone(),
        })
    }
}

/// A missing task node means an unknown task.
fn unknown(id: &TaskId, e: Error) -> Error {
    match e {
        Error::NotFound { .. } => Error::UnknownTask {
            task: id.to_string(),
        },
        e => e,
    }
}

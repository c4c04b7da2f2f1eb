//! Converging: release what is no longer wanted here, restart handlers
//! whose task changed, claim what is wanted, start what is held.
//!
//! Records that do not decode are told once (a warning and a
//! [`WorkerEventKind::MalformedRecord`] event) and decide nothing, while
//! the other tasks go on: a target or open list that does not decode
//! leaves what was wanted as it was, until the leader writes it again; a
//! task record that does not decode starts no handler (a running one keeps
//! its payload); a fencing counter that does not decode gives no token,
//! so its task is neither claimed nor started again. Each is read again on
//! later passes and acted on once it decodes.
//!
//! [`WorkerEventKind::MalformedRecord`]: crate::WorkerEventKind::MalformedRecord

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::time::Instant;
use tracing::{debug, info};

use crate::error::Result;
use crate::ids::{TaskId, WorkerId};
use crate::runtime::events::StopReason;
use crate::runtime::records::{OpenRecord, Record, Revision, TargetRecord, TaskRecord};
use crate::runtime::worker::reconcile::Reconciler;
use crate::runtime::worker::wanted::TargetContent;
use crate::store::{Node, Path, SessionId};

impl Reconciler {
    /// Re-reads the target and the open list if their watches fired.
    pub(super) async fn refresh_wanted(&mut self, session: SessionId) -> Result<()> {
        let inner = self.inner.clone();
        if self.wanted.target_stale() {
            let path = inner.member.layout.target(&inner.member.id);
            let (node, watch) = self
                .timed(session, inner.member.store.get_and_watch(&path))
                .await?;
            let desired = match node
                .map(|n| TargetRecord::decode(&path, &n.data))
                .transpose()
            {
                Ok(target) => {
                    self.told.cleared(&path);
                    let target = target.unwrap_or_default();
                    Some(TargetContent {
                        tasks: target.tasks,
                        standby: target.standby,
                    })
                }
                Err(e) => {
                    self.malformed(&e);
                    None
                }
            };
            self.wanted.target_read(desired, watch);
        }
        if self.wanted.open_stale() {
            let path = inner.member.layout.open();
            let (node, watch) = self
                .timed(session, inner.member.store.get_and_watch(path))
                .await?;
            let open = match node.map(|n| OpenRecord::decode(path, &n.data)).transpose() {
                Ok(open) => {
                    self.told.cleared(path);
                    Some(open.unwrap_or_default())
                }
                Err(e) => {
                    self.malformed(&e);
                    None
                }
            };
            self.wanted.open_read(open, watch);
        }
        if self.wanted.workers_stale() {
            let path = inner.member.layout.workers();
            let (names, watch) = self
                .timed(session, inner.member.store.children_and_watch(path))
                .await?;
            let registered = names.into_iter().map(WorkerId::from).collect();
            self.wanted.workers_read(registered, watch);
            debug!(
                planned_here = self.wanted.taken_over(),
                "registrations listed for the standby plans"
            );
        }
        Ok(())
    }

    pub(super) async fn converge(&mut self, session: SessionId) -> Result<()> {
        let wanted = self.wanted.tasks(&self.inner);
        let inner = self.inner.clone();
        // Release what is no longer wanted here.
        let unwanted: Vec<TaskId> = self
            .holds
            .tasks()
            .into_iter()
            .filter(|t| !wanted.contains_key(t))
            .collect();
        for task in unwanted {
            // Stops run side by side and in the background: the worker
            // keeps proving its session alive while handlers stop. A task
            // is released on the first pass after its handler is gone.
            self.stop_in_background(&task, StopReason::Unassigned);
            if inner.runner.is_running(&task) {
                continue;
            }
            if let Some(h) = self.holds.get(&task) {
                let (token, version, epoch) = (h.token, h.record_version, h.epoch_version);
                // Forgotten only once released: a record left behind would
                // hold the task until the session ends.
                self.release_timed(session, &task, version, epoch).await?;
                self.holds.forget(&task);
                info!(task = %task, token, "released");
            }
            self.restarts.forget(&task);
        }
        // Restart handlers whose task changed: the target names a revision
        // other than the one the handler runs with (a new version, or the
        // task removed and added again, which may repeat a version but
        // never an incarnation). The task node is the truth (the target may
        // lag behind it), so the handler restarts only if the node's
        // revision differs from the handler's.
        let changed: Vec<(TaskId, Revision)> = self
            .holds
            .iter()
            .filter_map(|(t, h)| {
                let r = *wanted.get(t)?;
                let stale = h.task_revision != Some(r) && h.target_revision != Some(r);
                (stale || h.payload.is_none()).then(|| (t.clone(), r))
            })
            .collect();
        for (task, target_revision) in changed {
            let read = match self.read_task(session, &task).await {
                Ok(read) => read,
                Err(e) if self.malformed(&e) => {
                    // Acted on: read again once the target changes (or
                    // while no handler ever started).
                    if let Some(h) = self.holds.get_mut(&task) {
                        h.target_revision = Some(target_revision);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.told.cleared(&inner.member.layout.task(&task));
            let Some(read) = read else {
                continue; // removed: the next target drops it
            };
            let Some(h) = self.holds.get_mut(&task) else {
                continue;
            };
            h.target_revision = Some(target_revision);
            if h.task_revision != Some(read.revision) || h.payload.is_none() {
                h.payload = Some(read.payload);
                h.task_revision = Some(read.revision);
                h.paused = read.paused;
                // Started again with the new payload once stopped.
                self.stop_in_background(&task, StopReason::Updated);
            }
        }
        // Claim what is wanted and not held, several at once.
        let open_only: BTreeSet<TaskId> = wanted
            .keys()
            .filter(|t| !self.wanted.targeted(t))
            .cloned()
            .collect();
        let to_claim: Vec<TaskId> = wanted
            .keys()
            .filter(|t| !self.holds.holds(t) && !self.holds.watches_owner(t))
            .cloned()
            .collect();
        self.claim_all(session, to_claim, &open_only).await?;
        self.holds.keep_owner_watches(|t| wanted.contains_key(t));
        // Start handlers that are not running.
        let now = Instant::now();
        let idle: Vec<TaskId> = self
            .holds
            .iter()
            .filter(|(t, h)| wanted.contains_key(*t) && !inner.runner.is_running(t) && !h.paused)
            .filter(|(t, _)| self.restarts.due(t, now))
            .map(|(t, _)| t.clone())
            .collect();
        for task in idle {
            if !inner.clock.session_safe() {
                break;
            }
            if self.holds.get(&task).is_some_and(|h| h.used)
                && !self.reconfirm_one(session, &task).await?
            {
                continue;
            }
            if let Some(h) = self.holds.get_mut(&task)
                && let Some(payload) = h.payload.clone()
                && inner.runner.start(&task, payload, h.token)
            {
                h.used = true;
            }
        }
        Ok(())
    }

    /// Reads a task's payload, pause state and the revision they are of;
    /// `None` for a task that no longer exists.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) for a task
    /// record that does not decode; store errors.
    pub(super) async fn read_task(
        &self,
        session: SessionId,
        task: &TaskId,
    ) -> Result<Option<TaskRead>> {
        let inner = &self.inner;
        let path = inner.member.layout.task(task);
        let node = self.timed(session, inner.member.store.get(&path)).await?;
        node.map(|node| TaskRead::decode(&path, &node)).transpose()
    }

    /// Begins stopping `task`'s handler (if it runs) on a task of its own,
    /// so that the reconciler goes on meanwhile; the end of the stop wakes
    /// it (see `wait.rs`).
    fn stop_in_background(&self, task: &TaskId, reason: StopReason) {
        if let Some(stop) = self.inner.runner.begin_stop(task, reason) {
            let inner = self.inner.clone();
            tokio::spawn(async move { inner.runner.complete(stop).await });
        }
    }
}

/// A task as the worker read it.
pub(super) struct TaskRead {
    pub payload: Arc<[u8]>,
    /// Paused or done: the handler does not start.
    pub paused: bool,
    pub revision: Revision,
}

impl TaskRead {
    /// The task as its node at `path` holds it.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) for a
    /// task record that does not decode.
    pub(super) fn decode(path: &Path, node: &Node) -> Result<Self> {
        let record = TaskRecord::decode(path, &node.data)?;
        Ok(TaskRead {
            payload: record.payload_bytes()?.into(),
            paused: record.paused || record.done,
            revision: Revision::of(node),
        })
    }
}

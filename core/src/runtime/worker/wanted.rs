//! What the leader wants this worker to run: its target and the open list,
//! as last read, and the two watches that say when to read them again;
//! and the standby plans of the target (the leader's `standby.rs`) with
//! the registrations they depend on: the tasks planned for a worker whose
//! registration has gone are wanted here at once, before any leader round
//! says so. The reading itself is `converge.rs`'s (`refresh_wanted`).

use std::collections::{BTreeMap, BTreeSet};

use futures::FutureExt;

use crate::ids::{TaskId, WorkerId};
use crate::runtime::records::{OpenRecord, Revision};
use crate::runtime::worker::fired::fired;
use crate::runtime::worker::inner::Inner;
use crate::store::Watch;
use crate::strategy::may_run;

/// The target and the open list, with their watches.
#[derive(Default)]
pub(super) struct Wanted {
    /// Task → revision, from this worker's target node.
    desired: BTreeMap<TaskId, Revision>,
    /// The tasks any eligible worker may claim.
    open: OpenRecord,
    /// Armed when the target was last read; `None`: read it again.
    target_watch: Option<Watch>,
    /// Armed when the open list was last read; `None`: read it again.
    open_watch: Option<Watch>,
    /// Another worker → its tasks this worker takes if it leaves.
    standby: BTreeMap<WorkerId, BTreeMap<TaskId, Revision>>,
    /// The registered workers as last listed (read only while there are
    /// standby plans).
    registered: BTreeSet<WorkerId>,
    /// Armed when the registrations were last listed; `None`: list them
    /// again before the plans are acted on.
    workers_watch: Option<Watch>,
}

impl Wanted {
    /// Whether the target must be read (never read, or its watch fired or
    /// was forgotten).
    pub fn target_stale(&self) -> bool {
        self.target_watch.is_none()
    }

    /// The target was read: its tasks and standby plans, `None` if the
    /// record did not decode (the last good content stays).
    pub fn target_read(&mut self, read: Option<TargetContent>, watch: Watch) {
        if let Some(TargetContent { tasks, standby }) = read {
            self.desired = tasks;
            // A plan naming a worker not in the last listing is checked
            // against a fresh one before it is acted on: the listing's
            // watch may not have told of that worker's registration yet.
            if standby.keys().any(|w| !self.registered.contains(w)) {
                self.workers_watch = None;
            }
            self.standby = standby;
        }
        self.target_watch = Some(watch);
    }

    /// Whether the registrations must be listed: there are standby plans,
    /// and no listing since the registrations last changed.
    pub fn workers_stale(&mut self) -> bool {
        if self.standby.is_empty() {
            return false;
        }
        if self
            .workers_watch
            .as_mut()
            .is_some_and(|w| w.now_or_never().is_some())
        {
            self.workers_watch = None;
        }
        self.workers_watch.is_none()
    }

    /// The registrations were listed.
    pub fn workers_read(&mut self, registered: BTreeSet<WorkerId>, watch: Watch) {
        self.registered = registered;
        self.workers_watch = Some(watch);
    }

    /// Whether the open list must be read.
    pub fn open_stale(&self) -> bool {
        self.open_watch.is_none()
    }

    /// The open list was read: `None` if it did not decode (the last good
    /// content stays).
    pub fn open_read(&mut self, open: Option<OpenRecord>, watch: Watch) {
        if let Some(open) = open {
            self.open = open;
        }
        self.open_watch = Some(watch);
    }

    /// A new session: nothing is wanted until read again under it.
    pub fn clear(&mut self) {
        self.desired.clear();
        self.open = OpenRecord::default();
        self.standby.clear();
    }

    /// Forgets every watch: all is read again on the next pass.
    pub fn forget_watches(&mut self) {
        self.target_watch = None;
        self.open_watch = None;
        self.workers_watch = None;
    }

    /// Whether the target (not only the open list) names `task`.
    pub fn targeted(&self, task: &TaskId) -> bool {
        self.desired.contains_key(task)
    }

    /// How many tasks the standby plans want here now (of workers whose
    /// registration has gone).
    pub fn taken_over(&self) -> usize {
        self.active_plans().map(BTreeMap::len).sum()
    }

    /// The standby plans of workers whose registration has gone (none
    /// until the registrations were listed under the current plans).
    fn active_plans(&self) -> impl Iterator<Item = &BTreeMap<TaskId, Revision>> {
        let listed = self.workers_watch.is_some();
        self.standby
            .iter()
            .filter(move |(w, _)| listed && !self.registered.contains(*w))
            .map(|(_, tasks)| tasks)
    }

    /// Task → the task revision wanted here: the target, the open tasks
    /// this worker may run, and the tasks planned here for workers whose
    /// registration has gone.
    pub fn tasks(&self, me: &Inner) -> BTreeMap<TaskId, Revision> {
        let mut wanted = self.desired.clone();
        for (task, revision) in self.active_plans().flatten() {
            wanted.entry(task.clone()).or_insert(*revision);
        }
        for (task, open) in &self.open.tasks {
            if may_run(open.pinned.as_ref(), &open.tags, &me.member.id, &me.tags) {
                wanted.entry(task.clone()).or_insert(open.revision);
            }
        }
        wanted
    }

    /// Resolves when the target's, the open list's or (while there are
    /// standby plans) the registrations' watch fires, and forgets the one
    /// that fired (read again on the next pass).
    pub async fn changed(&mut self) {
        let plans = !self.standby.is_empty();
        tokio::select! {
            _ = fired(&mut self.target_watch) => self.target_watch = None,
            _ = fired(&mut self.open_watch) => self.open_watch = None,
            _ = fired(&mut self.workers_watch), if plans => self.workers_watch = None,
        }
    }
}

/// What a worker's target gives it: its tasks and its standby plans.
pub(super) struct TargetContent {
    pub tasks: BTreeMap<TaskId, Revision>,
    pub standby: BTreeMap<WorkerId, BTreeMap<TaskId, Revision>>,
}

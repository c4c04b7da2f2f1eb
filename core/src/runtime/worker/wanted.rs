//! What the leader wants this worker to run: its target and the open list,
//! as last read, and the two watches that say when to read them again.
//! The reading itself is `converge.rs`'s (`refresh_wanted`).

use std::collections::BTreeMap;

use crate::ids::TaskId;
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
}

impl Wanted {
    /// Whether the target must be read (never read, or its watch fired or
    /// was forgotten).
    pub fn target_stale(&self) -> bool {
        self.target_watch.is_none()
    }

    /// The target was read: `desired` is its content, `None` if the record
    /// did not decode (the last good content stays).
    pub fn target_read(&mut self, desired: Option<BTreeMap<TaskId, Revision>>, watch: Watch) {
        if let Some(desired) = desired {
            self.desired = desired;
        }
        self.target_watch = Some(watch);
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
    }

    /// Forgets both watches: both are read again on the next pass.
    pub fn forget_watches(&mut self) {
        self.target_watch = None;
        self.open_watch = None;
    }

    /// Whether the target (not only the open list) names `task`.
    pub fn targeted(&self, task: &TaskId) -> bool {
        self.desired.contains_key(task)
    }

    /// Task → the task revision wanted here: the target, and the open
    /// tasks this worker may run.
    pub fn tasks(&self, me: &Inner) -> BTreeMap<TaskId, Revision> {
        let mut wanted = self.desired.clone();
        for (task, open) in &self.open.tasks {
            if may_run(open.pinned.as_ref(), &open.tags, &me.member.id, &me.tags) {
                wanted.entry(task.clone()).or_insert(open.revision);
            }
        }
        wanted
    }

    /// Resolves when the target's or the open list's watch fires, and
    /// forgets the one that fired (read again on the next pass).
    pub async fn changed(&mut self) {
        let target = tokio::select! {
            _ = fired(&mut self.target_watch) => true,
            _ = fired(&mut self.open_watch) => false,
        };
        if target {
            self.target_watch = None;
        } else {
            self.open_watch = None;
        }
    }
}

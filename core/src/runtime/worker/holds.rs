//! What this worker holds: the claims it tracks, the tasks whose record may
//! be its own although untracked (*unsure*, see `unsure.rs`), and the
//! watches on other workers' records of tasks wanted here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::ids::{TaskId, WorkerId};
use crate::runtime::claim::Claim;
use crate::runtime::records::Revision;
use crate::store::{Version, Watch};

/// A task this worker holds an ownership record for.
pub(super) struct Held {
    pub token: u64,
    pub record_version: Version,
    /// The version of the fencing counter as this worker's claim (or last
    /// re-confirmation) left it; `None` when unknown (a re-confirmation
    /// whose answer was lost).
    pub epoch_version: Option<Version>,
    /// The revision of the task node the payload was read from; `None`
    /// until read.
    pub task_revision: Option<Revision>,
    /// The task revision the target last asked for, once acted on: a
    /// target that lags behind the task node (the leader has not seen the
    /// change yet) is acted on once, not on every pass.
    pub target_revision: Option<Revision>,
    /// `None` until a task record that decodes is known: the claim brings
    /// the task node it read; if that record does not decode, the claim is
    /// still tracked (so it is never forgotten while its record holds the
    /// task) and a later pass reads the task again.
    pub payload: Option<Arc<[u8]>>,
    /// Whether the task was paused when last read: its handler does not
    /// start, even while the target (not updated yet) still lists it.
    pub paused: bool,
    /// Whether a handler already ran with `token`: every handler start gets
    /// a token of its own, so a restart re-confirms the claim first.
    pub used: bool,
}

/// Held claims, unsure claims and the owner watches.
#[derive(Default)]
pub(super) struct Holds {
    held: BTreeMap<TaskId, Held>,
    /// Tasks whose ownership record may be ours although not in `held`: a
    /// claim or reclaim whose answer never came (lost, timed out, or the
    /// request was abandoned), or a claim forgotten on re-registration.
    /// Each is read and, if it is a record of this worker's session,
    /// released (see `unsure.rs`).
    unsure: BTreeSet<TaskId>,
    /// Wanted tasks another worker still holds: claimed once their record
    /// changes.
    owner_watches: BTreeMap<TaskId, Watch>,
    /// The worker whose record of a wanted task this worker last waited
    /// for, until the task is claimed or no longer wanted (told with the
    /// claim, see [`WorkerEventKind::Claimed`](crate::WorkerEventKind::Claimed)).
    waited_for: BTreeMap<TaskId, WorkerId>,
}

impl Holds {
    /// The claim on `task`, if held.
    pub fn get(&self, task: &TaskId) -> Option<&Held> {
        self.held.get(task)
    }

    /// The claim on `task`, to update after a read or a re-confirmation.
    pub fn get_mut(&mut self, task: &TaskId) -> Option<&mut Held> {
        self.held.get_mut(task)
    }

    /// Whether `task` is held.
    pub fn holds(&self, task: &TaskId) -> bool {
        self.held.contains_key(task)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The held tasks with their claims, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&TaskId, &Held)> {
        self.held.iter()
    }

    /// The held tasks, by name.
    pub fn tasks(&self) -> Vec<TaskId> {
        self.held.keys().cloned().collect()
    }

    /// Tracks a claim just made (its payload is set next, from the task
    /// node the claim read).
    pub fn track(&mut self, task: &TaskId, c: &Claim) {
        self.held.insert(
            task.clone(),
            Held {
                token: c.token,
                record_version: c.record_version,
                epoch_version: Some(c.epoch_version),
                task_revision: None,
                target_revision: None,
                payload: None,
                paused: false,
                used: false,
            },
        );
    }

    /// Stops tracking `task` (released, or no longer ours).
    pub fn forget(&mut self, task: &TaskId) {
        self.held.remove(task);
    }

    /// A new session: every held claim becomes unsure (its record, if still
    /// there, is released once registered).
    pub fn forget_claims(&mut self) {
        let forgotten = std::mem::take(&mut self.held);
        self.unsure.extend(forgotten.into_keys());
    }

    /// At shutdown: the held claims, and the unsure tasks not among them,
    /// to release; nothing is tracked after.
    pub fn take_all(&mut self) -> (BTreeMap<TaskId, Held>, Vec<TaskId>) {
        let held = std::mem::take(&mut self.held);
        let unsure = std::mem::take(&mut self.unsure)
            .into_iter()
            .filter(|t| !held.contains_key(t))
            .collect();
        (held, unsure)
    }

    /// Marks `task` unsure: a request that may change its record is about
    /// to be sent, or its record was found to be this session's.
    pub fn mark_unsure(&mut self, task: TaskId) {
        self.unsure.insert(task);
    }

    /// Marks every task of `tasks` unsure.
    pub fn mark_all_unsure(&mut self, tasks: impl IntoIterator<Item = TaskId>) {
        self.unsure.extend(tasks);
    }

    /// `task`'s record is known again (a definite answer, or read).
    pub fn settled(&mut self, task: &TaskId) {
        self.unsure.remove(task);
    }

    /// The unsure tasks, by name.
    pub fn unsure(&self) -> Vec<TaskId> {
        self.unsure.iter().cloned().collect()
    }

    /// Watches `owner`'s record of `task`, wanted here.
    pub fn watch_owner(&mut self, task: TaskId, watch: Watch, owner: WorkerId) {
        self.waited_for.insert(task.clone(), owner);
        self.owner_watches.insert(task, watch);
    }

    /// Watches a record of `task` whose worker is not known (it does not
    /// decode, or names this worker under an older session).
    pub fn watch_owner_unknown(&mut self, task: TaskId, watch: Watch) {
        self.waited_for.remove(&task);
        self.owner_watches.insert(task, watch);
    }

    /// The worker whose record of `task` this worker waited for, if any;
    /// forgotten (the task was just claimed).
    pub fn take_waited_for(&mut self, task: &TaskId) -> Option<WorkerId> {
        self.waited_for.remove(task)
    }

    /// Whether another worker's record of `task` is watched.
    pub fn watches_owner(&self, task: &TaskId) -> bool {
        self.owner_watches.contains_key(task)
    }

    /// Drops the owner watches of tasks no longer wanted.
    pub fn keep_owner_watches(&mut self, wanted: impl Fn(&TaskId) -> bool) {
        self.owner_watches.retain(|t, _| wanted(t));
        self.waited_for.retain(|t, _| wanted(t));
    }

    /// Forgets every owner watch (their records are read again).
    pub fn forget_owner_watches(&mut self) {
        self.owner_watches.clear();
    }

    /// Resolves when an owner watch fires, and forgets it (its task is
    /// claimed again on the next pass); never if there is none.
    pub async fn owner_changed(&mut self) {
        let owner_watches = &mut self.owner_watches;
        let task = poll_fn(|cx| {
            for (task, w) in owner_watches.iter_mut() {
                if Pin::new(w).poll(cx).is_ready() {
                    return Poll::Ready(task.clone());
                }
            }
            Poll::Pending
        })
        .await;
        self.owner_watches.remove(&task);
    }
}

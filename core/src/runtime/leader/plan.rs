//! One leader round: read what changed, ask the strategy, publish.
//!
//! Records that do not decode are told (a warning and a worker event) and
//! decide nothing: a task whose task record or ownership record does not
//! decode is left out of the strategy's input and keeps the place the
//! published targets give it (with the revision they name), until its
//! records decode again; a registration that does not decode is not a
//! live worker. The leader's own records (targets, the open list) that do
//! not decode are written again.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::FutureExt;
use tokio::time::Instant;
use tracing::debug;

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::runtime::leader::ages::Ages;
use crate::runtime::leader::drained::Drained;
use crate::runtime::leader::settle::JoinSettle;
use crate::runtime::leader::standby::Standby;
use crate::runtime::leader::tasks::TaskView;
use crate::runtime::malformed::Malformed;
use crate::runtime::member::Member;
use crate::runtime::owners::OwnerView;
use crate::runtime::records::{OpenRecord, Revision, TargetRecord, WorkerRecord};
use crate::runtime::view::{self, Listing};
use crate::store::Version;
use crate::strategy::{Assignment, Strategy, StrategyInput, Target, TaskInfo, WorkerInfo};

/// The targets in the store: `None` for one that does not decode (it is
/// written again at the next publish).
pub(super) type Published = BTreeMap<WorkerId, Option<TargetRecord>>;

/// One round's decision, as [`LeaderState::publish`] writes it.
pub(super) struct Decision<'a> {
    /// The registered workers (drained ones too: they keep a target).
    pub live: &'a [WorkerId],
    /// The strategy's answer.
    pub target: &'a Target,
    /// The tasks the strategy saw, in name order.
    pub tasks: &'a [TaskInfo],
    /// The revision of every task node.
    pub revisions: &'a BTreeMap<TaskId, Revision>,
    /// Tasks whose records do not decode: they stay where they are.
    pub frozen: &'a BTreeSet<TaskId>,
}

/// What the leader knows and watches.
pub(super) struct LeaderState {
    pub term: u64,
    pub term_version: Version,
    /// The registrations, with their children watch.
    workers: Option<Listing<WorkerId, WorkerRecord>>,
    /// The tasks; refreshed by what changed when its watch fired.
    tasks: Option<TaskView>,
    /// The ownership records; refreshed by what changed when a watch fired.
    owners: Option<OwnerView>,
    /// The drained workers, which take no tasks.
    drained: Drained,
    pub ages: Ages,
    /// Holds the first placement of a cold start until the joins settle.
    settle: JoinSettle,
    /// Where each worker's tasks go if it leaves (see `standby.rs`).
    standby: Standby,
    /// What is in the store now: `None` until read after election.
    pub published: Option<Published>,
    /// The open list in the store: `None` until read, `Some(None)` if it
    /// does not decode (it is written again at the next publish).
    pub published_open: Option<Option<OpenRecord>>,
    /// The leader's own records that did not decode when read, until
    /// written again.
    pub published_malformed: Vec<Error>,
    /// The malformed records told about.
    told: Malformed,
    recheck_at: Option<Instant>,
    /// Every input is re-read at this period even without a watch firing
    /// (heals a lost watch event).
    resync_every: Duration,
    resync_at: Option<Instant>,
    /// Computes the targets.
    strategy: Arc<dyn Strategy>,
}

impl LeaderState {
    pub fn new(
        term: u64,
        term_version: Version,
        resync_every: Duration,
        strategy: Arc<dyn Strategy>,
    ) -> Self {
        LeaderState {
            term,
            term_version,
            workers: None,
            tasks: None,
            owners: None,
            drained: Drained::default(),
            ages: Ages::default(),
            settle: JoinSettle::new(),
            standby: Standby::default(),
            published: None,
            published_open: None,
            published_malformed: Vec::new(),
            told: Malformed::default(),
            recheck_at: None,
            resync_every,
            resync_at: None,
            strategy,
        }
    }

    /// Forgets everything cached (after an error).
    pub fn invalidate(&mut self) {
        self.workers = None;
        self.tasks = None;
        self.owners = None;
        self.drained.invalidate();
        self.published = None;
        self.published_open = None;
    }

    /// Whether, before the first placement (no task owned), the
    /// registrations' watch fired since they were listed. Consumes the
    /// event: the caller lists them again.
    fn joined_while_reading(&mut self) -> bool {
        let cold = self
            .owners
            .as_ref()
            .is_some_and(|o| o.records.is_empty() && o.malformed.is_empty());
        cold && self.settle.settling(Instant::now())
            && self
                .workers
                .as_mut()
                .and_then(|l| l.watch.as_mut())
                .is_some_and(|w| w.now_or_never().is_some())
    }

    /// Resolves when an input changed or a recheck or re-read is due.
    pub fn changed(&mut self) -> impl Future<Output = ()> + '_ {
        let recheck = match (self.recheck_at, self.resync_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut sleep = recheck.map(|at| Box::pin(tokio::time::sleep_until(at)));
        futures::future::poll_fn(move |cx| {
            if let Some(s) = sleep.as_mut()
                && s.as_mut().poll(cx).is_ready()
            {
                return Poll::Ready(());
            }
            let mut fired = false;
            if let Some(w) = self.workers.as_mut().and_then(|l| l.watch.as_mut()) {
                fired |= Pin::new(w).poll(cx).is_ready();
                if fired {
                    self.workers = None;
                }
            }
            if let Some(tasks) = &mut self.tasks {
                fired |= tasks.poll_fired(cx).is_ready();
            }
            if let Some(owners) = &mut self.owners {
                fired |= owners.poll_fired(cx).is_ready();
            }
            fired |= self.drained.poll_fired(cx).is_ready();
            if fired {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// Re-reads stale inputs, computes the target, publishes what changed.
    pub async fn round(&mut self, member: &Member) -> Result<()> {
        let store = &*member.store;
        let layout = &member.layout;
        if self.resync_at.is_none_or(|at| Instant::now() >= at) {
            // Everything, the published targets included: a target
            // changed by hand is written again.
            self.invalidate();
            self.resync_at = Some(Instant::now() + self.resync_every);
        }
        if self.workers.is_none() {
            self.workers = Some(view::workers(store, layout, true).await?);
        }
        match &mut self.tasks {
            None => self.tasks = Some(TaskView::read(store, layout).await?),
            Some(tasks) => {
                let refresh = tasks.refresh(store, layout).await?;
                debug!(?refresh, "tasks refreshed");
            }
        }
        match &mut self.owners {
            None => self.owners = Some(OwnerView::read(store, layout).await?),
            Some(owners) => {
                let read = owners.refresh(store, layout).await?;
                debug!(read, "ownership records refreshed");
            }
        }
        if self.drained.stale() {
            self.drained.read(store, layout).await?;
        }
        self.load_published(member).await?;
        if self.joined_while_reading() {
            // The registrations changed while the other inputs were read:
            // before the first placement, list them again at once (the
            // join settle counts from the listing).
            debug!("workers joined or left while the inputs were read");
            self.workers = None;
            self.recheck_at = Some(Instant::now());
            return Ok(());
        }
        let (Some(workers), Some(task_view), Some(owners)) =
            (&self.workers, &self.tasks, &self.owners)
        else {
            return Ok(());
        };
        self.told.report_all(
            &member.events,
            workers
                .malformed
                .values()
                .chain(task_view.malformed.values())
                .chain(&task_view.log)
                .chain(owners.malformed.values())
                .chain(&self.published_malformed),
        );
        let frozen: BTreeSet<TaskId> = task_view
            .malformed
            .keys()
            .chain(owners.malformed.keys())
            .cloned()
            .collect();
        let listed_at = workers.listed_at;
        let workers = &workers.records;
        let tasks = &task_view.records;
        let now = Instant::now();
        let ages = self.ages.update(
            workers.iter().map(|(id, (rec, _))| (id, rec)),
            self.published.as_ref(),
        );
        // A drained worker is live (it keeps its empty target) but the
        // strategy does not see it, so its tasks move to the others.
        let live: Vec<WorkerInfo> = workers
            .iter()
            .filter(|(id, _)| !self.drained.workers.contains(*id))
            .map(|(id, (rec, _))| WorkerInfo {
                id: id.clone(),
                capacity: rec.capacity,
                tags: rec.tags.clone(),
                age: ages.get(id).copied().unwrap_or_default(),
            })
            .collect();
        let live_ids: Vec<WorkerId> = workers.keys().cloned().collect();
        if let Some(at) = self.settle.hold(
            &live_ids,
            listed_at,
            !owners.records.is_empty() || !owners.malformed.is_empty(),
            now,
        ) {
            debug!(
                workers = live_ids.len(),
                "first placement held until the joins settle"
            );
            self.recheck_at = Some(at);
            return Ok(());
        }
        let task_infos: Vec<TaskInfo> = tasks
            .iter()
            .filter(|(id, (rec, _))| !rec.paused && !rec.done && !frozen.contains(*id))
            .map(|(id, (rec, _))| TaskInfo {
                id: id.clone(),
                weight: rec.weight,
                tags: rec.tags.clone(),
                pinned: rec.pinned.clone(),
            })
            .collect();
        let planned = self.standby.successors(&live_ids);
        let current = current_placement(
            owners,
            self.published.as_ref(),
            &live_ids,
            &frozen,
            &planned,
        );
        let input = StrategyInput {
            workers: &live,
            tasks: &task_infos,
            current: &current,
        };
        let target = self.strategy.assign(&input);
        self.recheck_at = target.recheck_after.map(|d| now + d);
        let revisions: BTreeMap<TaskId, Revision> = tasks
            .iter()
            .map(|(id, (_, node))| (id.clone(), Revision::of(node)))
            .collect();
        let decision = Decision {
            live: &live_ids,
            target: &target,
            tasks: &task_infos,
            revisions: &revisions,
            frozen: &frozen,
        };
        // Plans the strategy answers quickly go with the placement (one
        // write per target). Slower ones follow it: the placement first,
        // with the plans still true of it, then the plans for it, once
        // computed (they delay no move).
        let stale = self.standby.stale(&target.placements, &live);
        if stale && self.standby.quick() {
            self.compute_standby(&live, &task_infos, &target.placements, &revisions);
        }
        let kept = self.standby.still_true(&target.placements, &revisions);
        self.publish(member, &decision, &kept).await?;
        if self.standby.stale(&target.placements, &live) {
            self.compute_standby(&live, &task_infos, &target.placements, &revisions);
            let plans = self.standby.plans().clone();
            self.publish(member, &decision, &plans).await?;
        }
        Ok(())
    }

    /// Computes the standby plans for `placed` with the strategy.
    fn compute_standby(
        &mut self,
        live: &[WorkerInfo],
        tasks: &[TaskInfo],
        placed: &Assignment,
        revisions: &BTreeMap<TaskId, Revision>,
    ) {
        let strategy = Arc::clone(&self.strategy);
        self.standby
            .compute(&*strategy, live, tasks, placed, revisions);
    }
}

/// Where each task is now, as the strategy sees it: where this leader
/// last placed it, if that worker is still live, else who holds it.
///
/// The published target wins over the ownership record because the record
/// lags the target: a claim or a handoff the leader asked for may still be
/// on its way when the next round reads the records (another task was
/// added meanwhile). Read from the records alone, the round would see the
/// task unplaced, or still on the worker it is leaving, place it afresh
/// and undo the move it has just asked for; a worker following both
/// targets in turn would start and stop the task again and again. A task
/// on no live worker's target (open tasks, tasks of departed workers) is
/// where its record says, and a task whose record names no live worker
/// (its owner has just left) is where the standby plan put it (`planned`),
/// claimed there yet or not: the strategy then sees the placement the plan
/// was computed to become, and keeps it.
fn current_placement(
    owners: &OwnerView,
    published: Option<&Published>,
    live: &[WorkerId],
    frozen: &BTreeSet<TaskId>,
    planned: &BTreeMap<TaskId, WorkerId>,
) -> Assignment {
    let mut current: Assignment = owners
        .records
        .iter()
        .filter(|(t, _)| !frozen.contains(*t))
        .map(|(t, (rec, _))| (t.clone(), rec.worker.clone()))
        .collect();
    for (worker, target) in published.into_iter().flatten() {
        let Some(target) = target.as_ref().filter(|_| live.contains(worker)) else {
            continue;
        };
        for task in target.tasks.keys().filter(|t| !frozen.contains(*t)) {
            current.insert(task.clone(), worker.clone());
        }
    }
    for (task, successor) in planned {
        if !frozen.contains(task) && current.get(task).is_none_or(|w| !live.contains(w)) {
            current.insert(task.clone(), successor.clone());
        }
    }
    current
}

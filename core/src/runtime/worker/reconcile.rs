//! The reconciler: makes what this worker runs match what the leader wants.
//!
//! Level-triggered: every wake-up (a watch fired, the session changed, a
//! handler exited, the heartbeat tick) re-reads only what changed and then
//! compares wanted with held. Watches it arms: its own target node, the open
//! list, and the ownership record of each wanted task that another worker
//! still holds: O(own tasks), never O(all tasks).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::claim::{self, ClaimError};
use crate::runtime::events::StopReason;
use crate::runtime::records::{
    OpenRecord, OwnerRecord, TargetRecord, TaskRecord, WorkerRecord, decode, encode, now_ms,
};
use crate::runtime::worker::runner::Exited;
use crate::runtime::worker::{Inner, retry_pause};
use crate::store::{CreateMode, SessionId, SessionState, Version, Watch, WatchEvent};

/// A task this worker holds an ownership record for.
pub(super) struct Held {
    pub token: u64,
    pub record_version: Version,
    pub task_version: u64,
    /// The task version the target last asked for, once acted on: a
    /// target that lags behind the task node (the leader has not seen the
    /// change yet) is acted on once, not on every pass.
    pub target_version: Option<u64>,
    /// `None` until the task has been read after the claim (a claim whose
    /// follow-up read failed is still tracked, so it is never forgotten
    /// while its record holds the task).
    pub payload: Option<Arc<[u8]>>,
    /// Whether a handler already ran with `token`: every handler start gets
    /// a token of its own, so a restart re-confirms the claim first.
    pub used: bool,
}

/// When a handler that ended by itself may be restarted.
struct Restart {
    attempts: u32,
    not_before: Instant,
}

/// Every this many heartbeats, everything is re-read even without a watch
/// firing (heals a lost watch event). The leader's period is
/// [`Timing::leader_resync`](crate::Timing::leader_resync).
pub(crate) const RESYNC_EVERY: u32 = 12;

pub(crate) struct Reconciler {
    pub(super) inner: Arc<Inner>,
    exits: mpsc::UnboundedReceiver<Exited>,
    pub(super) held: BTreeMap<TaskId, Held>,
    /// Tasks whose ownership record may be ours although not in `held`: a
    /// claim or reclaim whose answer never came (lost, timed out, or the
    /// request was abandoned), or a claim forgotten on re-registration.
    /// Each is read and, if it is a record of this worker's session,
    /// released (see `unsure.rs`).
    pub(super) unsure: BTreeSet<TaskId>,
    desired: BTreeMap<TaskId, u64>,
    open: OpenRecord,
    target_watch: Option<Watch>,
    open_watch: Option<Watch>,
    owner_watches: BTreeMap<TaskId, Watch>,
    register_watch: Option<Watch>,
    restarts: BTreeMap<TaskId, Restart>,
    next_heartbeat: Instant,
    heartbeats: u32,
}

impl Reconciler {
    pub fn new(inner: Arc<Inner>, exits: mpsc::UnboundedReceiver<Exited>) -> Self {
        Reconciler {
            inner,
            exits,
            held: BTreeMap::new(),
            unsure: BTreeSet::new(),
            desired: BTreeMap::new(),
            open: OpenRecord::default(),
            target_watch: None,
            open_watch: None,
            owner_watches: BTreeMap::new(),
            register_watch: None,
            restarts: BTreeMap::new(),
            next_heartbeat: Instant::now(),
            heartbeats: 0,
        }
    }

    pub async fn run(mut self) -> Result<()> {
        let mut failures = 0u32;
        while !self.inner.shutdown.is_cancelled() {
            if self.inner.kill.is_cancelled() {
                return Ok(());
            }
            // A shutdown does not wait for a step (whose requests may hang
            // on a cut connection): a claim or reclaim abandoned half-way
            // is in `unsure`, which the handoff resolves.
            let shutdown = self.inner.shutdown.clone();
            let stepped = tokio::select! {
                r = self.step() => r,
                _ = shutdown.cancelled() => break,
            };
            match stepped {
                Ok(()) => failures = 0,
                Err(Error::Closed) => return Err(Error::Closed),
                Err(e) => {
                    failures = failures.saturating_add(1);
                    debug!(error = %e, "reconcile step failed; retrying");
                    self.forget_watches();
                    let pause = retry_pause(failures, self.inner.timing.heartbeat);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
            self.wait().await;
        }
        self.handoff().await;
        Ok(())
    }

    fn forget_watches(&mut self) {
        self.target_watch = None;
        self.open_watch = None;
        self.owner_watches.clear();
    }

    /// One pass: check the session, refresh what changed, converge.
    async fn step(&mut self) -> Result<()> {
        self.reap_exits().await;
        let session = match self.inner.store.session_state() {
            SessionState::Connected(s) => s,
            SessionState::Closed => return Err(Error::Closed),
            _ => return Ok(()), // the guard has fenced; wait for the session
        };
        if self.inner.liveness.session() != Some(session) && !self.register(session).await? {
            return Ok(());
        }
        if Instant::now() >= self.next_heartbeat {
            self.heartbeat(session).await?;
        }
        if self.inner.runner.is_fenced() {
            if !self.inner.session_safe() {
                return Ok(());
            }
            self.reconfirm(session).await?;
            self.inner.runner.unfence();
        }
        self.settle_unsure(session).await?;
        self.refresh_wanted(session).await?;
        self.converge(session).await
    }

    /// A store call bounded by the session timeout (a request hung on a
    /// cut connection fails with [`Error::Timeout`]).
    pub(super) async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let after = self.inner.timing.session_timeout;
        tokio::time::timeout(after, call)
            .await
            .map_err(|_| Error::Timeout {
                operation: "store request".into(),
                after,
            })?
    }

    /// A store call whose answer proves the session alive at its send time.
    pub(super) async fn timed<T>(
        &self,
        session: SessionId,
        call: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let sent = Instant::now();
        let out = self.bounded(call).await?;
        self.inner.liveness.answered(session, sent);
        Ok(out)
    }

    /// Registers this worker under a new session. Returns false when the
    /// name is still held by an earlier session (it waits for it to end).
    async fn register(&mut self, session: SessionId) -> Result<bool> {
        self.inner.runner.fence(StopReason::SessionLost).await;
        // Records of this session stay in the store (a registration
        // deleted by hand): released by `settle_unsure` once registered.
        let forgotten = std::mem::take(&mut self.held);
        self.unsure.extend(forgotten.into_keys());
        self.desired.clear();
        self.open = OpenRecord::default();
        self.forget_watches();
        if self.register_watch.is_some() && Instant::now() < self.next_heartbeat {
            // The earlier registration has not gone yet (`wait` clears the
            // watch when it fires, and the heartbeat tick tries again in
            // case its event was lost).
            return Ok(false);
        }
        let waited = self.register_watch.take().is_some();
        let inner = self.inner.clone();
        let record = WorkerRecord {
            session: session.0,
            capacity: inner.capacity,
            tags: inner.tags.clone(),
            since_ms: now_ms(),
        };
        let path = inner.layout.worker(&inner.id);
        match self
            .bounded(
                inner
                    .store
                    .create(&path, &encode(&record)?, CreateMode::Ephemeral(session)),
            )
            .await
        {
            Ok(_) => {}
            Err(Error::AlreadyExists { .. }) => {
                let (node, watch) = self.bounded(inner.store.get_and_watch(&path)).await?;
                match node {
                    Some(n) if n.ephemeral_owner == Some(session) => {}
                    Some(_) => {
                        if !waited {
                            warn!(worker = %inner.id, "worker name still registered by an earlier session; waiting for it to end");
                        }
                        self.register_watch = Some(watch);
                        // No heartbeat runs until registered: without this
                        // the overdue tick would wake `wait` at once, in a
                        // loop that never lets the earlier session end.
                        self.next_heartbeat = Instant::now() + inner.timing.heartbeat;
                        return Ok(false);
                    }
                    None => return Ok(false), // gone meanwhile: retry at once
                }
            }
            Err(e) => return Err(e),
        }
        info!(worker = %inner.id, %session, "registered");
        inner.liveness.set_session(Some(session));
        self.heartbeat(session).await?;
        inner.runner.unfence();
        Ok(true)
    }

    /// Proves the session alive and checks the registration still exists.
    async fn heartbeat(&mut self, session: SessionId) -> Result<()> {
        let path = self.inner.layout.worker(&self.inner.id);
        let node = self.timed(session, self.inner.store.get(&path)).await?;
        self.next_heartbeat = Instant::now() + self.inner.timing.heartbeat;
        self.heartbeats = self.heartbeats.wrapping_add(1);
        if self.heartbeats.is_multiple_of(RESYNC_EVERY) {
            self.forget_watches();
        }
        match node {
            Some(n) if n.ephemeral_owner == Some(session) => Ok(()),
            // Deleted by hand, or we are shutting down: register again
            // unless leaving.
            _ if self.inner.shutdown.is_cancelled() => Ok(()),
            _ => {
                self.inner.liveness.set_session(None);
                Err(Error::NotFound {
                    path: path.to_string(),
                })
            }
        }
    }

    /// After a fence within the same session: every record still ours gets
    /// a new token by compare-and-set; the others are forgotten.
    async fn reconfirm(&mut self, session: SessionId) -> Result<()> {
        let tasks: Vec<TaskId> = self.held.keys().cloned().collect();
        for task in tasks {
            self.reconfirm_one(session, &task).await?;
        }
        Ok(())
    }

    /// Gives a held claim a new token by compare-and-set, or forgets it if
    /// the record is no longer at the version held (it may still be ours,
    /// changed by a reclaim whose answer was lost: it stays unsure).
    async fn reconfirm_one(&mut self, session: SessionId, task: &TaskId) -> Result<()> {
        let Some(held_version) = self.held.get(task).map(|h| h.record_version) else {
            return Ok(());
        };
        let inner = self.inner.clone();
        // Unsure until answered: the reclaim may apply and its answer be
        // lost, or this future be dropped by a shutdown.
        self.unsure.insert(task.clone());
        let renewed = self
            .timed(
                session,
                claim::reclaim(
                    &*inner.store,
                    &inner.layout,
                    task,
                    &inner.id,
                    session,
                    held_version,
                ),
            )
            .await?;
        match renewed {
            Some(c) => {
                self.unsure.remove(task);
                if let Some(h) = self.held.get_mut(task) {
                    h.token = c.token;
                    h.record_version = c.record_version;
                    h.used = false;
                }
            }
            None => {
                self.held.remove(task);
            }
        }
        Ok(())
    }

    /// Re-reads the target and the open list if their watches fired.
    async fn refresh_wanted(&mut self, session: SessionId) -> Result<()> {
        let inner = self.inner.clone();
        if self.target_watch.is_none() {
            let path = inner.layout.target(&inner.id);
            let (node, watch) = self
                .timed(session, inner.store.get_and_watch(&path))
                .await?;
            self.desired = match node {
                Some(n) => decode::<TargetRecord>("target", &n.data)?.tasks,
                None => BTreeMap::new(),
            };
            self.target_watch = Some(watch);
        }
        if self.open_watch.is_none() {
            let (node, watch) = self
                .timed(session, inner.store.get_and_watch(inner.layout.open()))
                .await?;
            self.open = match node {
                Some(n) if !n.data.is_empty() => decode("open", &n.data)?,
                _ => OpenRecord::default(),
            };
            self.open_watch = Some(watch);
        }
        Ok(())
    }

    /// Task → the task version wanted here.
    fn wanted(&self) -> BTreeMap<TaskId, u64> {
        let mut wanted = self.desired.clone();
        for (task, open) in &self.open.tasks {
            let eligible = open.pinned.as_ref().is_none_or(|p| *p == self.inner.id)
                && open.tags.iter().all(|t| self.inner.tags.contains(t));
            if eligible {
                wanted.entry(task.clone()).or_insert(open.version);
            }
        }
        wanted
    }

    async fn converge(&mut self, session: SessionId) -> Result<()> {
        let wanted = self.wanted();
        let inner = self.inner.clone();
        // Release what is no longer wanted here.
        let unwanted: Vec<TaskId> = self
            .held
            .keys()
            .filter(|t| !wanted.contains_key(*t))
            .cloned()
            .collect();
        for task in unwanted {
            inner.runner.stop(&task, StopReason::Unassigned).await;
            if let Some(h) = self.held.get(&task) {
                let (token, version) = (h.token, h.record_version);
                // Forgotten only once released: a record left behind would
                // hold the task until the session ends.
                self.timed(
                    session,
                    claim::release(&*inner.store, &inner.layout, &task, version),
                )
                .await?;
                self.held.remove(&task);
                info!(task = %task, token, "released");
            }
            self.restarts.remove(&task);
        }
        // Restart handlers whose task changed: the target names a version
        // other than the one the handler runs with. The task node is the
        // truth (the target may lag behind it), so the handler restarts
        // only if the node's version differs from the handler's.
        let changed: Vec<(TaskId, u64)> = self
            .held
            .iter()
            .filter_map(|(t, h)| {
                let v = *wanted.get(t)?;
                let stale = v != h.task_version && h.target_version != Some(v);
                (stale || h.payload.is_none()).then(|| (t.clone(), v))
            })
            .collect();
        for (task, target_version) in changed {
            let Some((payload, version)) = self.read_task(session, &task).await? else {
                continue; // removed: the next target drops it
            };
            if let Some(h) = self.held.get_mut(&task) {
                h.target_version = Some(target_version);
                if version != h.task_version || h.payload.is_none() {
                    inner.runner.stop(&task, StopReason::Updated).await;
                    h.payload = Some(payload);
                    h.task_version = version;
                }
            }
        }
        // Claim what is wanted and not held.
        let open_only: BTreeSet<&TaskId> = wanted
            .keys()
            .filter(|t| !self.desired.contains_key(*t))
            .collect();
        let to_claim: Vec<TaskId> = wanted
            .keys()
            .filter(|t| !self.held.contains_key(*t) && !self.owner_watches.contains_key(*t))
            .cloned()
            .collect();
        for task in to_claim {
            let open = open_only.contains(&task);
            self.try_claim(session, &task, open).await?;
        }
        self.owner_watches.retain(|t, _| wanted.contains_key(t));
        // Start handlers that are not running.
        let now = Instant::now();
        let idle: Vec<TaskId> = self
            .held
            .keys()
            .filter(|t| !inner.runner.is_running(t))
            .filter(|t| self.restarts.get(*t).is_none_or(|r| now >= r.not_before))
            .cloned()
            .collect();
        for task in idle {
            if !inner.session_safe() {
                break;
            }
            if self.held.get(&task).is_some_and(|h| h.used) {
                self.reconfirm_one(session, &task).await?;
            }
            if let Some(h) = self.held.get_mut(&task)
                && let Some(payload) = h.payload.clone()
                && inner.runner.start(&task, payload, h.token)
            {
                h.used = true;
            }
        }
        Ok(())
    }

    async fn try_claim(&mut self, session: SessionId, task: &TaskId, open: bool) -> Result<()> {
        let inner = self.inner.clone();
        // Unsure until answered: the claim may apply and its answer be
        // lost, or this future be dropped by a shutdown.
        self.unsure.insert(task.clone());
        let result = self
            .timed(session, async {
                Ok(claim::claim(&*inner.store, &inner.layout, task, &inner.id, session).await)
            })
            .await?;
        if !matches!(result, Err(ClaimError::Store(_))) {
            self.unsure.remove(task);
        }
        match result {
            Ok(c) => {
                info!(task = %task, token = c.token, "claimed");
                self.hold(session, task, c).await
            }
            Err(ClaimError::Owned) => {
                let (node, watch) = self
                    .timed(
                        session,
                        inner.store.get_and_watch(&inner.layout.owner(task)),
                    )
                    .await?;
                if let Some(node) = node {
                    let record: OwnerRecord = decode("ownership", &node.data)?;
                    if record.worker == inner.id && node.ephemeral_owner == Some(session) {
                        // Our own record that we do not hold (an answer
                        // lost before it could be tracked): released at
                        // once, then claimed afresh.
                        self.unsure.insert(task.clone());
                        self.next_heartbeat = self.next_heartbeat.min(Instant::now());
                        return Ok(());
                    }
                    if !open {
                        // Wait for the current owner to let go.
                        self.owner_watches.insert(task.clone(), watch);
                    }
                } else {
                    // Released meanwhile: a zero-delay wake-up retries.
                    self.next_heartbeat = self.next_heartbeat.min(Instant::now());
                }
                Ok(())
            }
            Err(ClaimError::NoTask) => Ok(()),
            Err(ClaimError::Store(e)) => Err(e),
        }
    }

    /// Tracks a claim just made, then reads the task. The claim is tracked
    /// first so that a failed read cannot make the worker forget a record
    /// that holds the task (the next pass reads it again). A task removed
    /// meanwhile is released.
    async fn hold(&mut self, session: SessionId, task: &TaskId, c: claim::Claim) -> Result<()> {
        self.held.insert(
            task.clone(),
            Held {
                token: c.token,
                record_version: c.record_version,
                task_version: 0,
                target_version: None,
                payload: None,
                used: false,
            },
        );
        match self.read_task(session, task).await? {
            Some((payload, version)) => {
                if let Some(h) = self.held.get_mut(task) {
                    h.payload = Some(payload);
                    h.task_version = version;
                }
            }
            None => {
                let inner = self.inner.clone();
                self.timed(
                    session,
                    claim::release(&*inner.store, &inner.layout, task, c.record_version),
                )
                .await?;
                self.held.remove(task);
            }
        }
        Ok(())
    }

    async fn read_task(
        &self,
        session: SessionId,
        task: &TaskId,
    ) -> Result<Option<(Arc<[u8]>, u64)>> {
        let inner = &self.inner;
        let node = self
            .timed(session, inner.store.get(&inner.layout.task(task)))
            .await?;
        let Some(node) = node else { return Ok(None) };
        let record: TaskRecord = decode("task", &node.data)?;
        Ok(Some((record.payload_bytes()?.into(), node.version.0)))
    }

    async fn reap_exits(&mut self) {
        while let Ok(exit) = self.exits.try_recv() {
            self.note_exit(exit).await;
        }
    }

    /// A handler ended by itself: forget it and schedule its restart with
    /// exponential backoff (100 ms doubling up to 30 s) while the task is
    /// still ours.
    async fn note_exit(&mut self, exit: Exited) {
        let by_itself = self
            .inner
            .runner
            .reap(&exit.task, exit.token, StopReason::Exited)
            .await;
        if !by_itself {
            // The runtime stopped it (update, unassignment, fence): the
            // next start is not a restart after a failure.
            return;
        }
        let now = Instant::now();
        let r = self.restarts.entry(exit.task.clone()).or_insert(Restart {
            attempts: 0,
            not_before: now,
        });
        r.attempts = r.attempts.saturating_add(1);
        let backoff =
            Duration::from_millis(100u64 << r.attempts.min(9)).min(Duration::from_secs(30));
        r.not_before = now + backoff;
        if exit.failed {
            warn!(task = %exit.task, attempts = r.attempts, ?backoff, "handler failed; restarting after backoff");
        } else {
            info!(task = %exit.task, ?backoff, "handler returned; restarting after backoff");
        }
    }

    /// Sleeps until something may need doing.
    async fn wait(&mut self) {
        let now = Instant::now();
        // While disconnected no heartbeat can be sent: wait for the session
        // to change (or a heartbeat period) instead of spinning on an
        // overdue heartbeat.
        let mut wake = if self.inner.store.session_state().is_connected() {
            self.next_heartbeat
        } else {
            now + self.inner.timing.heartbeat
        };
        for r in self.restarts.values() {
            if r.not_before > now {
                wake = wake.min(r.not_before);
            }
        }
        let mut session = self.inner.store.session_events();
        session.borrow_and_update();
        // A handler still stopping (fenced by the guard) keeps its task
        // from starting again: wake when it is gone.
        let stops_pending = self.inner.runner.any_stopping();
        let runner = &self.inner.runner;
        let stops_done = async {
            if stops_pending {
                runner.stops_done().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let woke = {
            let owner_watches = &mut self.owner_watches;
            let fired_owner = futures::future::poll_fn(|cx| {
                for (task, w) in owner_watches.iter_mut() {
                    if Pin::new(w).poll(cx).is_ready() {
                        return Poll::Ready(task.clone());
                    }
                }
                Poll::Pending
            });
            tokio::select! {
                _ = self.inner.shutdown.cancelled() => Woke::Other,
                _ = self.inner.kill.cancelled() => Woke::Other,
                _ = session.changed() => Woke::Other,
                _ = tokio::time::sleep_until(wake) => Woke::Other,
                _ = stops_done => Woke::Other,
                _ = opt_watch(&mut self.target_watch) => Woke::Target,
                _ = opt_watch(&mut self.open_watch) => Woke::Open,
                _ = opt_watch(&mut self.register_watch) => Woke::Register,
                task = fired_owner => Woke::Owner(task),
                Some(exit) = self.exits.recv() => Woke::Exit(exit),
            }
        };
        match woke {
            Woke::Target => self.target_watch = None,
            Woke::Open => self.open_watch = None,
            Woke::Register => self.register_watch = None,
            Woke::Owner(task) => {
                self.owner_watches.remove(&task);
            }
            Woke::Exit(exit) => self.note_exit(exit).await,
            Woke::Other => {}
        }
    }
}

enum Woke {
    Target,
    Open,
    Register,
    Owner(TaskId),
    Exit(Exited),
    Other,
}

/// Resolves when the watch fires, or never if there is none.
async fn opt_watch(w: &mut Option<Watch>) -> WatchEvent {
    match w {
        Some(w) => Pin::new(w).await,
        None => std::future::pending().await,
    }
}

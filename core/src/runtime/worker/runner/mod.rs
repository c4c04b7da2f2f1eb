//! The handlers a worker is running: start, stop within a deadline, fence.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};

use crate::ids::{TaskId, WorkerId};
use crate::runtime::events::{StopReason, WorkerEvent};
use crate::runtime::handler::{StopDeadline, TaskContext, TaskHandler};
use crate::runtime::worker::clock::SessionClock;

mod stop;

pub(crate) use stop::PendingStop;

struct Running {
    token: u64,
    cancel: CancellationToken,
    join: JoinHandle<()>,
    /// When it started, for its run time.
    started: tokio::time::Instant,
}

/// A handler being stopped: out of the running set, but its tokio task may
/// still run (cancelled, within its stop timeout).
struct Stopping {
    task: TaskId,
    token: u64,
    abort: AbortHandle,
}

/// A handler that ended by itself.
#[derive(Debug)]
pub(crate) struct Exited {
    pub task: TaskId,
    pub token: u64,
    pub failed: bool,
    /// The handler returned `Ok` after [`TaskContext::mark_done`].
    pub done: bool,
}

/// The running handlers of one worker.
pub(crate) struct Runner {
    worker: WorkerId,
    handler: Arc<dyn TaskHandler>,
    stop_timeout: Duration,
    clock: Arc<SessionClock>,
    running: Mutex<BTreeMap<TaskId, Running>>,
    /// Handlers being stopped, by a serial number of the stop. A task with
    /// a handler here is not started again until that handler is gone.
    stopping: watch::Sender<BTreeMap<u64, Stopping>>,
    next_stop: AtomicU64,
    /// Since when the runner is fenced, if it is.
    fenced: Mutex<Option<tokio::time::Instant>>,
    /// Whether the fence was ever lifted (the worker registered once):
    /// only then does a fence count in `tenure_fences_total`. A fresh
    /// worker fences before its first registration with nothing to stop.
    armed: AtomicBool,
    /// Counts the lifts of the fence, so the guard re-checks the stop
    /// instant when handlers may start again.
    unfenced: watch::Sender<u64>,
    /// Counts the stops that ended, so the reconciler releases a task (or
    /// starts it again) as soon as its handler is gone.
    stops_ended: watch::Sender<u64>,
    events: broadcast::Sender<WorkerEvent>,
    exits: mpsc::UnboundedSender<Exited>,
}

impl Runner {
    pub fn new(
        worker: WorkerId,
        handler: Arc<dyn TaskHandler>,
        stop_timeout: Duration,
        clock: Arc<SessionClock>,
        events: broadcast::Sender<WorkerEvent>,
    ) -> (Self, mpsc::UnboundedReceiver<Exited>) {
        let (exits, exit_rx) = mpsc::unbounded_channel();
        let runner = Runner {
            worker,
            handler,
            stop_timeout,
            clock,
            running: Mutex::new(BTreeMap::new()),
            stopping: watch::Sender::new(BTreeMap::new()),
            next_stop: AtomicU64::new(0),
            fenced: Mutex::new(None),
            armed: AtomicBool::new(false),
            unfenced: watch::Sender::new(0),
            stops_ended: watch::Sender::new(0),
            events,
            exits,
        };
        (runner, exit_rx)
    }

    /// Starts the handler of `task` unless the runner is fenced or the task
    /// already runs (or an earlier handler of it is still stopping).
    /// Returns whether it started.
    pub fn start(&self, task: &TaskId, payload: Arc<[u8]>, token: u64) -> bool {
        let fenced = lock(&self.fenced);
        if fenced.is_some() {
            return false;
        }
        // Handlers start only under the session the worker runs under.
        let Some(session) = self.clock.session() else {
            return false;
        };
        let mut running = lock(&self.running);
        if running.contains_key(task) || self.is_stopping(task) {
            return false;
        }
        let cancel = CancellationToken::new();
        let ctx = TaskContext::new(
            task.clone(),
            self.worker.clone(),
            payload,
            token,
            cancel.clone(),
        )
        .with_deadline({
            let clock = self.clock.clone();
            StopDeadline::new(move || clock.gone_by(session))
        });
        let handler = self.handler.clone();
        let exits = self.exits.clone();
        let outcome = ctx.clone();
        let id = task.clone();
        let span = info_span!("task", worker = %self.worker, task = %task, token);
        let join = tokio::spawn(
            async move {
                let result = handler.run(ctx).await;
                if let Err(e) = &result {
                    warn!(error = %e, "handler failed");
                }
                let _ = exits.send(Exited {
                    task: id,
                    token,
                    failed: result.is_err(),
                    done: result.is_ok() && outcome.is_marked_done(),
                });
            }
            .instrument(span),
        );
        info!(worker = %self.worker, task = %task, token, "handler started");
        let _ = self.events.send(WorkerEvent::started(task.clone(), token));
        running.insert(
            task.clone(),
            Running {
                token,
                cancel,
                join,
                started: tokio::time::Instant::now(),
            },
        );
        true
    }

    /// Whether `task`'s handler runs (or is still stopping).
    pub fn is_running(&self, task: &TaskId) -> bool {
        lock(&self.running).contains_key(task) || self.is_stopping(task)
    }

    fn is_stopping(&self, task: &TaskId) -> bool {
        self.stopping.borrow().values().any(|s| s.task == *task)
    }

    /// Whether a handler runs that no stop has begun on.
    pub fn any_unstopped(&self) -> bool {
        !lock(&self.running).is_empty()
    }

    /// The tasks whose handlers run (including those still stopping) and
    /// their tokens.
    pub fn running(&self) -> BTreeMap<TaskId, u64> {
        let mut out: BTreeMap<TaskId, u64> = self
            .stopping
            .borrow()
            .values()
            .map(|s| (s.task.clone(), s.token))
            .collect();
        out.extend(
            lock(&self.running)
                .iter()
                .map(|(t, r)| (t.clone(), r.token)),
        );
        out
    }

    /// Stops `task`'s handler: cancels it, waits up to the stop timeout,
    /// then drops its future, and waits until it is gone. Also waits for a
    /// stop of it already under way (by the guard's fence), so that when
    /// this returns no handler of `task` runs here.
    pub async fn stop(&self, task: &TaskId, reason: StopReason) {
        let entry = lock(&self.running).remove(task);
        if let Some(r) = entry {
            self.finish(task, r, reason).await;
        }
        let mut stopping = self.stopping.subscribe();
        let _ = stopping
            .wait_for(|s| s.values().all(|s| s.task != *task))
            .await;
    }

    /// Begins stopping `task`'s handler without waiting for it: the handler
    /// leaves the running set and enters the stopping set at once (so it is
    /// not started again meanwhile); the returned stop, run to its end
    /// (usually on a task of its own), cancels it, waits up to the stop
    /// timeout and drops it. `None` if no handler of `task` runs.
    pub fn begin_stop(&self, task: &TaskId, reason: StopReason) -> Option<PendingStop> {
        let r = lock(&self.running).remove(task)?;
        Some(self.pending(task, r, reason))
    }

    /// Changes whenever a stop ends.
    pub fn stops_ended(&self) -> watch::Receiver<u64> {
        self.stops_ended.subscribe()
    }

    /// Resolves once no handler is stopping (at once if none is).
    pub async fn stops_done(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(BTreeMap::is_empty).await;
    }

    /// Forgets a handler that ended by itself (after an [`Exited`]).
    /// Returns false if it was no longer running (the runtime had stopped
    /// it), true if it ended by itself. Its tokio task sends the
    /// [`Exited`] just before it ends, so it may still be finishing:
    /// `finish` waits for it.
    pub async fn reap(&self, task: &TaskId, token: u64, reason: StopReason) -> bool {
        let entry = {
            let mut running = lock(&self.running);
            match running.get(task) {
                Some(r) if r.token == token => running.remove(task),
                _ => None,
            }
        };
        match entry {
            Some(r) => {
                self.finish(task, r, reason).await;
                true
            }
            None => false,
        }
    }

    /// Fences the runner: refuses to start any handler until
    /// [`Runner::unfence`], and begins stopping every running handler
    /// without waiting for them: run each returned stop to its end (on a
    /// task of its own). Used when the session may be ending; the caller
    /// keeps watching the clock meanwhile.
    #[must_use = "every returned stop must be completed"]
    pub fn fence(&self, reason: StopReason) -> Vec<PendingStop> {
        {
            let mut fenced = lock(&self.fenced);
            if fenced.is_none() {
                *fenced = Some(tokio::time::Instant::now());
                if self.armed.load(Ordering::Relaxed) {
                    crate::metrics::fenced(reason);
                }
            }
        }
        let all = std::mem::take(&mut *lock(&self.running));
        all.into_iter()
            .map(|(task, r)| self.pending(&task, r, reason))
            .collect()
    }

    /// Fences the runner and waits until no handler runs (including those
    /// another caller was already stopping).
    pub async fn fence_and_stop(&self, reason: StopReason) {
        let stops = self.fence(reason);
        futures::future::join_all(stops.into_iter().map(|s| self.complete(s))).await;
        self.stops_done().await;
    }

    /// Allows handlers to start again.
    pub fn unfence(&self) {
        *lock(&self.fenced) = None;
        self.armed.store(true, Ordering::Relaxed);
        self.unfenced.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever the fence is lifted.
    pub fn unfences(&self) -> watch::Receiver<u64> {
        self.unfenced.subscribe()
    }

    /// Whether the runner is fenced.
    pub fn is_fenced(&self) -> bool {
        lock(&self.fenced).is_some()
    }

    /// Since when the runner is fenced, if it is.
    pub fn fenced_since(&self) -> Option<tokio::time::Instant> {
        *lock(&self.fenced)
    }

    /// Stops every handler, all at once; returns when none runs (including
    /// those another caller was already stopping).
    pub async fn stop_all(&self, reason: StopReason) {
        let all: Vec<(TaskId, Running)> = std::mem::take(&mut *lock(&self.running))
            .into_iter()
            .collect();
        let stops = all
            .into_iter()
            .map(|(task, r)| async move { self.finish(&task, r, reason).await });
        futures::future::join_all(stops).await;
        self.stops_done().await;
    }

    /// Drops every handler at once, without cancellation or waiting (a
    /// simulated crash), including those being stopped.
    pub fn abort_all(&self) {
        lock(&self.fenced).get_or_insert_with(tokio::time::Instant::now);
        for (task, r) in std::mem::take(&mut *lock(&self.running)) {
            r.join.abort();
            crate::metrics::handler_stopped(StopReason::SessionLost, r.started.elapsed());
            let _ = self
                .events
                .send(WorkerEvent::stopped(task, r.token, StopReason::SessionLost));
        }
        for s in self.stopping.borrow().values() {
            s.abort.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps inconsistent
    // (every critical section is a single insert/remove), so recover.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

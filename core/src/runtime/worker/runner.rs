//! The handlers a worker is running: start, stop within a deadline, fence.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};

use crate::ids::{TaskId, WorkerId};
use crate::runtime::events::{StopReason, WorkerEvent};
use crate::runtime::handler::{TaskContext, TaskHandler};

struct Running {
    token: u64,
    cancel: CancellationToken,
    join: JoinHandle<()>,
}

/// A handler that ended by itself.
#[derive(Debug)]
pub(crate) struct Exited {
    pub task: TaskId,
    pub token: u64,
    pub failed: bool,
}

/// The running handlers of one worker.
pub(crate) struct Runner {
    worker: WorkerId,
    handler: Arc<dyn TaskHandler>,
    stop_timeout: Duration,
    running: Mutex<BTreeMap<TaskId, Running>>,
    fenced: Mutex<bool>,
    events: broadcast::Sender<WorkerEvent>,
    exits: mpsc::UnboundedSender<Exited>,
}

impl Runner {
    pub fn new(
        worker: WorkerId,
        handler: Arc<dyn TaskHandler>,
        stop_timeout: Duration,
        events: broadcast::Sender<WorkerEvent>,
    ) -> (Self, mpsc::UnboundedReceiver<Exited>) {
        let (exits, exit_rx) = mpsc::unbounded_channel();
        let runner = Runner {
            worker,
            handler,
            stop_timeout,
            running: Mutex::new(BTreeMap::new()),
            fenced: Mutex::new(false),
            events,
            exits,
        };
        (runner, exit_rx)
    }

    /// Starts the handler of `task` unless the runner is fenced or the task
    /// already runs. Returns whether it started.
    pub fn start(&self, task: &TaskId, payload: Arc<[u8]>, token: u64) -> bool {
        let fenced = lock(&self.fenced);
        if *fenced {
            return false;
        }
        let mut running = lock(&self.running);
        if running.contains_key(task) {
            return false;
        }
        let cancel = CancellationToken::new();
        let ctx = TaskContext::new(
            task.clone(),
            self.worker.clone(),
            payload,
            token,
            cancel.clone(),
        );
        let handler = self.handler.clone();
        let exits = self.exits.clone();
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
            },
        );
        true
    }

    /// Whether `task`'s handler runs (or is still stopping).
    pub fn is_running(&self, task: &TaskId) -> bool {
        lock(&self.running).contains_key(task)
    }

    /// The running tasks and their tokens.
    pub fn running(&self) -> BTreeMap<TaskId, u64> {
        lock(&self.running)
            .iter()
            .map(|(t, r)| (t.clone(), r.token))
            .collect()
    }

    /// Stops `task`'s handler: cancels it, waits up to the stop timeout,
    /// then drops its future, and waits until it is gone.
    pub async fn stop(&self, task: &TaskId, reason: StopReason) {
        let entry = lock(&self.running).remove(task);
        if let Some(r) = entry {
            self.finish(task, r, reason).await;
        }
    }

    /// Forgets a handler that ended by itself (after an [`Exited`]).
    pub async fn reap(&self, task: &TaskId, token: u64, reason: StopReason) {
        let entry = {
            let mut running = lock(&self.running);
            match running.get(task) {
                Some(r) if r.token == token && r.join.is_finished() => running.remove(task),
                _ => None,
            }
        };
        if let Some(r) = entry {
            self.finish(task, r, reason).await;
        }
    }

    /// Stops every handler, all at once, and refuses to start any until
    /// [`Runner::unfence`]. Used when the session may be ending.
    pub async fn fence(&self, reason: StopReason) {
        *lock(&self.fenced) = true;
        self.stop_all(reason).await;
    }

    /// Allows handlers to start again.
    pub fn unfence(&self) {
        *lock(&self.fenced) = false;
    }

    /// Whether the runner is fenced.
    pub fn is_fenced(&self) -> bool {
        *lock(&self.fenced)
    }

    /// Stops every handler, all at once.
    pub async fn stop_all(&self, reason: StopReason) {
        let all: Vec<(TaskId, Running)> = std::mem::take(&mut *lock(&self.running))
            .into_iter()
            .collect();
        let stops = all
            .into_iter()
            .map(|(task, r)| async move { self.finish(&task, r, reason).await });
        futures::future::join_all(stops).await;
    }

    /// Drops every handler at once, without cancellation or waiting (a
    /// simulated crash).
    pub fn abort_all(&self) {
        *lock(&self.fenced) = true;
        for (task, r) in std::mem::take(&mut *lock(&self.running)) {
            r.join.abort();
            let _ = self
                .events
                .send(WorkerEvent::stopped(task, r.token, StopReason::SessionLost));
        }
    }

    async fn finish(&self, task: &TaskId, r: Running, reason: StopReason) {
        r.cancel.cancel();
        let mut join = r.join;
        let forced = tokio::time::timeout(self.stop_timeout, &mut join)
            .await
            .is_err();
        if forced {
            warn!(worker = %self.worker, task = %task, "handler ignored cancellation; dropping it");
            join.abort();
            let _ = join.await;
        }
        info!(worker = %self.worker, task = %task, token = r.token, ?reason, forced, "handler stopped");
        let _ = self
            .events
            .send(WorkerEvent::stopped(task.clone(), r.token, reason));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the maps inconsistent
    // (every critical section is a single insert/remove), so recover.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! A history of handler starts and stops, checked as it is written: the
//! ground truth of "who ran what", independent of the store's view.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tenure_core::{TaskContext, TaskId, WorkerId};

/// One entry of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A handler started.
    Start {
        /// When (tokio clock, ms since the history began).
        at_ms: u64,
        /// The task.
        task: TaskId,
        /// The worker.
        worker: WorkerId,
        /// Its fencing token.
        token: u64,
    },
    /// A handler ended (returned, or its future was dropped).
    Stop {
        /// When.
        at_ms: u64,
        /// The task.
        task: TaskId,
        /// The worker.
        worker: WorkerId,
        /// Its fencing token.
        token: u64,
    },
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    running: BTreeMap<TaskId, Vec<(WorkerId, u64)>>,
    last_token: BTreeMap<TaskId, u64>,
    violations: Vec<String>,
}

/// A shared, self-checking history.
#[derive(Clone)]
pub struct History {
    state: Arc<Mutex<State>>,
    origin: tokio::time::Instant,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    /// An empty history whose clock starts now.
    pub fn new() -> Self {
        History {
            state: Arc::default(),
            origin: tokio::time::Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.ms_at(tokio::time::Instant::now())
    }

    /// An instant in the history's milliseconds.
    pub fn ms_at(&self, at: tokio::time::Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_millis() as u64
    }

    /// Records a start; flags a second runner and a token that does not
    /// increase.
    pub fn start(&self, task: &TaskId, worker: &WorkerId, token: u64) {
        let at_ms = self.now_ms();
        let mut s = self.state.lock().unwrap();
        let runners = s.running.entry(task.clone()).or_default();
        if !runners.is_empty() {
            let msg = format!(
                "at {at_ms} ms: {worker} started {task} (token {token}) while {runners:?} still run it"
            );
            s.violations.push(msg);
        }
        let s2 = &mut *s;
        s2.running
            .entry(task.clone())
            .or_default()
            .push((worker.clone(), token));
        let last = s2.last_token.entry(task.clone()).or_insert(0);
        if token <= *last {
            let msg = format!(
                "at {at_ms} ms: {worker} started {task} with token {token}, not above {last}"
            );
            s2.violations.push(msg);
        }
        *last = token.max(*last);
        s2.entries.push(Entry::Start {
            at_ms,
            task: task.clone(),
            worker: worker.clone(),
            token,
        });
    }

    /// Records a stop.
    pub fn stop(&self, task: &TaskId, worker: &WorkerId, token: u64) {
        let at_ms = self.now_ms();
        let mut s = self.state.lock().unwrap();
        if let Some(r) = s.running.get_mut(task) {
            r.retain(|(w, t)| !(w == worker && *t == token));
        }
        s.entries.push(Entry::Stop {
            at_ms,
            task: task.clone(),
            worker: worker.clone(),
            token,
        });
    }

    /// Everything that went wrong so far.
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    /// Who runs what now, by the history.
    pub fn running(&self) -> BTreeMap<TaskId, Vec<(WorkerId, u64)>> {
        let s = self.state.lock().unwrap();
        s.running
            .iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(t, r)| (t.clone(), r.clone()))
            .collect()
    }

    /// Whether any handler of `worker` runs now, by the history.
    pub fn runs_on(&self, worker: &WorkerId) -> bool {
        let s = self.state.lock().unwrap();
        s.running.values().flatten().any(|(w, _)| w == worker)
    }

    /// The entries so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.state.lock().unwrap().entries.clone()
    }

    /// A handler that records into this history and runs until cancelled.
    pub fn handler(
        &self,
    ) -> impl Fn(TaskContext) -> futures::future::BoxFuture<'static, tenure_core::HandlerResult>
    + Send
    + Sync
    + 'static {
        self.slow_handler(std::time::Duration::ZERO)
    }

    /// A handler that records into this history, runs until cancelled and
    /// then takes `stop_delay` (tokio time) to stop, as a handler cleaning
    /// up would. A delay beyond the worker's stop timeout makes the runner
    /// drop the handler's future.
    pub fn slow_handler(
        &self,
        stop_delay: std::time::Duration,
    ) -> impl Fn(TaskContext) -> futures::future::BoxFuture<'static, tenure_core::HandlerResult>
    + Send
    + Sync
    + 'static {
        self.slow_handler_by(move |_| stop_delay)
    }

    /// A handler as [`History::slow_handler`] whose stop delay depends on
    /// the task.
    pub fn slow_handler_by(
        &self,
        stop_delay_of: impl Fn(&TaskId) -> std::time::Duration + Send + Sync + 'static,
    ) -> impl Fn(TaskContext) -> futures::future::BoxFuture<'static, tenure_core::HandlerResult>
    + Send
    + Sync
    + 'static {
        let history = self.clone();
        let stop_delay_of = std::sync::Arc::new(stop_delay_of);
        move |ctx: TaskContext| {
            let history = history.clone();
            let stop_delay = stop_delay_of(ctx.task());
            Box::pin(async move {
                history.start(ctx.task(), ctx.worker(), ctx.token());
                let _guard = StopGuard {
                    history: history.clone(),
                    task: ctx.task().clone(),
                    worker: ctx.worker().clone(),
                    token: ctx.token(),
                };
                ctx.cancelled().await;
                if !stop_delay.is_zero() {
                    tokio::time::sleep(stop_delay).await;
                }
                Ok(())
            })
        }
    }
}

/// Records the stop when the handler's future ends or is dropped.
struct StopGuard {
    history: History,
    task: TaskId,
    worker: WorkerId,
    token: u64,
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.history.stop(&self.task, &self.worker, self.token);
    }
}

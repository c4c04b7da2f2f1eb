//! What a task handler is given, and what it is.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::error::BoxError;
use crate::ids::{TaskId, WorkerId};

/// What a handler returns: `Ok` when it stopped by itself or after
/// cancellation, `Err` when it failed (logged, then restarted with backoff
/// while the worker still owns the task).
pub type HandlerResult = Result<(), BoxError>;

/// Everything a handler needs to run one task.
///
/// The fencing token strictly increases each time the task is claimed, by
/// any worker. A process paused for longer than the session timeout (GC,
/// SIGSTOP, a swapped-out VM) can wake up still running a task that another
/// worker has claimed since: guard every side effect outside tenure with the
/// token (for example store it with each write and refuse writes carrying a
/// smaller one).
#[derive(Clone, Debug)]
pub struct TaskContext {
    task: TaskId,
    worker: WorkerId,
    payload: Arc<[u8]>,
    token: u64,
    cancel: CancellationToken,
}

impl TaskContext {
    /// Builds a context (the runtime does this; public for handler tests).
    pub fn new(
        task: TaskId,
        worker: WorkerId,
        payload: Arc<[u8]>,
        token: u64,
        cancel: CancellationToken,
    ) -> Self {
        TaskContext {
            task,
            worker,
            payload,
            token,
            cancel,
        }
    }

    /// The task to run.
    pub fn task(&self) -> &TaskId {
        &self.task
    }

    /// The worker running it.
    pub fn worker(&self) -> &WorkerId {
        &self.worker
    }

    /// The task's payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The fencing token of this claim.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Resolves when ownership ends for any reason (handoff, pause, removal,
    /// lost connection, shutdown). Stop promptly: the runtime waits for the
    /// handler's stop deadline, then drops the handler's future.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    /// Whether ownership has ended.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The cancellation token itself, to hand to other tasks.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// Runs a task while the worker owns it. Implemented for every
/// `Fn(TaskContext) -> impl Future<Output = HandlerResult>`.
#[async_trait]
pub trait TaskHandler: Send + Sync + 'static {
    /// Runs the task until `ctx.cancelled()` fires (or the work is done).
    async fn run(&self, ctx: TaskContext) -> HandlerResult;
}

#[async_trait]
impl<F, Fut> TaskHandler for F
where
    F: Fn(TaskContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    async fn run(&self, ctx: TaskContext) -> HandlerResult {
        (self)(ctx).await
    }
}

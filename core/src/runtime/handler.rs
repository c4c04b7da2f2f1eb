//! What a task handler is given, and what it is.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::error::BoxError;
use crate::ids::{TaskId, WorkerId};

/// What a handler returns: `Ok` when it stopped by itself or after
/// cancellation, `Err` when it failed (logged).
///
/// A handler has three outcomes:
///
/// - **keep running**: it runs until `ctx.cancelled()` fires, then
///   returns;
/// - **done**: it calls [`TaskContext::mark_done`] and returns `Ok`: the
///   task is marked done in the cluster ([`TaskState::Done`](crate::runtime::admin::TaskState::Done)
///   in the status) and runs nowhere until re-armed
///   ([`Admin::rearm_task`](crate::Admin::rearm_task)) or updated;
/// - **failed**: it returns `Err` (a `mark_done` is then ignored).
///
/// A handler that ended by itself without being done (`Ok` without
/// `mark_done`, or `Err`) is restarted while the worker still owns the
/// task, after a backoff: 100 ms first, doubling up to 30 s, each pause up
/// to a tenth shorter at random.
pub type HandlerResult = Result<(), BoxError>;

/// Everything a handler needs to run one task.
///
/// The fencing token strictly increases each time the task is claimed, by
/// any worker. A process paused for longer than the session timeout (GC,
/// SIGSTOP, a swapped-out VM) can wake up still running a task that another
/// worker has claimed since: guard every side effect outside tenure with the
/// token (for example store it with each write and refuse writes carrying a
/// smaller one).
///
/// A handler is any `Fn(TaskContext) -> impl Future<Output =
/// HandlerResult>`; the runtime builds the context, and a test can build
/// one with [`TaskContext::new`]:
///
/// ```
/// use std::sync::Arc;
/// use tenure_core::{HandlerResult, TaskContext, TaskId, WorkerId};
/// use tokio_util::sync::CancellationToken;
///
/// async fn handler(ctx: TaskContext) -> HandlerResult {
///     let payload = String::from_utf8_lossy(ctx.payload()).into_owned();
///     if payload == "once" {
///         // ... do the work once, writing with ctx.token() ...
///         ctx.mark_done(); // not restarted until re-armed
///         return Ok(());
///     }
///     ctx.cancelled().await; // keep running until ownership ends
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tenure_core::error::BoxError> {
/// let cancel = CancellationToken::new();
/// let ctx = TaskContext::new(
///     TaskId::new("report")?,
///     WorkerId::new("host-a")?,
///     Arc::from(&b"once"[..]),
///     7,
///     cancel.clone(),
/// );
/// handler(ctx.clone()).await?;
/// assert!(ctx.is_marked_done());
/// assert_eq!(ctx.token(), 7);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TaskContext {
    task: TaskId,
    worker: WorkerId,
    payload: Arc<[u8]>,
    token: u64,
    cancel: CancellationToken,
    deadline: Option<StopDeadline>,
    done: Arc<AtomicBool>,
}

/// Computes the instant by which a handler must be gone (see
/// [`TaskContext::must_stop_by`]).
#[derive(Clone)]
pub(crate) struct StopDeadline(Arc<dyn Fn() -> Option<Instant> + Send + Sync>);

impl StopDeadline {
    pub(crate) fn new(f: impl Fn() -> Option<Instant> + Send + Sync + 'static) -> Self {
        StopDeadline(Arc::new(f))
    }
}

impl std::fmt::Debug for StopDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StopDeadline").field(&(self.0)()).finish()
    }
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
            deadline: None,
            done: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same context, bound to the runtime's stop deadline.
    pub(crate) fn with_deadline(mut self, deadline: StopDeadline) -> Self {
        self.deadline = Some(deadline);
        self
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

    /// The instant by which this handler must be gone unless the worker
    /// proves its session alive again before: the session deadline minus
    /// the safety margin, when another worker may claim the task. It moves
    /// forward each time the session is renewed; it is `None` once the
    /// session the handler started in is no longer the worker's, and for a
    /// context built by [`TaskContext::new`] (no worker behind it).
    ///
    /// The runtime itself stops the handler in time (cancellation, then
    /// dropping its future). This is for work the handler hands to
    /// something the runtime cannot stop: another process, a remote
    /// executor. Pass it on and have that side stop by itself when it
    /// passes unrenewed, so that the work stops in time even if this
    /// process freezes (the `tenure worker` command does this for its
    /// commands). Poll it about as often as the worker's heartbeat.
    pub fn must_stop_by(&self) -> Option<Instant> {
        self.deadline.as_ref().and_then(|d| (d.0)())
    }

    /// Declares the task's work done: once the handler returns `Ok`, the
    /// task is marked done in the cluster and is not restarted, here or
    /// anywhere, until re-armed ([`Admin::rearm_task`](crate::Admin::rearm_task),
    /// `tenure tasks rearm`) or updated. The mark is written only while
    /// this worker still owns the task (fenced by its ownership record);
    /// a handler that returns `Err` is restarted as a failure instead.
    /// Clones of this context share the mark.
    pub fn mark_done(&self) {
        self.done.store(true, Ordering::SeqCst);
    }

    /// Whether [`TaskContext::mark_done`] was called.
    pub fn is_marked_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
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
    /// Runs the task until `ctx.cancelled()` fires, or until the work is
    /// done ([`TaskContext::mark_done`], then `Ok`), or fails (`Err`): see
    /// [`HandlerResult`] for what follows each.
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

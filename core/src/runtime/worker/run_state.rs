//! A worker's run from outside: whether it has begun or ended, and what a
//! run dropped before its end leaves behind.

use std::sync::Arc;

use crate::runtime::worker::Inner;
use crate::runtime::worker::runner::Exited;

/// Where a worker is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunState {
    /// `run` or `spawn` was never called.
    NotStarted,
    /// The run is under way.
    Running,
    /// The run is over.
    Finished,
}

/// What a run leaves behind if its future is dropped before it ends: the
/// handlers are dropped at once, the guard and the leader stop, and the
/// session is given up, so that other workers take the tasks over now
/// rather than never (the store would otherwise keep the session alive).
pub(super) struct Dropped {
    inner: Option<Arc<Inner>>,
    background: [tokio::task::AbortHandle; 2],
}

impl Dropped {
    pub(super) fn arm(inner: &Arc<Inner>, background: [tokio::task::AbortHandle; 2]) -> Self {
        Dropped {
            inner: Some(inner.clone()),
            background,
        }
    }

    /// The run ended normally.
    pub(super) fn disarm(mut self) {
        self.inner = None;
    }
}

impl Drop for Dropped {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        inner.runner.abort_all();
        for task in &self.background {
            task.abort();
        }
        tracing::warn!(worker = %inner.member.id, "the worker's run was dropped: giving its session up");
        let store = inner.member.store.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.restart_session().await {
                    tracing::warn!(error = %e, "giving the session up failed; it ends when the server times it out");
                }
            });
        }
    }
}

/// A run that has begun: what only one run may have.
pub(super) struct Begun {
    pub exits: tokio::sync::mpsc::UnboundedReceiver<Exited>,
    pub _finished: Finished,
}

/// Marks the run finished when dropped.
pub(super) struct Finished(pub Arc<Inner>);

impl Drop for Finished {
    fn drop(&mut self) {
        // `send` would drop the value when nobody is subscribed (a run that
        // ends before `kill` or `shutdown` is called); `send_replace` always
        // stores it, so a later waiter sees it.
        self.0.run_state.send_replace(RunState::Finished);
    }
}

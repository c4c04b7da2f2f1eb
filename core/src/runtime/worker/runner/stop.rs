//! Stopping a handler: cancel it, give it the stop timeout, drop it, and
//! keep it in the stopping set until it is gone.

use std::sync::atomic::Ordering;

use tracing::{info, warn};

use super::{Runner, Running, Stopping};
use crate::ids::TaskId;
use crate::runtime::events::{StopReason, WorkerEvent};

impl Runner {
    pub(super) async fn finish(&self, task: &TaskId, r: Running, reason: StopReason) {
        let stop = self.pending(task, r, reason);
        self.complete(stop).await;
    }

    /// Enters a handler into the stopping set and cancels it.
    pub(super) fn pending(&self, task: &TaskId, r: Running, reason: StopReason) -> PendingStop {
        r.cancel.cancel();
        let key = self.next_stop.fetch_add(1, Ordering::Relaxed);
        self.stopping.send_modify(|s| {
            s.insert(
                key,
                Stopping {
                    task: task.clone(),
                    token: r.token,
                    abort: r.join.abort_handle(),
                },
            );
        });
        PendingStop {
            key,
            task: task.clone(),
            running: r,
            reason,
        }
    }

    /// Waits up to the stop timeout for a stopping (already cancelled)
    /// handler to end, then drops its future; returns once it is gone.
    pub async fn complete(&self, stop: PendingStop) {
        let PendingStop {
            key,
            task,
            running: r,
            reason,
        } = stop;
        // Leaves the stopping set when the stop ends, or when this future
        // is dropped half-way (the worker is being killed): then the
        // handler is dropped too, never left running unwatched.
        let _stopped = StopDone { runner: self, key };
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
        crate::metrics::handler_stopped(reason, r.started.elapsed());
        let _ = self
            .events
            .send(WorkerEvent::stopped(task.clone(), r.token, reason));
    }
}

/// A handler in the stopping set whose stop has not run yet
/// ([`Runner::begin_stop`]). Run it with [`Runner::complete`]: dropped
/// instead (only when the runtime itself shuts down), the handler stays
/// cancelled but listed as stopping.
pub(crate) struct PendingStop {
    key: u64,
    task: TaskId,
    running: Running,
    reason: StopReason,
}

struct StopDone<'a> {
    runner: &'a Runner,
    key: u64,
}

impl Drop for StopDone<'_> {
    fn drop(&mut self) {
        self.runner.stopping.send_modify(|s| {
            if let Some(s) = s.remove(&self.key) {
                s.abort.abort();
            }
        });
        self.runner
            .stops_ended
            .send_modify(|n| *n = n.wrapping_add(1));
    }
}

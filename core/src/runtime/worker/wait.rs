//! Waiting for something to do, and handlers that ended by themselves
//! (restarted with backoff).

use tokio::time::Instant;
use tracing::{info, warn};

use crate::ids::TaskId;
use crate::runtime::admin::Admin;
use crate::runtime::events::StopReason;
use crate::runtime::worker::reconcile::Reconciler;
use crate::runtime::worker::runner::Exited;

impl Reconciler {
    pub(super) async fn reap_exits(&mut self) {
        while let Ok(exit) = self.exits.try_recv() {
            self.note_exit(exit).await;
        }
    }

    /// A handler ended by itself: forget it and schedule its restart with
    /// exponential backoff (100 ms doubling up to 30 s, each pause up to a
    /// tenth shorter at random) while the task is
    /// still ours.
    pub(super) async fn note_exit(&mut self, exit: Exited) {
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
        if exit.done && self.mark_done(&exit.task).await {
            return;
        }
        let (backoff, attempts) =
            self.restarts
                .note_end(&self.inner.member.id, &exit.task, Instant::now());
        if exit.failed {
            warn!(task = %exit.task, attempts, ?backoff, "handler failed; restarting after backoff");
        } else {
            info!(task = %exit.task, ?backoff, "handler returned; restarting after backoff");
        }
    }

    /// Marks a task whose handler finished its work done in the cluster
    /// (while this worker still holds it); until the leader unassigns it,
    /// its handler is not started again here. Returns whether it was
    /// marked; if not, the exit counts as a plain return.
    async fn mark_done(&mut self, task: &TaskId) -> bool {
        let Some(held) = self.holds.get(task) else {
            return false;
        };
        let member = &self.inner.member;
        let admin = Admin::of(member.store.clone(), member.layout.clone());
        match admin.mark_done(task, held.record_version).await {
            Ok(true) => {
                info!(task = %task, "handler done; the task runs nowhere until re-armed");
                if let Some(h) = self.holds.get_mut(task) {
                    h.paused = true;
                }
                self.restarts.forget(task);
                true
            }
            Ok(false) => false,
            Err(e) => {
                warn!(task = %task, error = %e, "marking the task done failed; restarting it");
                false
            }
        }
    }

    /// Sleeps until something may need doing.
    pub(super) async fn wait(&mut self) {
        let now = Instant::now();
        // While disconnected no heartbeat can be sent: wait for the session
        // to change (or a heartbeat period) instead of spinning on an
        // overdue heartbeat.
        let mut wake = if self.inner.member.store.session_state().is_connected() {
            self.beat.next()
        } else {
            now + self.inner.member.timing.heartbeat
        };
        if let Some(at) = self.restarts.next_after(now) {
            wake = wake.min(at);
        }
        let mut session = self.inner.member.store.session_events();
        session.borrow_and_update();
        // A fired watch is forgotten by its owner (`wanted.rs`,
        // `beat.rs`, `holds.rs`): what it watched is read on the next pass.
        let exit = tokio::select! {
            _ = self.inner.shutdown.cancelled() => None,
            _ = self.inner.kill.cancelled() => None,
            _ = session.changed() => None,
            _ = tokio::time::sleep_until(wake) => None,
            // A handler still stopping keeps its task from being
            // released or started again: wake when a stop ends.
            _ = self.stops_ended.changed() => None,
            () = self.wanted.changed() => None,
            () = self.beat.name_changed() => None,
            () = self.holds.owner_changed() => None,
            Some(exit) = self.exits.recv() => Some(exit),
        };
        if let Some(exit) = exit {
            self.note_exit(exit).await;
        }
    }
}

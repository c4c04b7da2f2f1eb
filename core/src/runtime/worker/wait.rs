//! Waiting for something to do, and handlers that ended by themselves
//! (restarted with backoff).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use tokio::time::Instant;
use tracing::{info, warn};

use crate::backoff::{self, Backoff};
use crate::ids::TaskId;
use crate::runtime::admin::Admin;
use crate::runtime::events::StopReason;
use crate::runtime::worker::reconcile::Reconciler;
use crate::runtime::worker::runner::Exited;
use crate::store::{Watch, WatchEvent};

/// When a handler that ended by itself may be restarted.
pub(super) struct Restart {
    pub backoff: Backoff,
    pub not_before: Instant,
}

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
        let now = Instant::now();
        let worker = &self.inner.member.id;
        let r = self
            .restarts
            .entry(exit.task.clone())
            .or_insert_with(|| Restart {
                backoff: backoff::handler_restarts(&format!("{worker}/{}", exit.task)),
                not_before: now,
            });
        let backoff = r.backoff.next_pause();
        r.not_before = now + backoff;
        if exit.failed {
            let attempts = r.backoff.failures();
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
        let Some(held) = self.held.get(task) else {
            return false;
        };
        let member = &self.inner.member;
        let admin = Admin::of(member.store.clone(), member.layout.clone());
        match admin.mark_done(task, held.record_version).await {
            Ok(true) => {
                info!(task = %task, "handler done; the task runs nowhere until re-armed");
                if let Some(h) = self.held.get_mut(task) {
                    h.paused = true;
                }
                self.restarts.remove(task);
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
            self.next_heartbeat
        } else {
            now + self.inner.member.timing.heartbeat
        };
        for r in self.restarts.values() {
            if r.not_before > now {
                wake = wake.min(r.not_before);
            }
        }
        let mut session = self.inner.member.store.session_events();
        session.borrow_and_update();
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
                // A handler still stopping keeps its task from being
                // released or started again: wake when a stop ends.
                _ = self.stops_ended.changed() => Woke::Other,
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

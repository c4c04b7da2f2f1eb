//! Graceful shutdown: leave, let the leader move the tasks, release them.
//!
//! Bounded even when the store stops answering: leaving and waiting for
//! the leader take at most the handoff timeout, stopping the handlers at
//! most the stop timeout, the releases at most one heartbeat. A record not
//! released is freed when the session ends, after the guard has stopped
//! the handlers (as for any cut connection).

use tokio::time::Instant;
use tracing::warn;

use crate::runtime::events::StopReason;
use crate::runtime::records::{Record, TargetRecord};
use crate::runtime::worker::reconcile::Reconciler;
use crate::store::SessionId;

impl Reconciler {
    /// Hands every task off: deletes the registration (so the leader plans
    /// without this worker), waits until the leader has emptied this
    /// worker's target (at most the handoff timeout), then stops the
    /// handlers and releases the ownership records so the new owners can
    /// claim at once.
    pub(super) async fn handoff(&mut self) {
        let inner = self.inner.clone();
        let session = inner.clock.session();
        if let Some(session) = session {
            let deadline = Instant::now() + inner.member.timing.handoff_timeout;
            if tokio::time::timeout_at(deadline, self.leave(session))
                .await
                .is_err()
            {
                warn!(
                    "handoff timeout: the leader did not reassign the tasks in time; releasing them anyway"
                );
            }
        }
        inner.runner.stop_all(StopReason::Shutdown).await;
        if session.is_none() && self.holds.is_empty() {
            return;
        }
        let releases = self.release_all(session);
        if tokio::time::timeout(inner.member.timing.heartbeat, releases)
            .await
            .is_err()
        {
            warn!(
                "the store did not answer the releases in time; the tasks are freed when the session ends"
            );
        }
    }

    /// Deletes the registration and waits until the target is empty. The
    /// caller bounds it.
    async fn leave(&mut self, session: SessionId) {
        let inner = self.inner.clone();
        let me = inner.member.layout.worker(&inner.member.id);
        if let Ok(Some(node)) = inner.member.store.get(&me).await
            && node.ephemeral_owner == Some(session)
        {
            let _ = inner.member.store.delete(&me, Some(node.version)).await;
        }
        let path = inner.member.layout.target(&inner.member.id);
        while !self.holds.is_empty() {
            let Ok((node, watch)) = inner.member.store.get_and_watch(&path).await else {
                return;
            };
            // A target that does not decode cannot say the tasks moved:
            // stop waiting, and release them after stopping the handlers.
            let empty = match node {
                None => true,
                Some(n) => {
                    TargetRecord::decode(&path, &n.data).map_or(true, |t| t.tasks.is_empty())
                }
            };
            if empty {
                return;
            }
            let _ = watch.await;
        }
    }
}

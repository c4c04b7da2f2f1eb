//! Graceful shutdown: leave, let the leader move the tasks, release them.

use tokio::time::Instant;
use tracing::{info, warn};

use crate::runtime::claim;
use crate::runtime::events::StopReason;
use crate::runtime::records::{TargetRecord, decode};
use crate::runtime::worker::reconcile::Reconciler;

impl Reconciler {
    /// Hands every task off: deletes the registration (so the leader plans
    /// without this worker), waits until the leader has emptied this
    /// worker's target (at most the handoff timeout), then stops the
    /// handlers and releases the ownership records so the new owners can
    /// claim at once.
    pub(super) async fn handoff(&mut self) {
        let inner = self.inner.clone();
        let Some(session) = inner.liveness.session() else {
            inner.runner.stop_all(StopReason::Shutdown).await;
            return;
        };
        let me = inner.layout.worker(&inner.id);
        if let Ok(Some(node)) = inner.store.get(&me).await
            && node.ephemeral_owner == Some(session)
        {
            let _ = inner.store.delete(&me, Some(node.version)).await;
        }
        let deadline = Instant::now() + inner.timing.handoff_timeout;
        while !self.held.is_empty() {
            let Ok((node, watch)) = inner
                .store
                .get_and_watch(&inner.layout.target(&inner.id))
                .await
            else {
                break;
            };
            let empty = match node {
                None => true,
                Some(n) => {
                    decode::<TargetRecord>("target", &n.data).map_or(true, |t| t.tasks.is_empty())
                }
            };
            if empty {
                break;
            }
            if tokio::time::timeout_at(deadline, watch).await.is_err() {
                warn!(
                    "handoff timeout: the leader did not reassign the tasks in time; releasing them anyway"
                );
                break;
            }
        }
        inner.runner.stop_all(StopReason::Shutdown).await;
        for (task, held) in std::mem::take(&mut self.held) {
            if let Err(e) =
                claim::release(&*inner.store, &inner.layout, &task, held.record_version).await
            {
                warn!(task = %task, error = %e, "could not release; it is freed when the session ends");
            } else {
                info!(task = %task, token = held.token, "handed off");
            }
        }
    }
}

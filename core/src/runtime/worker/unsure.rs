//! Claims whose outcome the worker does not know.
//!
//! A claim (or reclaim) can be applied by the server while its answer never
//! reaches the worker: the connection drops after the server applied the
//! multi, the request times out, or a shutdown abandons it. The worker then
//! does not know it holds the task, and the record would hold the task
//! until the session ends. So every claim and reclaim marks its task
//! *unsure* before it is sent and clears the mark only on a definite
//! answer; a re-registration marks every claim it forgets. Before each
//! pass the reconciler reads the record of every unsure task it does not
//! hold: a record of this worker under its current session is released
//! (compare-and-set on the version read), anything else is left alone. A
//! task still wanted is then claimed afresh, with a new token
//! (ARCHITECTURE.md, "Why nothing is stranded").

use tracing::{info, warn};

use crate::error::Result;
use crate::ids::TaskId;
use crate::runtime::claim;
use crate::runtime::events::StopReason;
use crate::runtime::records::{OwnerRecord, Record};
use crate::runtime::worker::reconcile::Reconciler;
use crate::store::{SessionId, Version};

impl Reconciler {
    /// Releases every record of this worker's session that it does not
    /// hold; forgets the unsure tasks whose record is not such a record.
    pub(super) async fn settle_unsure(&mut self, session: SessionId) -> Result<()> {
        let tasks = self.holds.unsure();
        for task in tasks {
            if self.holds.holds(&task) {
                // A re-confirmation whose answer was lost: it may have been
                // applied, moving the record to a version this worker does
                // not know (a release by the old version would then leave
                // it behind, holding the task until the session ends). Take
                // the record's version if it is still ours; its token is
                // unknown, so a handler starts only after another
                // re-confirmation.
                let stray = match self.stray_record(session, &task).await {
                    Ok(stray) => stray,
                    Err(e) if self.malformed(&e) => None,
                    Err(e) => return Err(e),
                };
                match stray {
                    Some(version) => {
                        if let Some(h) = self.holds.get_mut(&task) {
                            h.record_version = version;
                            h.epoch_version = None;
                            h.used = true;
                        }
                    }
                    None => {
                        self.inner.runner.stop(&task, StopReason::Unassigned).await;
                        self.holds.forget(&task);
                        info!(task = %task, "a claim whose re-confirmation was lost is not ours any more");
                    }
                }
                self.holds.settled(&task);
                continue;
            }
            let stray = match self.stray_record(session, &task).await {
                Ok(stray) => stray,
                // Not known to be ours: left alone (it goes with the
                // session at the latest).
                Err(e) if self.malformed(&e) => None,
                Err(e) => return Err(e),
            };
            if let Some(version) = stray {
                // No handler runs under a record that is not held; make
                // sure (a no-op unless one is still stopping).
                self.inner.runner.stop(&task, StopReason::Unassigned).await;
                self.release_timed(session, &task, version, None).await?;
                info!(task = %task, "released a claim whose answer was lost");
            }
            self.holds.settled(&task);
        }
        Ok(())
    }

    /// The version of `task`'s ownership record if it is this worker's,
    /// under `session`.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`](crate::Error::MalformedRecord) for a
    /// record of `session` that does not decode (whose it is cannot be
    /// told); store errors.
    async fn stray_record(&self, session: SessionId, task: &TaskId) -> Result<Option<Version>> {
        let inner = &self.inner;
        let path = inner.member.layout.owner(task);
        let node = self.timed(session, inner.member.store.get(&path)).await?;
        Ok(match node {
            Some(n) if n.ephemeral_owner == Some(session) => {
                let record = OwnerRecord::decode(&path, &n.data)?;
                (record.worker == inner.member.id).then_some(n.version)
            }
            _ => None,
        })
    }

    /// At shutdown, after the handlers stopped: releases every record held
    /// and every stray one of `session`, all at once. The caller bounds it.
    pub(super) async fn release_all(&mut self, session: Option<SessionId>) {
        let inner = self.inner.clone();
        let (held, unsure) = self.holds.take_all();
        let this = &*self;
        let releases = held.into_iter().map(|(task, h)| {
            let inner = inner.clone();
            async move {
                match claim::release(
                    &*inner.member.store,
                    &inner.member.layout,
                    &task,
                    h.record_version,
                    h.epoch_version,
                )
                .await
                {
                    Ok(()) => info!(task = %task, token = h.token, "handed off"),
                    Err(e) => {
                        warn!(task = %task, error = %e, "could not release; it is freed when the session ends");
                    }
                }
            }
        });
        let strays = unsure.into_iter().map(|task| async move {
            let Some(session) = session else { return };
            if let Ok(Some(version)) = this.stray_record(session, &task).await {
                let inner = &this.inner;
                match claim::release(&*inner.member.store, &inner.member.layout, &task, version, None).await {
                    Ok(()) => info!(task = %task, "released a claim whose answer was lost"),
                    Err(e) => {
                        warn!(task = %task, error = %e, "could not release; it is freed when the session ends");
                    }
                }
            }
        });
        futures::future::join(
            futures::future::join_all(releases),
            futures::future::join_all(strays),
        )
        .await;
    }
}

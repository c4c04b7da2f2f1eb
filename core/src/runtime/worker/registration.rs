//! Registering under a session, proving it alive, and re-confirming held
//! claims after a fence.

use tokio::time::Instant;
use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::claim;
use crate::runtime::events::StopReason;
use crate::runtime::records::{Record, WorkerRecord, now_ms};
use crate::runtime::worker::reconcile::Reconciler;
use crate::store::{CreateMode, SessionId, StoreExt};

impl Reconciler {
    /// Registers this worker under a new session. Returns false when the
    /// name is still held by an earlier session (it waits for it to end).
    pub(super) async fn register(&mut self, session: SessionId) -> Result<bool> {
        // Nothing may run before the registration is proved. Before the
        // first one nothing ran: the runner does not count that fence
        // (`tenure_fences_total` counts fences of a registered worker).
        self.inner
            .runner
            .fence_and_stop(StopReason::SessionLost)
            .await;
        // Records of this session stay in the store (a registration
        // deleted by hand): released by `settle_unsure` once registered.
        self.holds.forget_claims();
        self.wanted.clear();
        self.forget_watches();
        if self.beat.waiting_for_name(Instant::now()) {
            // The earlier registration has not gone yet (`wait` clears the
            // watch when it fires, and the heartbeat tick tries again in
            // case its event was lost).
            return Ok(false);
        }
        let waited = self.beat.stop_waiting();
        let inner = self.inner.clone();
        let record = WorkerRecord {
            session: session.0,
            capacity: inner.capacity,
            tags: inner.tags.clone(),
            since_ms: now_ms(),
        };
        let path = inner.member.layout.worker(&inner.member.id);
        let data = record.encode()?;
        let create = || {
            self.bounded(
                inner
                    .member
                    .store
                    .create(&path, &data, CreateMode::Ephemeral(session)),
            )
        };
        let created = match create().await {
            Err(e) if e.is_not_found() => {
                // The cluster was removed (`Admin::remove_cluster`) while
                // this worker was not registered: make its folders again,
                // as a starting worker does, and register in them.
                warn!(worker = %inner.member.id, "the cluster's folders are gone; creating them again");
                self.bounded(async {
                    for folder in inner.member.layout.skeleton() {
                        inner.member.store.create_all(folder).await?;
                    }
                    Ok(())
                })
                .await?;
                create().await
            }
            other => other,
        };
        match created {
            Ok(_) => {}
            Err(Error::AlreadyExists { .. }) => {
                let (node, watch) = self
                    .bounded(inner.member.store.get_and_watch(&path))
                    .await?;
                match node {
                    Some(n) if n.ephemeral_owner == Some(session) => {}
                    Some(_) => {
                        if !waited {
                            warn!(worker = %inner.member.id, "worker name still registered by an earlier session; waiting for it to end");
                        }
                        self.beat
                            .wait_for_name(watch, inner.member.timing.heartbeat);
                        return Ok(false);
                    }
                    None => return Ok(false), // gone meanwhile: retry at once
                }
            }
            Err(e) => return Err(e),
        }
        info!(worker = %inner.member.id, %session, "registered");
        inner.clock.set_session(Some(session));
        self.heartbeat(session).await?;
        inner.runner.unfence();
        inner.mark_health(|m| m.registered_under = Some(session));
        Ok(true)
    }

    /// Proves the session alive and checks the registration still exists.
    pub(super) async fn heartbeat(&mut self, session: SessionId) -> Result<()> {
        let path = self.inner.member.layout.worker(&self.inner.member.id);
        let node = self
            .timed(session, self.inner.member.store.get(&path))
            .await?;
        if self.beat.beaten(self.inner.member.timing.heartbeat) {
            self.forget_watches();
        }
        match node {
            Some(n) if n.ephemeral_owner == Some(session) => Ok(()),
            // Deleted by hand, or we are shutting down: register again
            // unless leaving.
            _ if self.inner.shutdown.is_cancelled() => Ok(()),
            _ => {
                self.inner.clock.set_session(None);
                Err(Error::NotFound { path: path.clone() })
            }
        }
    }

    /// After a fence within the same session: every record still ours gets
    /// a new token by compare-and-set; the others are forgotten.
    pub(super) async fn reconfirm(&mut self, session: SessionId) -> Result<()> {
        let tasks = self.holds.tasks();
        for task in tasks {
            self.reconfirm_one(session, &task).await?;
        }
        Ok(())
    }

    /// Gives a held claim a new token by compare-and-set, or forgets it if
    /// the record is no longer at the version held (it may still be ours,
    /// changed by a reclaim whose answer was lost: it stays unsure).
    /// Returns whether the claim holds a token no handler has run with. A
    /// fencing counter that does not decode gives no token: the claim stays
    /// held, nothing starts, and the next pass tries again.
    pub(super) async fn reconfirm_one(
        &mut self,
        session: SessionId,
        task: &TaskId,
    ) -> Result<bool> {
        let Some(hold) = self.holds.get(task).map(|h| claim::Hold {
            record_version: h.record_version,
            epoch_version: h.epoch_version,
            task_version: h.task_revision.map(|r| r.version),
        }) else {
            return Ok(false);
        };
        let inner = self.inner.clone();
        // Unsure until answered: the reclaim may apply and its answer be
        // lost, or this future be dropped by a shutdown.
        self.holds.mark_unsure(task.clone());
        let renewed = self
            .timed(
                session,
                claim::reclaim(
                    &*inner.member.store,
                    &inner.member.layout,
                    task,
                    &inner.member.id,
                    session,
                    hold,
                ),
            )
            .await;
        let renewed = match renewed {
            Ok(renewed) => renewed,
            Err(e) if self.malformed(&e) => {
                self.holds.settled(task); // nothing was written
                return Ok(false);
            }
            Err(Error::VersionConflict { path })
                if path == inner.member.layout.task(task).as_str() =>
            {
                // The task changed (paused, updated, removed) since it was
                // read: nothing was written; read it before any start.
                self.holds.settled(task);
                if let Some(h) = self.holds.get_mut(task) {
                    h.payload = None;
                }
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        self.told.cleared(&inner.member.layout.epoch(task));
        match renewed {
            Some(c) => {
                self.holds.settled(task);
                if let Some(h) = self.holds.get_mut(task) {
                    h.token = c.token;
                    h.record_version = c.record_version;
                    h.epoch_version = Some(c.epoch_version);
                    h.used = false;
                }
                Ok(true)
            }
            None => {
                self.holds.forget(task);
                Ok(false)
            }
        }
    }
}

//! Claiming the wanted tasks, several at once.
//!
//! A claim is two requests one after another (one read of the ownership
//! record, the fencing counter and the task, then the claim's multi, see
//! `claim.rs`), and it brings the task's payload with it; a worker taking
//! hundreds of tasks (at a cold start, a takeover, a handback) would still
//! wait hundreds of round trips if it claimed one task at a time. Up to
//! the worker's in-flight window (at most 32, fewer while the server
//! answers slowly: see `window.rs`) claims are in flight together; the
//! outcomes are applied one by one, in task order. Every claim marks its task unsure before it is
//! sent, exactly as one at a time: a failed request never makes the worker
//! forget a record that holds a task (see `unsure.rs`). One failure does
//! not waste the claims that succeeded beside it: they are all applied
//! before the pass fails with the first error. A record that does not
//! decode is no failure of the pass: it is told, and only its task waits
//! (a task record that does not decode leaves its claim held without a
//! payload, read again on the next pass; see `converge.rs`).

use std::collections::BTreeSet;
use std::sync::Arc;

use tracing::{debug, info};

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::claim::{self, ClaimError, Claimed};
use crate::runtime::events::{WorkerEvent, WorkerEventKind};
use crate::runtime::records::{OwnerRecord, Record};
use crate::runtime::worker::converge::TaskRead;
use crate::runtime::worker::reconcile::Reconciler;
use crate::runtime::worker::window::Window;
use crate::store::{Node, SessionId, Watch};

/// A node as read, and the watch armed with the read.
type NodeAndWatch = (Option<Node>, Watch);

impl Reconciler {
    /// Claims `tasks`; those in `open_only` are free for anyone (not in
    /// this worker's target): if owned, they are not waited for.
    pub(super) async fn claim_all(
        &mut self,
        session: SessionId,
        tasks: Vec<TaskId>,
        open_only: &BTreeSet<TaskId>,
    ) -> Result<()> {
        if tasks.is_empty() {
            return Ok(());
        }
        // Unsure until answered: a claim may apply and its answer be lost,
        // or this future be dropped by a shutdown.
        self.holds.mark_all_unsure(tasks.iter().cloned());
        let mut window = self.window.clone();
        debug!(tasks = tasks.len(), window = window.width(), "claiming");
        let answers = self.send_claims(&mut window, session, tasks).await;
        self.window = window;
        let mut failure = None;
        let mut owned = Vec::new();
        for (task, answer) in answers {
            let result = match answer {
                Ok(result) => result,
                Err(e) => {
                    failure.get_or_insert(e);
                    continue;
                }
            };
            // A definite answer, or a fencing counter that does not decode
            // (nothing was written).
            let malformed = match &result {
                Err(ClaimError::Store(e)) => self.malformed(e),
                _ => false,
            };
            if malformed || !matches!(result, Err(ClaimError::Store(_))) {
                self.holds.settled(&task);
            }
            match result {
                Ok(Claimed {
                    claim: c,
                    task: node,
                }) => {
                    info!(task = %task, token = c.token, "claimed");
                    self.told.cleared(&self.inner.member.layout.epoch(&task));
                    self.holds.track(&task, &c);
                    self.took_payload(&task, &node);
                    let waited_for = self.holds.take_waited_for(&task);
                    let _ =
                        self.inner
                            .member
                            .events
                            .send(WorkerEvent::now(WorkerEventKind::Claimed {
                                task: task.clone(),
                                token: c.token,
                                waited_for,
                            }));
                }
                Err(ClaimError::Owned) => owned.push(task),
                Err(ClaimError::NoTask) => {}
                Err(ClaimError::Store(_)) if malformed => {}
                Err(ClaimError::Store(e)) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Err(e) = self.watch_owned(session, owned, open_only).await {
            failure.get_or_insert(e);
        }
        failure.map_or(Ok(()), Err)
    }

    /// Sends the claims, as many at once as `window` allows; answers in
    /// task order.
    async fn send_claims(
        &self,
        window: &mut Window,
        session: SessionId,
        tasks: Vec<TaskId>,
    ) -> Vec<(TaskId, Result<Result<Claimed, ClaimError>>)> {
        let inner = &self.inner;
        window
            .run(tasks, |task| async move {
                let answer = self
                    .timed(session, async {
                        Ok(claim::claim(
                            &*inner.member.store,
                            &inner.member.layout,
                            &task,
                            &inner.member.id,
                            session,
                        )
                        .await)
                    })
                    .await;
                (task, answer)
            })
            .await
    }

    /// Keeps the payload, pause state and revision of a task just claimed,
    /// from the task node the claim read. A task record that does not
    /// decode is told and its claim stays held without a payload: the
    /// next pass reads the task again.
    fn took_payload(&mut self, task: &TaskId, node: &Node) {
        let path = self.inner.member.layout.task(task);
        match TaskRead::decode(&path, node) {
            Ok(read) => {
                self.told.cleared(&path);
                if let Some(h) = self.holds.get_mut(task) {
                    h.payload = Some(read.payload);
                    h.task_revision = Some(read.revision);
                    h.paused = read.paused;
                }
            }
            Err(e) => {
                self.malformed(&e);
            }
        }
    }

    /// For tasks another record holds: reads each record with a watch,
    /// as many at once as the in-flight window allows. A task of this worker's target waits on its
    /// watch for the owner to let go; a record of this worker's own
    /// session that it does not hold (an answer lost before it could be
    /// tracked) is released at once and the task claimed afresh.
    async fn watch_owned(
        &mut self,
        session: SessionId,
        owned: Vec<TaskId>,
        open_only: &BTreeSet<TaskId>,
    ) -> Result<()> {
        let inner = Arc::clone(&self.inner);
        let inner = &inner;
        let mut window = self.window.clone();
        let this = &*self;
        let reads: Vec<(TaskId, Result<NodeAndWatch>)> = window
            .run(owned, |task| async move {
                let path = inner.member.layout.owner(&task);
                let read = this
                    .timed(session, inner.member.store.get_and_watch(&path))
                    .await;
                (task, read)
            })
            .await;
        self.window = window;
        let mut failure: Option<Error> = None;
        for (task, read) in reads {
            let (node, watch) = match read {
                Ok(x) => x,
                Err(e) => {
                    failure.get_or_insert(e);
                    continue;
                }
            };
            let Some(node) = node else {
                // Released meanwhile: a zero-delay wake-up retries.
                self.beat.hurry();
                continue;
            };
            // A record that does not decode is someone's: waited for.
            let path = inner.member.layout.owner(&task);
            let owner = match OwnerRecord::decode(&path, &node.data) {
                Ok(record) => {
                    self.told.cleared(&path);
                    Some(record.worker)
                }
                Err(e) => {
                    self.malformed(&e);
                    None
                }
            };
            let mine = owner.as_ref() == Some(&inner.member.id);
            if mine && node.ephemeral_owner == Some(session) {
                self.holds.mark_unsure(task);
                self.beat.hurry();
            } else if !open_only.contains(&task) {
                match owner {
                    Some(owner) if !mine => self.holds.watch_owner(task, watch, owner),
                    _ => self.holds.watch_owner_unknown(task, watch),
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

//! Takeovers and handoffs of this worker, told from what the worker itself
//! knows, at a cost that does not grow with the cluster's tasks: the
//! worker's own events (its claims, with the owner it waited for, and its
//! handlers stopped because their task left its target) and one watch on
//! the registrations folder (a listing of the workers each time one joins
//! or leaves). Nothing here watches an ownership record.
//!
//! A claim of this worker is told as
//! - nothing, if it is the task's first claim (token 1) or the claim before
//!   it was this worker's own (it held the token just below);
//! - a **handoff in** from the worker whose record it found and waited
//!   for;
//! - a **takeover** if it found no record while a registration (not its
//!   own) ended within the session timeout + [`AFTER_DEPARTURE`]: the
//!   owner's session ended, and its record with it, before the leader gave
//!   the task here;
//! - else a **handoff in** from a worker it did not see (the owner let go
//!   before this worker read the record, or the task was paused there and
//!   resumed).
//!
//! A handler of this worker stopped because its task left the target is a
//! **handoff out** if the task still exists, not paused and not done (one
//! read of the task).
//!
//! Where this differs from an observer that watches every record
//! (`Admin::ownership_events`): a task released by a worker that is
//! shutting down and claimed here without waiting, while that worker's
//! registration is just gone, counts as a takeover; an owner that dies
//! while this worker waits for its record counts as a handoff.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tenure_core::internals::records::{Record, TaskRecord};
use tenure_core::{Admin, StopReason, TaskId, Watch, Worker, WorkerEventKind, WorkerId};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tracing::info;

use crate::observe::metrics::{HANDOFFS, TAKEOVERS};

/// How long after a registration ended, beyond the session timeout, a claim
/// that found no record counts as taking over from that worker.
pub const AFTER_DEPARTURE: Duration = Duration::from_secs(5);

/// How long to wait before listing the registrations again after a failed
/// listing.
const RETRY: Duration = Duration::from_millis(200);

/// What a claim of this worker was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Nobody else held the task before.
    Claimed,
    /// Taken over from these workers (whose registrations ended lately).
    TakenOver(Vec<WorkerId>),
    /// Handed over to this worker, from this worker if known.
    HandedIn(Option<WorkerId>),
}

/// The state the classification needs: the registrations, the ones that
/// ended lately, and the last token this worker held per task.
pub struct Moves {
    me: WorkerId,
    window: Duration,
    registered: Option<BTreeSet<WorkerId>>,
    departed: Vec<(WorkerId, Instant)>,
    last_token: BTreeMap<TaskId, u64>,
}

impl Moves {
    /// For worker `me`, with sessions of `session_timeout`.
    pub fn new(me: WorkerId, session_timeout: Duration) -> Self {
        Moves {
            me,
            window: session_timeout + AFTER_DEPARTURE,
            registered: None,
            departed: Vec::new(),
            last_token: BTreeMap::new(),
        }
    }

    /// The registrations as listed `at`: those gone since the last listing
    /// have ended.
    pub fn registrations(&mut self, now: BTreeSet<WorkerId>, at: Instant) {
        if let Some(before) = &self.registered {
            for gone in before.difference(&now) {
                if *gone != self.me {
                    self.departed.push((gone.clone(), at));
                }
            }
        }
        let window = self.window;
        self.departed
            .retain(|(_, when)| at.saturating_duration_since(*when) <= window);
        self.registered = Some(now);
    }

    /// A handler of this worker started with `token`.
    pub fn started(&mut self, task: &TaskId, token: u64) {
        self.last_token.insert(task.clone(), token);
    }

    /// This worker claimed `task` with `token` at `at`, after waiting for
    /// `waited_for`'s record if any.
    pub fn claimed(
        &mut self,
        task: &TaskId,
        token: u64,
        waited_for: Option<&WorkerId>,
        at: Instant,
    ) -> Move {
        let ours = self
            .last_token
            .insert(task.clone(), token)
            .is_some_and(|last| last + 1 == token);
        if token <= 1 || ours {
            return Move::Claimed;
        }
        if let Some(owner) = waited_for.filter(|w| **w != self.me) {
            return Move::HandedIn(Some(owner.clone()));
        }
        let from: Vec<WorkerId> = self
            .departed
            .iter()
            .filter(|(_, when)| at.saturating_duration_since(*when) <= self.window)
            .map(|(w, _)| w.clone())
            .collect();
        if from.is_empty() {
            Move::HandedIn(None)
        } else {
            Move::TakenOver(from)
        }
    }
}

/// Follows `worker`'s claims and stops and the registrations of its
/// cluster through `admin`'s store, counting and logging its takeovers
/// and handoffs, until the worker's events end.
pub async fn follow(admin: Admin, worker: Worker) {
    let store = admin.store().clone();
    let workers = admin.layout().workers().clone();
    let mut events = worker.events();
    let mut moves = Moves::new(worker.id().clone(), store.info().session_timeout);
    let mut watch: Option<Watch> = None;
    let mut retry_at = Instant::now();
    loop {
        if watch.is_none() && Instant::now() >= retry_at {
            match store.children_and_watch(&workers).await {
                Ok((names, w)) => {
                    let ids = names
                        .iter()
                        .filter_map(|n| WorkerId::new(n.as_str()).ok())
                        .collect();
                    moves.registrations(ids, Instant::now());
                    watch = Some(w);
                }
                Err(tenure_core::Error::Closed) => return,
                Err(_) => retry_at = Instant::now() + RETRY,
            }
        }
        let registrations_changed = async {
            match watch.as_mut() {
                Some(w) => {
                    w.await;
                }
                None => tokio::time::sleep_until(retry_at).await,
            }
        };
        tokio::select! {
            biased;
            () = registrations_changed => watch = None,
            event = events.recv() => match event {
                Ok(event) => told(&admin, &mut moves, event.kind),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Acts on one event of the worker.
fn told(admin: &Admin, moves: &mut Moves, kind: WorkerEventKind) {
    match kind {
        WorkerEventKind::Claimed {
            task,
            token,
            waited_for,
        } => match moves.claimed(&task, token, waited_for.as_ref(), Instant::now()) {
            Move::Claimed => {}
            Move::TakenOver(from) => {
                metrics::counter!(TAKEOVERS).increment(1);
                let from = names(&from);
                info!(task = %task, %from, token, "took the task over from a worker whose session ended");
            }
            Move::HandedIn(Some(from)) => {
                metrics::counter!(HANDOFFS, "direction" => "in").increment(1);
                info!(task = %task, %from, token, "task handed over to this worker");
            }
            Move::HandedIn(None) => {
                metrics::counter!(HANDOFFS, "direction" => "in").increment(1);
                info!(task = %task, token, "task handed over to this worker");
            }
        },
        WorkerEventKind::Started { task, token } => moves.started(&task, token),
        WorkerEventKind::Stopped {
            task,
            reason: StopReason::Unassigned,
            ..
        } => {
            // Read aside, so that the events keep flowing meanwhile.
            let admin = admin.clone();
            tokio::spawn(async move {
                if still_runnable(&admin, &task).await {
                    metrics::counter!(HANDOFFS, "direction" => "out").increment(1);
                    info!(task = %task, "task handed over to another worker");
                }
            });
        }
        _ => {}
    }
}

/// Whether `task` exists, not paused and not done: one read.
async fn still_runnable(admin: &Admin, task: &TaskId) -> bool {
    let path = admin.layout().task(task);
    match admin.store().get(&path).await {
        Ok(Some(node)) => TaskRecord::decode(&path, &node.data).is_ok_and(|r| !r.paused && !r.done),
        _ => false,
    }
}

fn names(workers: &[WorkerId]) -> String {
    workers
        .iter()
        .map(WorkerId::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
#[path = "moves_tests.rs"]
mod tests;

//! The reconciler: makes what this worker runs match what the leader wants.
//!
//! Level-triggered: every wake-up (a watch fired, the session changed, a
//! handler exited, the heartbeat tick) re-reads only what changed and then
//! compares wanted with held. Watches it arms: its own target node, the open
//! list, and the ownership record of each wanted task that another worker
//! still holds: O(own tasks), never O(all tasks).
//!
//! This file holds the loop; its steps live beside it: `registration.rs`
//! (register, heartbeat, re-confirm after a fence), `converge.rs` (release,
//! restart, claim, start), `unsure.rs` (claims whose answer was lost),
//! `wait.rs` (sleep until something changes; handler exits and restarts)
//! and `handoff.rs` (graceful shutdown).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::debug;

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::malformed::Malformed;
use crate::runtime::records::{OpenRecord, Revision};
use crate::runtime::worker::Inner;
use crate::runtime::worker::runner::Exited;
use crate::runtime::worker::wait::Restart;
use crate::store::{SessionId, SessionState, Version, Watch};

/// A task this worker holds an ownership record for.
pub(super) struct Held {
    pub token: u64,
    pub record_version: Version,
    /// The version of the fencing counter as this worker's claim (or last
    /// re-confirmation) left it; `None` when unknown (a re-confirmation
    /// whose answer was lost).
    pub epoch_version: Option<Version>,
    /// The revision of the task node the payload was read from; `None`
    /// until read.
    pub task_revision: Option<Revision>,
    /// The task revision the target last asked for, once acted on: a
    /// target that lags behind the task node (the leader has not seen the
    /// change yet) is acted on once, not on every pass.
    pub target_revision: Option<Revision>,
    /// `None` until the task has been read after the claim (a claim whose
    /// follow-up read failed is still tracked, so it is never forgotten
    /// while its record holds the task).
    pub payload: Option<Arc<[u8]>>,
    /// Whether the task was paused when last read: its handler does not
    /// start, even while the target (not updated yet) still lists it.
    pub paused: bool,
    /// Whether a handler already ran with `token`: every handler start gets
    /// a token of its own, so a restart re-confirms the claim first.
    pub used: bool,
}

/// Every this many heartbeats, everything is re-read even without a watch
/// firing (heals a lost watch event). The leader's period is
/// [`Timing::leader_resync`](crate::Timing::leader_resync).
pub(crate) const RESYNC_EVERY: u32 = 12;

pub(crate) struct Reconciler {
    pub(super) inner: Arc<Inner>,
    pub(super) exits: mpsc::UnboundedReceiver<Exited>,
    pub(super) held: BTreeMap<TaskId, Held>,
    /// Tasks whose ownership record may be ours although not in `held`: a
    /// claim or reclaim whose answer never came (lost, timed out, or the
    /// request was abandoned), or a claim forgotten on re-registration.
    /// Each is read and, if it is a record of this worker's session,
    /// released (see `unsure.rs`).
    pub(super) unsure: BTreeSet<TaskId>,
    pub(super) desired: BTreeMap<TaskId, Revision>,
    pub(super) open: OpenRecord,
    pub(super) target_watch: Option<Watch>,
    pub(super) open_watch: Option<Watch>,
    pub(super) owner_watches: BTreeMap<TaskId, Watch>,
    pub(super) register_watch: Option<Watch>,
    pub(super) restarts: BTreeMap<TaskId, Restart>,
    pub(super) next_heartbeat: Instant,
    /// Changes when a handler's stop ends (see `wait.rs`).
    pub(super) stops_ended: watch::Receiver<u64>,
    pub(super) heartbeats: u32,
    /// The malformed records told about (see `converge.rs`).
    pub(super) told: Malformed,
}

impl Reconciler {
    pub fn new(inner: Arc<Inner>, exits: mpsc::UnboundedReceiver<Exited>) -> Self {
        let stops_ended = inner.runner.stops_ended();
        Reconciler {
            inner,
            exits,
            held: BTreeMap::new(),
            unsure: BTreeSet::new(),
            desired: BTreeMap::new(),
            open: OpenRecord::default(),
            target_watch: None,
            open_watch: None,
            owner_watches: BTreeMap::new(),
            register_watch: None,
            restarts: BTreeMap::new(),
            next_heartbeat: Instant::now(),
            stops_ended,
            heartbeats: 0,
            told: Malformed::default(),
        }
    }

    pub async fn run(mut self) -> Result<()> {
        let member = &self.inner.member;
        let mut backoff = crate::backoff::requests(member.timing.heartbeat, member.id.as_str());
        while !self.inner.shutdown.is_cancelled() {
            if self.inner.kill.is_cancelled() {
                return Ok(());
            }
            // A shutdown does not wait for a step (whose requests may hang
            // on a cut connection): a claim or reclaim abandoned half-way
            // is in `unsure`, which the handoff resolves.
            let shutdown = self.inner.shutdown.clone();
            let stepped = tokio::select! {
                r = self.step() => r,
                _ = shutdown.cancelled() => break,
            };
            match stepped {
                Ok(()) => backoff.reset(),
                Err(Error::Closed) => return Err(Error::Closed),
                Err(e) => {
                    debug!(error = %e, "reconcile step failed; retrying");
                    self.forget_watches();
                    let pause = backoff.next_pause();
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
            self.wait().await;
        }
        self.handoff().await;
        Ok(())
    }

    pub(super) fn forget_watches(&mut self) {
        self.target_watch = None;
        self.open_watch = None;
        self.owner_watches.clear();
    }

    /// One pass: check the session, refresh what changed, converge.
    pub(super) async fn step(&mut self) -> Result<()> {
        self.reap_exits().await;
        let session = match self.inner.member.store.session_state() {
            SessionState::Connected(s) => s,
            SessionState::Closed => return Err(Error::Closed),
            _ => return Ok(()), // the guard has fenced; wait for the session
        };
        if self.inner.clock.session() != Some(session) && !self.register(session).await? {
            return Ok(());
        }
        if Instant::now() >= self.next_heartbeat {
            self.heartbeat(session).await?;
        }
        if self.inner.runner.is_fenced() {
            if !self.inner.clock.session_safe() {
                return Ok(());
            }
            self.reconfirm(session).await?;
            self.inner.runner.unfence();
        }
        self.settle_unsure(session).await?;
        self.refresh_wanted(session).await?;
        self.converge(session).await
    }

    /// A store call bounded by the session timeout (a request hung on a
    /// cut connection fails with [`Error::Timeout`]).
    pub(super) async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let after = self.inner.member.timing.session_timeout;
        tokio::time::timeout(after, call)
            .await
            .map_err(|_| Error::Timeout {
                operation: "store request".into(),
                after,
            })?
    }

    /// Tells about `error` if it is a malformed record (once per node and
    /// problem); returns whether it is one.
    pub(super) fn malformed(&mut self, error: &Error) -> bool {
        self.told.report(&self.inner.member.events, error)
    }

    /// A store call whose answer proves the session alive at its send time.
    pub(super) async fn timed<T>(
        &self,
        session: SessionId,
        call: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let sent = Instant::now();
        let out = self.bounded(call).await?;
        self.inner.clock.answered(session, sent);
        Ok(out)
    }
}

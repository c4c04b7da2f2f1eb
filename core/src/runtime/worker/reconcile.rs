//! The reconciler: makes what this worker runs match what the leader wants.
//!
//! Level-triggered: every wake-up (a watch fired, the session changed, a
//! handler exited, the heartbeat tick) re-reads only what changed and then
//! compares wanted with held. Watches it arms: its own target node, the open
//! list, and the ownership record of each wanted task that another worker
//! still holds: O(own tasks), never O(all tasks).
//!
//! This file holds the loop and composes its state, each part owned by one
//! file: `wanted.rs` (target, open list and their watches), `holds.rs`
//! (held and unsure claims, owner watches), `beat.rs` (the heartbeat
//! schedule and the registration watch) and `restarts.rs`. Its steps live
//! beside it: `registration.rs`
//! (register, heartbeat, re-confirm after a fence), `converge.rs` (release,
//! restart, claim, start), `unsure.rs` (claims whose answer was lost),
//! `wait.rs` (sleep until something changes; handler exits and restarts)
//! and `handoff.rs` (graceful shutdown).

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::debug;

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::claim;
use crate::runtime::malformed::Malformed;
use crate::runtime::worker::beat::Beat;
use crate::runtime::worker::holds::Holds;
use crate::runtime::worker::inner::Inner;
use crate::runtime::worker::restarts::Restarts;
use crate::runtime::worker::runner::Exited;
use crate::runtime::worker::wanted::Wanted;
use crate::runtime::worker::window::Window;
use crate::store::{SessionId, SessionState, Version};

pub(crate) struct Reconciler {
    pub(super) inner: Arc<Inner>,
    pub(super) exits: mpsc::UnboundedReceiver<Exited>,
    /// What the leader wants here (see `wanted.rs`).
    pub(super) wanted: Wanted,
    /// What this worker holds (see `holds.rs`).
    pub(super) holds: Holds,
    /// When to beat (see `beat.rs`).
    pub(super) beat: Beat,
    /// When handlers that ended by themselves may start again.
    pub(super) restarts: Restarts,
    /// Changes when a handler's stop ends (see `wait.rs`).
    pub(super) stops_ended: watch::Receiver<u64>,
    /// The malformed records told about (see `converge.rs`).
    pub(super) told: Malformed,
    /// How many claims go out at once (see `window.rs`).
    pub(super) window: Window,
}

impl Reconciler {
    pub fn new(inner: Arc<Inner>, exits: mpsc::UnboundedReceiver<Exited>) -> Self {
        let stops_ended = inner.runner.stops_ended();
        Reconciler {
            exits,
            wanted: Wanted::default(),
            holds: Holds::default(),
            beat: Beat::new(),
            restarts: Restarts::default(),
            stops_ended,
            told: Malformed::default(),
            window: Window::new(inner.member.timing.answer_allowance()),
            inner,
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

    /// Forgets every watch but the registration's: what they watch is
    /// read again on the next pass.
    pub(super) fn forget_watches(&mut self) {
        self.wanted.forget_watches();
        self.holds.forget_owner_watches();
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
        if self.beat.due(Instant::now()) {
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

    /// Deletes `task`'s ownership record at `record` (and moves its
    /// fencing counter on at `epoch`, when known), as a [`Self::timed`]
    /// call.
    pub(super) async fn release_timed(
        &self,
        session: SessionId,
        task: &TaskId,
        record: Version,
        epoch: Option<Version>,
    ) -> Result<()> {
        let member = &self.inner.member;
        self.timed(
            session,
            claim::release(&*member.store, &member.layout, task, record, epoch),
        )
        .await
    }
}

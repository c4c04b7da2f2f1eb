//! The guard: stops every handler before the session could end.
//!
//! It runs beside the reconciler and never waits on the store, so a hung
//! request cannot delay it. Handlers are fenced (stopped, and kept from
//! starting) when:
//! - the store reports the connection suspended (after the suspend grace,
//!   default zero), or any state other than connected under the session the
//!   handlers started in;
//! - the stop instant comes: the session deadline minus the stop timeout and
//!   the safety margin, whatever the client library says about its
//!   connection (libraries notice a dead connection late).
//!
//! The reconciler lifts the fence after it has proved the session alive and
//! re-confirmed each ownership record by compare-and-set.
//!
//! The guard never waits for a handler to stop: stops run on tasks of
//! their own while it keeps watching the clock, so a handler started
//! after the fence was lifted is stopped at its own stop instant even
//! while an earlier stop is still under way.
//!
//! A worker that cannot act lets go: if the store reports the same
//! session connected while the runner stays fenced for
//! [`Timing::give_up_after`](crate::Timing::give_up_after) (answers too
//! slow to prove the session alive in time, a registration that never
//! completes), the guard gives the session up
//! ([`restart_session`](crate::CoordinationStore::restart_session)), so
//! that its ownership records go and other workers take the tasks over;
//! the reconciler then registers under the new session.

use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, warn};

use crate::runtime::events::StopReason;
use crate::runtime::worker::Inner;
use crate::store::{SessionId, SessionState};

pub(crate) async fn run(inner: Arc<Inner>, stop: CancellationToken) {
    let mut events = inner.member.store.session_events();
    // A lifted fence lets handlers start: re-check at once, or a guard
    // that last saw a risk would sleep a heartbeat past the stop instant.
    let mut unfences = inner.runner.unfences();
    let mut suspended_since: Option<Instant> = None;
    let mut let_go = LetGo::default();
    loop {
        let state = *events.borrow_and_update();
        let now = Instant::now();
        let registered = inner.clock.session();
        let mut wake = None;
        let risk = match state {
            SessionState::Connected(s) if Some(s) == registered => {
                suspended_since = None;
                match inner.clock.stop_at() {
                    Some(at) if now < at => {
                        wake = Some(at);
                        None
                    }
                    _ => Some(StopReason::SessionAtRisk),
                }
            }
            SessionState::Connected(_) | SessionState::Connecting => {
                suspended_since = None;
                Some(StopReason::SessionLost)
            }
            SessionState::Suspended(_) => {
                let since = *suspended_since.get_or_insert(now);
                let grace_end = since + inner.member.timing.suspend_grace;
                match inner.clock.stop_at() {
                    Some(at) if now < at && now < grace_end => {
                        wake = Some(at.min(grace_end));
                        None
                    }
                    _ => Some(StopReason::SessionAtRisk),
                }
            }
            SessionState::Expired(_) | SessionState::Closed => Some(StopReason::SessionLost),
        };
        if let Some(reason) = risk {
            let running = inner.runner.any_unstopped();
            if running {
                let deadline_in = inner
                    .clock
                    .session_deadline()
                    .map(|d| d.saturating_duration_since(now));
                warn!(?state, ?reason, ?deadline_in, stop_lead = ?inner.member.timing.stop_lead(),
                    "session at risk: stopping every handler");
            }
            if running || !inner.runner.is_fenced() {
                fence(&inner, reason);
            }
        }
        if let Some(at) = let_go.check(&inner, state, now) {
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                // Re-check now and then even without a deadline, in case the
                // registered session changes without a state change.
                None => tokio::time::sleep(inner.member.timing.heartbeat).await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = events.changed() => {
                if changed.is_err() {
                    fence(&inner, StopReason::SessionLost);
                    return;
                }
            }
            _ = sleep => {}
            _ = unfences.changed() => {}
        }
    }
}

/// Fences the runner and runs every stop on a task of its own.
fn fence(inner: &Arc<Inner>, reason: StopReason) {
    for stop in inner.runner.fence(reason) {
        let inner = inner.clone();
        tokio::spawn(async move { inner.runner.complete(stop).await }.in_current_span());
    }
}

/// When to give the session up because the worker cannot act.
#[derive(Default)]
struct LetGo {
    /// The session the store reports connected, and since when.
    connected: Option<(SessionId, Instant)>,
    /// The last session given up (once is enough: the store opens a new one).
    given_up: Option<SessionId>,
}

impl LetGo {
    /// Gives the session up if the store has reported it connected, and
    /// the runner has been fenced, for the whole give-up period. Returns
    /// when to look again, if that may come.
    fn check(&mut self, inner: &Arc<Inner>, state: SessionState, now: Instant) -> Option<Instant> {
        let SessionState::Connected(s) = state else {
            self.connected = None;
            return None;
        };
        let connected_since = match self.connected {
            Some((c, since)) if c == s => since,
            _ => {
                self.connected = Some((s, now));
                now
            }
        };
        let fenced_since = inner.runner.fenced_since()?;
        if self.given_up == Some(s) {
            return None;
        }
        let at = connected_since.max(fenced_since) + inner.member.timing.give_up_after();
        if now < at {
            return Some(at);
        }
        warn!(session = %s, fenced_for = ?now - fenced_since,
            "cannot prove the session alive in time while connected: giving the session up so that other workers take the tasks over");
        self.given_up = Some(s);
        let store = inner.member.store.clone();
        tokio::spawn(
            async move {
                if let Err(e) = store.restart_session().await {
                    warn!(error = %e, "giving the session up failed; it ends when the server times it out");
                }
            }
            .in_current_span(),
        );
        None
    }
}

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

use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::runtime::events::StopReason;
use crate::runtime::worker::Inner;
use crate::store::SessionState;

impl Inner {
    /// The earliest instant the server may end the session handlers run
    /// under, from the store's knowledge and the worker's own requests.
    pub(crate) fn session_deadline(&self) -> Option<Instant> {
        let own = self
            .liveness
            .last_ok()
            .map(|t| t + self.timing.session_timeout);
        match (self.store.session_deadline(), own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When handlers must start stopping.
    pub(crate) fn stop_at(&self) -> Option<Instant> {
        self.session_deadline()
            .map(|d| d.checked_sub(self.timing.stop_lead()).unwrap_or(d))
    }

    /// Whether handlers may run now: connected under the session they run
    /// under, and before the stop instant.
    pub(crate) fn session_safe(&self) -> bool {
        let registered = self.liveness.session();
        match self.store.session_state() {
            SessionState::Connected(s) if Some(s) == registered => {
                self.stop_at().is_some_and(|at| Instant::now() < at)
            }
            _ => false,
        }
    }
}

pub(crate) async fn run(inner: Arc<Inner>, stop: CancellationToken) {
    let mut events = inner.store.session_events();
    // A lifted fence lets handlers start: re-check at once, or a guard
    // that last saw a risk would sleep a heartbeat past the stop instant.
    let mut unfences = inner.runner.unfences();
    let mut suspended_since: Option<Instant> = None;
    loop {
        let state = *events.borrow_and_update();
        let now = Instant::now();
        let registered = inner.liveness.session();
        let mut wake = None;
        let risk = match state {
            SessionState::Connected(s) if Some(s) == registered => {
                suspended_since = None;
                match inner.stop_at() {
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
                let grace_end = since + inner.timing.suspend_grace;
                match inner.stop_at() {
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
                warn!(?state, ?reason, "session at risk: stopping every handler");
            }
            if running || !inner.runner.is_fenced() {
                inner.runner.fence(reason).await;
            }
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                // Re-check now and then even without a deadline, in case the
                // registered session changes without a state change.
                None => tokio::time::sleep(inner.timing.heartbeat).await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = events.changed() => {
                if changed.is_err() {
                    inner.runner.fence(StopReason::SessionLost).await;
                    return;
                }
            }
            _ = sleep => {}
            _ = unfences.changed() => {}
        }
    }
}

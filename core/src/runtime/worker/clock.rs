//! What the worker knows about how long its session is safe: the session
//! handlers run under, the last proof that it was alive, and the instants
//! derived from them (the session deadline, the stop instant, the instant
//! by which handlers must be gone).
//!
//! Read by the guard, the reconciler and every handler (through
//! [`TaskContext::must_stop_by`](crate::TaskContext::must_stop_by)); only
//! the reconciler writes it.

use std::sync::Mutex;

use tokio::time::Instant;

use crate::runtime::timing::Timing;
use crate::store::{DynStore, SessionId, SessionState};

/// The resolution of tokio's timers.
const TIMER_TICK: std::time::Duration = std::time::Duration::from_millis(1);

/// The session clock of one worker.
#[derive(Debug)]
pub(crate) struct SessionClock {
    store: DynStore,
    timing: Timing,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    session: Option<SessionId>,
    /// Send time of the last request the server answered in `session`.
    last_ok: Option<Instant>,
}

impl SessionClock {
    pub fn new(store: DynStore, timing: Timing) -> Self {
        SessionClock {
            store,
            timing,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section is a plain read or assignment.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The session handlers run under, if any.
    pub fn session(&self) -> Option<SessionId> {
        self.lock().session
    }

    /// Handlers now run under `session` (or none).
    pub fn set_session(&self, session: Option<SessionId>) {
        let mut s = self.lock();
        if s.session != session {
            s.session = session;
            s.last_ok = None;
        }
    }

    /// A request sent at `sent` was answered in `session`.
    pub fn answered(&self, session: SessionId, sent: Instant) {
        let mut s = self.lock();
        if s.session == Some(session) && s.last_ok.is_none_or(|t| t < sent) {
            s.last_ok = Some(sent);
        }
    }

    /// The earliest instant the server may end the session handlers run
    /// under: the earlier of what the store knows and what the worker's
    /// own answered requests prove.
    pub fn session_deadline(&self) -> Option<Instant> {
        let own = self.lock().last_ok.map(|t| t + self.timing.session_timeout);
        match (self.store.session_deadline(), own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When handlers must start stopping: the stop lead before the session
    /// deadline, and one timer tick earlier still, since a timer set for
    /// an instant fires up to a tick after it.
    pub fn stop_at(&self) -> Option<Instant> {
        let lead = self.timing.stop_lead() + TIMER_TICK;
        self.session_deadline()
            .map(|d| d.checked_sub(lead).unwrap_or(d))
    }

    /// Whether handlers may run now: connected under the session they run
    /// under, and before the stop instant.
    pub fn session_safe(&self) -> bool {
        let registered = self.session();
        match self.store.session_state() {
            SessionState::Connected(s) if Some(s) == registered => {
                self.stop_at().is_some_and(|at| Instant::now() < at)
            }
            _ => false,
        }
    }

    /// The instant by which a handler started under `session` must be gone
    /// unless the session is proved alive again first: the stop instant
    /// plus the stop timeout, i.e. the safety margin before the session
    /// deadline. `None` once `session` is no longer the one handlers run
    /// under or the store no longer holds it: the handler must be gone now.
    pub fn gone_by(&self, session: SessionId) -> Option<Instant> {
        if self.session() != Some(session) {
            return None;
        }
        match self.store.session_state() {
            SessionState::Connected(s) | SessionState::Suspended(s) if s == session => {
                self.stop_at().map(|at| at + self.timing.stop_timeout)
            }
            _ => None,
        }
    }
}

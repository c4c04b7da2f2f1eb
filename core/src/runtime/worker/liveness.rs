//! What the worker knows about how long its session is safe.

use std::sync::Mutex;

use tokio::time::Instant;

use crate::store::SessionId;

/// The session the worker registered under and the last proof that it was
/// alive.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    session: Option<SessionId>,
    /// Send time of the last request the server answered in `session`.
    last_ok: Option<Instant>,
}

impl Liveness {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
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

    /// The send time of the last answered request.
    pub fn last_ok(&self) -> Option<Instant> {
        self.lock().last_ok
    }
}

//! A worker's health: what a liveness or readiness probe needs, as a value
//! ([`Worker::health`](crate::Worker::health)) and as a watch
//! ([`Worker::health_watch`](crate::Worker::health_watch)).

use crate::store::{SessionId, SessionState};

/// A worker's state as a probe reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// The store's session state.
    pub session: SessionState,
    /// Whether the worker is registered in the cluster under the current
    /// session (others see it and the leader may assign it tasks).
    pub registered: bool,
    /// Whether this worker leads the cluster.
    pub leader: bool,
    /// How many task handlers run here.
    pub tasks_held: usize,
    /// Whether the worker has fenced itself: its session may be ending,
    /// so it stopped its handlers and starts none until the session is
    /// proved alive again.
    pub fenced: bool,
}

impl Health {
    /// Ready to do its work: the session is connected, the worker is
    /// registered under it, and it is not fenced. A readiness probe should
    /// fail otherwise (`/readyz` answers 503).
    pub fn is_ready(&self) -> bool {
        matches!(self.session, SessionState::Connected(_)) && self.registered && !self.fenced
    }

    pub(crate) fn initial() -> Self {
        Health {
            session: SessionState::Connecting,
            registered: false,
            leader: false,
            tasks_held: 0,
            fenced: false,
        }
    }
}

/// What only events tell: under which session the worker registered and
/// whether it leads.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    pub registered_under: Option<SessionId>,
    pub leader: bool,
}

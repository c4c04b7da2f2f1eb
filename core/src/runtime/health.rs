//! A worker's health: what a liveness or readiness probe needs, as a value
//! ([`Worker::health`](crate::Worker::health)) and as a watch
//! ([`Worker::health_watch`](crate::Worker::health_watch)).

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::runtime::events::WorkerEventKind;
use crate::runtime::worker::Inner;
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

impl Inner {
    /// The health now, read from its sources.
    pub(crate) fn health_now(&self) -> Health {
        let session = self.member.store.session_state();
        let marks = self.health_marks.lock().unwrap_or_else(|p| p.into_inner());
        let registered =
            marks.registered_under.is_some() && marks.registered_under == session.session();
        Health {
            session,
            registered,
            leader: marks.leader && matches!(session, SessionState::Connected(_)),
            tasks_held: self.runner.running().len(),
            fenced: self.runner.is_fenced(),
        }
    }

    /// Changes what only events tell, and publishes the health.
    pub(crate) fn mark_health(&self, change: impl FnOnce(&mut Marks)) {
        change(&mut self.health_marks.lock().unwrap_or_else(|p| p.into_inner()));
        self.publish_health();
    }

    /// Publishes the health now to the watchers (and the metrics) if it
    /// changed.
    pub(crate) fn publish_health(&self) {
        let now = self.health_now();
        let changed = self.health.send_if_modified(|h| {
            let changed = *h != now;
            *h = now;
            changed
        });
        if changed {
            crate::metrics::health(&now);
        }
    }
}

/// Keeps the health watch current while the worker runs: on every session
/// change and worker event, and once a heartbeat for what changes without
/// either (a fence with no handler to stop).
pub(crate) async fn follow(inner: std::sync::Arc<Inner>, stop: CancellationToken) {
    let mut session = inner.member.store.session_events();
    let mut events = inner.member.events.subscribe();
    let mut tick = tokio::time::interval(inner.member.timing.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        inner.publish_health();
        tokio::select! {
            _ = stop.cancelled() => break,
            r = session.changed() => if r.is_err() { break },
            e = events.recv() => match e {
                Ok(e) if matches!(e.kind, WorkerEventKind::Leading { .. }) => {
                    inner.mark_health(|m| m.leader = true);
                }
                Ok(e) if matches!(e.kind, WorkerEventKind::LeadershipLost { .. }) => {
                    inner.mark_health(|m| m.leader = false);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => {}
        }
    }
    inner.publish_health();
}

/// A receiver of the health, for [`Worker::health_watch`](crate::Worker::health_watch).
pub(crate) fn watch(inner: &Inner) -> watch::Receiver<Health> {
    inner.health.subscribe()
}

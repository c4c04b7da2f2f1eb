//! How a worker keeps its [`Health`] current: read from its sources,
//! marked from its events, published to the watch and the metrics.

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::runtime::events::WorkerEventKind;
use crate::runtime::health::{Health, Marks};
use crate::runtime::worker::inner::Inner;
use crate::store::SessionState;

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

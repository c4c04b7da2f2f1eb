//! The server's view of one client: its connection, its session, and the
//! path its watch events take (held while suspended, delayed, dropped).

use std::fmt;
use std::time::Duration;

use tenure_core::store::WatchSender;
use tenure_core::{SessionId, SessionState, WatchEvent};
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::counts::OpCounts;

/// The identity of one client (one [`MemoryStore`](crate::MemoryStore) and
/// its clones) on its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ClientId(pub(crate) u64);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client#{}", self.0)
    }
}

/// The state of a client's connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// Requests reach the server; events are delivered.
    Connected,
    /// The connection is cut since `since`. `silent`: the client was not
    /// told (a silent partition): its state still says connected and its
    /// requests wait instead of failing.
    Suspended { since: Instant, silent: bool },
    /// The client closed itself.
    Closed,
}

/// How the watch events of one client are delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeliveryFaults {
    /// Every event is delivered this much later (zero: at once).
    pub(crate) delay: Duration,
    /// Node and children events are never delivered.
    pub(crate) drop: bool,
}

/// A watch event on its way out, fired once the server lock is released.
#[derive(Debug)]
pub(crate) enum Delivery {
    Now(WatchSender, WatchEvent),
    Later {
        sender: WatchSender,
        event: WatchEvent,
        after: Duration,
        handle: Handle,
    },
}

impl Delivery {
    pub(crate) fn run(self) {
        match self {
            Delivery::Now(sender, event) => sender.fire(event),
            Delivery::Later {
                sender,
                event,
                after,
                handle,
            } => {
                handle.spawn(async move {
                    tokio::time::sleep(after).await;
                    sender.fire(event);
                });
            }
        }
    }
}

/// One client as the server tracks it.
#[derive(Debug)]
pub(crate) struct ClientEntry {
    /// The negotiated session timeout.
    pub(crate) timeout: Duration,
    /// The client's current session (`None` once closed).
    pub(crate) session: Option<SessionId>,
    pub(crate) link: Link,
    /// When the server ended the session while the client was cut off; the
    /// client learns it on resume.
    pub(crate) ended_unseen: Option<Instant>,
    pub(crate) state: watch::Sender<SessionState>,
    /// False while silently partitioned: requests wait for it to turn true.
    pub(crate) reachable: watch::Sender<bool>,
    /// How often the connection dropped (a reported cut, a close): an
    /// answer on its way when it drops is lost.
    pub(crate) drops: u64,
    pub(crate) faults: DeliveryFaults,
    /// Events held while suspended, delivered on resume.
    pub(crate) held: Vec<(WatchSender, WatchEvent)>,
    /// Watches whose event was dropped: kept (never fired) so the waiting
    /// side stays pending; they fire `Lost` when the session ends.
    pub(crate) dropped: Vec<WatchSender>,
    pub(crate) counts: OpCounts,
    /// The runtime timers and delayed events of this client run on.
    pub(crate) handle: Handle,
    /// Every handle of the client was dropped without closing.
    pub(crate) detached: bool,
}

impl ClientEntry {
    pub(crate) fn new(timeout: Duration, handle: Handle) -> Self {
        ClientEntry {
            timeout,
            session: None,
            link: Link::Connected,
            ended_unseen: None,
            state: watch::Sender::new(SessionState::Connecting),
            reachable: watch::Sender::new(true),
            drops: 0,
            faults: DeliveryFaults::default(),
            held: Vec::new(),
            dropped: Vec::new(),
            counts: OpCounts::default(),
            handle,
            detached: false,
        }
    }

    /// Publishes a session state to the client's observers.
    pub(crate) fn publish(&self, state: SessionState) {
        self.state.send_replace(state);
    }

    /// Decides how an event reaches this client. `Lost` is a session
    /// notification: it is held while suspended but never delayed or
    /// dropped. Node and children events are dropped when dropping is on,
    /// held while suspended, and otherwise delayed by the configured delay.
    pub(crate) fn route(&mut self, sender: WatchSender, event: WatchEvent) -> Option<Delivery> {
        let suspended = matches!(self.link, Link::Suspended { .. });
        if event == WatchEvent::Lost {
            if suspended {
                self.held.push((sender, event));
                return None;
            }
            return Some(Delivery::Now(sender, event));
        }
        if self.faults.drop && self.link != Link::Closed {
            self.dropped.retain(|s| !s.is_abandoned());
            self.dropped.push(sender);
            return None;
        }
        if suspended {
            self.held.push((sender, event));
            return None;
        }
        if self.faults.delay.is_zero() || self.link == Link::Closed {
            Some(Delivery::Now(sender, event))
        } else {
            Some(Delivery::Later {
                sender,
                event,
                after: self.faults.delay,
                handle: self.handle.clone(),
            })
        }
    }

    /// The latest instant the server may still consider the session alive,
    /// as this client knows it. A silently partitioned client knows nothing
    /// of the cut and keeps reporting a healthy connection's deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.session?;
        match self.link {
            Link::Connected | Link::Suspended { silent: true, .. } => {
                Some(Instant::now() + self.timeout)
            }
            Link::Suspended { since, .. } => {
                let timeout_at = since + self.timeout;
                Some(self.ended_unseen.map_or(timeout_at, |t| t.min(timeout_at)))
            }
            Link::Closed => None,
        }
    }
}

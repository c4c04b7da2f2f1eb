//! The heartbeat schedule: when the next heartbeat is due, how many have
//! been sent (every [`RESYNC_EVERY`]th forgets the watches), and the watch
//! on a registration of an earlier session this worker waits to see go.
//! The heartbeat and the registration themselves are `registration.rs`'s.

use std::time::Duration;

use tokio::time::Instant;

use crate::runtime::worker::fired::fired;
use crate::store::Watch;

/// Every this many heartbeats, everything is re-read even without a watch
/// firing (heals a lost watch event). The leader's period is
/// [`Timing::leader_resync`](crate::Timing::leader_resync).
pub(crate) const RESYNC_EVERY: u32 = 12;

/// When to beat, and the registration waited for.
pub(super) struct Beat {
    next: Instant,
    count: u32,
    /// Set while the worker's name is registered by an earlier session.
    register_watch: Option<Watch>,
}

impl Beat {
    /// A heartbeat due at once.
    pub fn new() -> Self {
        Beat {
            next: Instant::now(),
            count: 0,
            register_watch: None,
        }
    }

    /// When the next heartbeat is due.
    pub fn next(&self) -> Instant {
        self.next
    }

    /// Whether the next heartbeat is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// Makes the next heartbeat (and so the next pass) due now.
    pub fn hurry(&mut self) {
        self.next = self.next.min(Instant::now());
    }

    /// A heartbeat was answered: the next is due a `period` from now.
    /// Returns whether this one is a resync (every [`RESYNC_EVERY`]th).
    pub fn beaten(&mut self, period: Duration) -> bool {
        self.next = Instant::now() + period;
        self.count = self.count.wrapping_add(1);
        self.count.is_multiple_of(RESYNC_EVERY)
    }

    /// Whether the worker still waits for an earlier session's
    /// registration to go (its watch has not fired and no heartbeat period
    /// has passed since).
    pub fn waiting_for_name(&self, now: Instant) -> bool {
        self.register_watch.is_some() && now < self.next
    }

    /// Stops waiting for the name; returns whether it was waiting.
    pub fn stop_waiting(&mut self) -> bool {
        self.register_watch.take().is_some()
    }

    /// Waits for the earlier registration behind `watch` to go. No
    /// heartbeat runs until registered: the next tick is a `period` away,
    /// or an overdue tick would wake the reconciler at once, in a loop
    /// that never lets the earlier session end.
    pub fn wait_for_name(&mut self, watch: Watch, period: Duration) {
        self.register_watch = Some(watch);
        self.next = Instant::now() + period;
    }

    /// Resolves when the earlier registration changes, and forgets its
    /// watch.
    pub async fn name_changed(&mut self) {
        fired(&mut self.register_watch).await;
        self.register_watch = None;
    }
}

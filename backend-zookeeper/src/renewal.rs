//! The session deadline and the store's own renewal.
//!
//! The deadline counts only from touches proven to have reached the
//! ZooKeeper leader ([`proof`](crate::proof) says how): every answered
//! request is noted, writes close the chain. So that the deadline keeps
//! moving when the caller only reads (or does nothing), the store writes
//! on its own every period: a `multi` holding one version check of its
//! root, which the leader commits like any write and which changes
//! nothing.
//!
//! # The ping bound
//! The leader pings each follower every `tickTime / 2`. The store cannot
//! ask the ensemble for its tickTime, so it takes an upper bound: the one
//! configured ([`ZkConfig::with_tick_time`](crate::ZkConfig::with_tick_time)),
//! or else half the granted session timeout (the server grants no less
//! than its `minSessionTimeout`, by default 2 × tickTime). The ping bound
//! `P` is five eighths of that tick: the half tick between two pings and a
//! quarter of it again for the leader's scheduling.
//!
//! # The period and the lag
//! With a write every `R`, the deadline lags at worst `P + 3R` (plus two
//! answer latencies and a sixty-fourth of `P`) behind "now + timeout":
//! just before an answer, the last proof is one period old, it proved the
//! writes answered `P` before the send of the previous write, and those
//! were sent up to one period before. That lag is the
//! [`renewal_period`](tenure_core::StoreInfo::renewal_period) the store
//! reports; a caller asking for at most `d`
//! ([`fit_renewal`](tenure_core::CoordinationStore::fit_renewal)) gets
//! `R = (d − P) / 3`, but never less than a sixteenth of the session
//! timeout (the floor) nor more than an eighth (the default).

use std::sync::Weak;
use std::time::Duration;

use tenure_core::{Path, SessionId, SessionState};
use tokio::time::Instant;

use crate::proof::{Proof, TOUCH_GRAIN};
use crate::store::{Shared, ZkStore};

/// The renewal the store runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cadence {
    /// The pause between two renewal writes (send to send).
    pub every: Duration,
    /// How far behind "now + session timeout" the deadline may fall while
    /// healthy, answer latencies aside.
    pub lag: Duration,
}

/// The bound on the leader's ping interval for a session of `timeout`,
/// with the ensemble's tickTime `tick` if known.
pub(crate) fn ping_bound(timeout: Duration, tick: Option<Duration>) -> Duration {
    let tick = tick.unwrap_or(timeout / 2);
    tick / 2 + tick / 8
}

/// The cadence for a session of `timeout`, a tick of `tick` if known and
/// the shortest lag asked for, if any.
pub(crate) fn cadence(timeout: Duration, tick: Option<Duration>, asked: Option<Duration>) -> Cadence {
    let ping = ping_bound(timeout, tick);
    let (floor, default) = (timeout / 16, timeout / 8);
    let every = match asked {
        Some(lag) => (lag.saturating_sub(ping + ping / TOUCH_GRAIN) / 3).clamp(floor, default),
        None => default,
    };
    Cadence {
        every,
        lag: ping + ping / TOUCH_GRAIN + every * 3,
    }
}

impl Shared {
    /// The live session's granted timeout (the one asked for while there
    /// is none).
    fn timeout(&self) -> Duration {
        self.live_client()
            .map_or(self.config.session_timeout, |l| l.timeout)
    }

    /// The renewal now in effect.
    pub(crate) fn cadence(&self) -> Cadence {
        let asked = *self.renew_within.lock().unwrap_or_else(|p| p.into_inner());
        cadence(self.timeout(), self.config.tick_time, asked)
    }

    /// Asks for a deadline lag of at most `lag` (the shortest asked wins);
    /// returns the cadence now in effect.
    pub(crate) fn fit(&self, lag: Duration) -> Cadence {
        {
            let mut asked = self.renew_within.lock().unwrap_or_else(|p| p.into_inner());
            *asked = Some(asked.map_or(lag, |a| a.min(lag)));
        }
        self.renew_changed.notify_one();
        self.cadence()
    }

    /// A new session, whose creation was asked for at `started`.
    pub(crate) fn begin(&self, session: SessionId, started: Instant) {
        *self.proof.lock().unwrap_or_else(|p| p.into_inner()) = Some(Proof::new(session, started));
    }

    /// A request of `session` sent at `sent` was answered by the server
    /// (now); `write` when the leader committed it.
    pub(crate) fn note_answer(&self, session: SessionId, sent: Instant, write: bool) {
        let ping = ping_bound(self.timeout(), self.config.tick_time);
        let mut proof = self.proof.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = proof.as_mut().filter(|p| p.session() == session) {
            p.answered(sent, Instant::now(), write, ping);
        }
    }

    /// The earliest instant the leader may end the live session, while it
    /// is connected or suspended.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let (SessionState::Connected(s) | SessionState::Suspended(s)) = *self.state.borrow() else {
            return None;
        };
        let live = self.live_client().filter(|l| l.session == s)?;
        let proof = self.proof.lock().unwrap_or_else(|p| p.into_inner());
        proof
            .as_ref()
            .filter(|p| p.session() == s)
            .map(|p| p.proven() + live.timeout)
    }
}

/// Writes every period of the cadence, on whatever session is live, until
/// the store is closed or dropped.
pub(crate) async fn run(shared: Weak<Shared>) {
    let Some((closed, changed)) = shared
        .upgrade()
        .map(|s| (s.closed.clone(), s.renew_changed.clone()))
    else {
        return;
    };
    let mut last = Instant::now();
    loop {
        let Some(every) = shared.upgrade().map(|s| s.cadence().every) else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep_until(last + every) => {}
            () = changed.notified() => continue,
            () = closed.cancelled() => return,
        }
        last = Instant::now();
        let Some(shared) = shared.upgrade() else {
            return;
        };
        renew_once(&ZkStore { shared }).await;
    }
}

/// One renewal write: a `multi` checking the store's root at any version.
async fn renew_once(store: &ZkStore) {
    let Ok(live) = store.live() else {
        return;
    };
    let root = Path::root();
    let mut writer = live.client.new_multi_writer();
    if let Err(e) = writer.add_check_version(root.as_str(), -1) {
        tracing::warn!(error = %e, "ZooKeeper renewal request could not be built");
        return;
    }
    let answer = store
        .request(&live, "renewal", &root, true, writer.commit())
        .await;
    match answer {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::debug!(session = %live.session, error = %e, "ZooKeeper renewal refused"),
        Err(e) => tracing::debug!(session = %live.session, error = %e, "ZooKeeper renewal unanswered"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn the_ping_bound_is_five_eighths_of_the_tick_or_of_half_the_timeout() {
        assert_eq!(ping_bound(T, Some(Duration::from_millis(80))), Duration::from_millis(50));
        assert_eq!(ping_bound(T, None), Duration::from_micros(312_500));
    }

    #[test]
    fn the_lag_is_the_ping_bound_and_three_periods() {
        let c = cadence(T, None, None);
        assert_eq!(c.every, T / 8);
        assert_eq!(c.lag, ping_bound(T, None) * 65 / 64 + T * 3 / 8);
    }

    #[test]
    fn a_lag_asked_for_is_kept_down_to_the_floor() {
        let tick = Some(Duration::from_millis(80));
        let c = cadence(T, tick, Some(Duration::from_millis(400)));
        assert!(c.lag <= Duration::from_millis(400), "{c:?}");
        assert!(c.every > T / 16, "{c:?}");
        let floor = cadence(T, tick, Some(Duration::ZERO));
        assert_eq!(floor.every, T / 16);
        assert_eq!(cadence(T, tick, Some(Duration::from_millis(1))), floor);
        // Asking for more than the default changes nothing.
        assert_eq!(cadence(T, tick, Some(T * 10)), cadence(T, tick, None));
    }

    #[test]
    fn without_a_tick_the_floor_fits_half_the_timeout() {
        let floor = cadence(T, None, Some(Duration::ZERO));
        assert!(floor.lag <= T / 2 + T / 100, "{floor:?}");
    }
}

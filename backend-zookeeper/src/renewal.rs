//! The session deadline and the store's own renewal.
//!
//! The deadline counts only from touches proven to have reached the
//! ZooKeeper leader ([`proof`](crate::proof) says how): every answered
//! request is noted, writes and `sync`s close the chain. So that the
//! deadline keeps moving when the caller only reads (or does nothing),
//! the store runs a renewal round every period, one chain of its own:
//!
//! 1. an `exists` of its root (`r`, answered by its server);
//! 2. a ping bound (and a grain) after that answer, a `multi` holding one version check
//!    of its root at any version (`m`: the leader commits it like any
//!    write, and it changes nothing);
//! 3. once that is answered, a `sync` (`n`).
//!
//! When the `sync` is answered, the send time of the `exists` is proven.
//! Rounds start every period whatever the previous one does, so they
//! overlap when the period is shorter than the ping bound.
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
//! With a round every `R`, the deadline lags at worst `P + R` (plus a
//! sixty-fourth of `P`, and the three answer latencies of a round) behind
//! "now + timeout": just before a round's proof, the last one is a period
//! old and proved a send a ping bound and three answers older. That lag
//! is the [`renewal_period`](tenure_core::StoreInfo::renewal_period) the
//! store reports; a caller asking for at most `d`
//! ([`fit_renewal`](tenure_core::CoordinationStore::fit_renewal)) gets
//! `R = d − P`, but never less than an eighth of the session timeout (the
//! floor) nor more than a quarter (the default).

use std::sync::Weak;
use std::time::Duration;

use tenure_core::{Path, SessionId, SessionState};
use tokio::time::Instant;

use crate::proof::{Proof, Reach, TOUCH_GRAIN};
use crate::shared::Shared;

/// The renewal the store runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cadence {
    /// The ping bound `P`.
    pub ping: Duration,
    /// The pause between the starts of two renewal rounds.
    pub every: Duration,
    /// How far behind "now + session timeout" the deadline may fall while
    /// healthy, answer latencies aside.
    pub lag: Duration,
}

/// The cadence for a session of `timeout`, a tick of `tick` if known and
/// the shortest lag asked for, if any.
pub(crate) fn cadence(
    timeout: Duration,
    tick: Option<Duration>,
    asked: Option<Duration>,
) -> Cadence {
    let tick = tick.unwrap_or(timeout / 2);
    let ping = tick / 2 + tick / 8;
    let fixed = ping + ping / TOUCH_GRAIN;
    let (floor, default) = (timeout / 8, timeout / 4);
    let every = match asked {
        Some(lag) => lag.saturating_sub(fixed).clamp(floor, default),
        None => default,
    };
    Cadence {
        ping,
        every,
        lag: fixed + every,
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
        self.renew_changed.notify_one();
    }

    /// A request of `session` sent at `sent` was answered (now), and
    /// `reach` says who saw it.
    pub(crate) fn note_answer(&self, session: SessionId, sent: Instant, reach: Reach) {
        let ping = self.cadence().ping;
        let mut proof = self.proof.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = proof.as_mut().filter(|p| p.session() == session) {
            p.answered(sent, Instant::now(), reach, ping);
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

/// Starts a renewal round every period of the cadence, on whatever session
/// is live (at once for a session not renewed yet), until the store is
/// closed or dropped.
pub(crate) async fn run(shared: Weak<Shared>) {
    let Some((closed, changed)) = shared
        .upgrade()
        .map(|s| (s.closed.clone(), s.renew_changed.clone()))
    else {
        return;
    };
    let mut last: Option<(SessionId, Instant)> = None;
    loop {
        let Some((every, live)) = shared
            .upgrade()
            .map(|s| (s.cadence().every, s.live_client().map(|l| l.session)))
        else {
            return;
        };
        let next = match (last, live) {
            (Some((session, at)), Some(now)) if session == now => at + every,
            // A new session: its deadline counts from its start until the
            // first round's proof; begin now.
            (_, Some(_)) => Instant::now(),
            // No session (given up, not opened yet): look again later.
            (_, None) => Instant::now() + every,
        };
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = changed.notified() => continue,
            () = closed.cancelled() => return,
        }
        let Some(store) = shared.upgrade() else {
            return;
        };
        // A session not connected now skips this round.
        last = live.map(|s| (s, Instant::now()));
        if let Ok(live) = store.live() {
            tokio::spawn(round(shared.clone(), live.session));
        }
    }
}

/// One renewal round on `session`; gives up at the first request that
/// fails, or once `session` is no longer the live one. Holds neither the
/// store nor the session's client between requests (a client held would
/// keep the session from closing).
async fn round(shared: Weak<Shared>, session: SessionId) {
    let root = Path::root();
    let step = async |what: &str, reach: Reach| -> bool {
        let Some(store) = shared.upgrade() else {
            return false;
        };
        let Ok(live) = store
            .live()
            .map_err(drop)
            .and_then(|l| if l.session == session { Ok(l) } else { Err(()) })
        else {
            return false;
        };
        let answer = match reach {
            Reach::Server => {
                let request = live.client.check_stat(root.as_str());
                let answer = store.request(&live, what, &root, reach, request).await;
                answer.map(|a| a.map(drop))
            }
            Reach::Quorum => {
                let mut writer = live.client.new_multi_writer();
                if let Err(e) = writer.add_check_version(root.as_str(), -1) {
                    tracing::warn!(error = %e, "the ZooKeeper renewal write could not be built");
                    return false;
                }
                let answer = store
                    .request(&live, what, &root, reach, writer.commit())
                    .await;
                answer.map(|a| a.map(drop).map_err(zookeeper_client::Error::from))
            }
            Reach::Leader => {
                let request = live.client.sync(root.as_str());
                store.request(&live, what, &root, reach, request).await
            }
        };
        match answer {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::debug!(%session, error = %e, "ZooKeeper renewal {what} refused");
                false
            }
            Err(e) => {
                tracing::debug!(%session, error = %e, "ZooKeeper renewal {what} unanswered");
                false
            }
        }
    };
    if !step("exists", Reach::Server).await {
        return;
    }
    let Some((ping, closed)) = shared
        .upgrade()
        .map(|s| (s.cadence().ping, s.closed.clone()))
    else {
        return;
    };
    // A grain more: the answer may be noted together with others answered
    // up to a grain later.
    tokio::select! {
        () = tokio::time::sleep(ping + ping / TOUCH_GRAIN) => {}
        () = closed.cancelled() => return,
    }
    if step("write", Reach::Quorum).await {
        step("sync", Reach::Leader).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn the_ping_bound_is_five_eighths_of_the_tick_or_of_half_the_timeout() {
        let tick = Some(Duration::from_millis(80));
        assert_eq!(cadence(T, tick, None).ping, Duration::from_millis(50));
        assert_eq!(cadence(T, None, None).ping, Duration::from_micros(312_500));
    }

    #[test]
    fn the_lag_is_the_ping_bound_and_one_period() {
        let c = cadence(T, None, None);
        assert_eq!(c.every, T / 4);
        assert_eq!(c.lag, c.ping + c.ping / TOUCH_GRAIN + T / 4);
    }

    #[test]
    fn a_lag_asked_for_is_kept_down_to_the_floor() {
        let tick = Some(Duration::from_millis(80));
        let asked = Duration::from_millis(200);
        let c = cadence(T, tick, Some(asked));
        assert_eq!(c.lag, asked);
        assert!(c.every > T / 8, "{c:?}");
        let floor = cadence(T, tick, Some(Duration::ZERO));
        assert_eq!(floor.every, T / 8);
        assert_eq!(cadence(T, tick, Some(Duration::from_millis(1))), floor);
        // Asking for more than the default changes nothing.
        assert_eq!(cadence(T, tick, Some(T * 10)), cadence(T, tick, None));
    }

    #[test]
    fn without_a_tick_the_floor_fits_under_half_the_timeout() {
        let floor = cadence(T, None, Some(Duration::ZERO));
        assert!(floor.lag < T / 2, "{floor:?}");
    }
}

//! The timing of a worker, derived from the session timeout.
//!
//! A worker must have stopped its handlers before the server could end its
//! session (and let another worker claim its tasks). The store tells the
//! earliest instant the server may end the session (the *session
//! deadline*); the worker starts stopping handlers at
//! `deadline − stop_timeout − safety_margin`, so even a handler that needs
//! its whole stop timeout is gone `safety_margin` before the deadline. The
//! heartbeat keeps the deadline moving while the connection is healthy.
//!
//! The deadline only moves when the session is renewed: by the worker's
//! heartbeat, and by the store's own renewal (etcd's keep-alives). Just
//! before a renewal is answered, the deadline is only
//! `session_timeout − renewal period − answer latency` ahead of now; the
//! stop lead must fit in that, or the worker would stop its handlers on
//! every renewal and start them again (a worker that is never steady).
//! [`Timing::validate`] checks exactly that, with the store's renewal
//! period, and the worker asks the store to renew at least every heartbeat
//! ([`CoordinationStore::fit_renewal`](crate::CoordinationStore::fit_renewal)).

use std::time::Duration;

use crate::error::{Error, Result};

/// Timing knobs of a worker. Build with [`Timing::for_session`] and adjust.
///
/// With the `serde` feature it deserializes from the session timeout and
/// the knobs a [`WorkerBuilder`](crate::WorkerBuilder) sets, durations as
/// text; the other fields follow from the session timeout as in
/// [`Timing::for_session`], and the result must pass [`Timing::validate`]
/// (or the error names the fields and the rule). Unknown fields are
/// refused.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use tenure_core::Timing;
///
/// let timing: Timing = toml::from_str(
///     r#"
///     session_timeout = "10s"   # required
///     stop_timeout = "1s500ms"  # the others are optional
///     suspend_grace = "1s"
///     handoff_timeout = "30s"
///     leader_resync = "1m"
///     "#,
/// )
/// .unwrap();
/// assert_eq!(timing.stop_timeout, Duration::from_millis(1500));
/// assert_eq!(timing.heartbeat, Timing::for_session(Duration::from_secs(10)).heartbeat);
///
/// let unfit = toml::from_str::<Timing>("session_timeout = \"2s\"\nstop_timeout = \"2s\"");
/// assert!(unfit.unwrap_err().to_string().contains("must be below the session timeout"));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(try_from = "crate::config_file::RawTiming")
)]
pub struct Timing {
    /// The session timeout the server granted.
    pub session_timeout: Duration,
    /// How long a cancelled handler may take to stop before its future is
    /// dropped. Default: a quarter of the session timeout.
    pub stop_timeout: Duration,
    /// How long handlers keep running after the connection is reported
    /// suspended, if the session deadline allows it. Default: zero (stop at
    /// once: "suspended means lost").
    pub suspend_grace: Duration,
    /// Slack for clock-rate drift between this machine and the server.
    /// Default: a tenth of the session timeout.
    pub safety_margin: Duration,
    /// How often the worker proves its session alive with a request.
    /// Default: a sixth of the session timeout.
    pub heartbeat: Duration,
    /// How long the store may go without renewing the session on its own
    /// ([`StoreInfo::renewal_period`](crate::StoreInfo::renewal_period)):
    /// set by the worker from its store. Default: zero.
    pub renewal_period: Duration,
    /// How long a graceful shutdown waits for the leader to move the
    /// worker's tasks elsewhere before releasing them anyway. Default: twice
    /// the session timeout.
    pub handoff_timeout: Duration,
    /// Pause before a leader round, to coalesce bursts of changes.
    /// Default: 20 ms.
    pub debounce: Duration,
    /// How often the leader re-reads all its inputs (every worker, task and
    /// ownership record) although no watch fired, and how often a worker
    /// waiting for the `leader` node to go looks at it again: both heal a
    /// lost watch event, so this bounds how long one can delay a
    /// reassignment. Between re-reads the leader reads only what its
    /// watches report changed. Default: 60 s, at least twice the session
    /// timeout.
    pub leader_resync: Duration,
}

impl Timing {
    /// The defaults for a session timeout.
    pub fn for_session(session_timeout: Duration) -> Self {
        Timing {
            session_timeout,
            stop_timeout: session_timeout / 4,
            suspend_grace: Duration::ZERO,
            safety_margin: session_timeout / 10,
            heartbeat: session_timeout / 6,
            renewal_period: Duration::ZERO,
            handoff_timeout: session_timeout * 2,
            debounce: Duration::from_millis(20),
            leader_resync: Duration::from_secs(60).max(session_timeout * 2),
        }
    }

    /// How long before the session deadline handlers start stopping.
    pub fn stop_lead(&self) -> Duration {
        self.stop_timeout + self.safety_margin
    }

    /// How long an answer may take on a healthy connection, as
    /// [`Timing::validate`] allows for it: a twentieth of the session
    /// timeout. Answers slower than that, just before a renewal, can make
    /// the deadline come closer than the stop lead: handlers stop (safe,
    /// not steady).
    pub fn answer_allowance(&self) -> Duration {
        self.session_timeout / 20
    }

    /// The longest the session deadline may go without moving forward
    /// while the connection is healthy: the longer of the heartbeat and
    /// the store's renewal period.
    pub fn renewal_gap(&self) -> Duration {
        self.heartbeat.max(self.renewal_period)
    }

    /// Shortens the heartbeat so that at least three renewals fit in the
    /// time the deadline may run down before handlers must stop (the
    /// session timeout less the stop lead, the suspend grace and the
    /// answer allowance): then one slow answer, or a short stall of the
    /// machine, does not stop every handler. A long stop timeout in a
    /// short session makes the heartbeat shorter than a sixth of the
    /// session, but never shorter than a thirtieth (then fewer renewals
    /// fit, and [`Timing::validate`] refuses a stop lead that leaves room
    /// for none); the defaults keep it.
    pub fn fit_heartbeat(&mut self) {
        let room = self
            .session_timeout
            .saturating_sub(self.stop_lead() + self.suspend_grace + self.answer_allowance());
        let fitted = (room / 3).max(self.session_timeout / 30);
        self.heartbeat = self.heartbeat.min(fitted);
    }

    /// Fits the heartbeat ([`Timing::fit_heartbeat`]) and asks `store` to
    /// renew its session at least every heartbeat, so that the deadline
    /// stays as far ahead as the heartbeat alone would keep it; records the
    /// renewal period the store then has. What a worker does before
    /// [`Timing::validate`].
    pub fn fit_to_store(&mut self, store: &dyn crate::CoordinationStore) {
        self.fit_heartbeat();
        self.renewal_period = store.fit_renewal(self.heartbeat);
    }

    /// How long a worker may stay unable to lift its fence while its
    /// store reports the same session connected, before it gives the
    /// session up so that others take its tasks over: twice the session
    /// timeout (longer than a worker ever waits for a registration of an
    /// earlier session of its own to end).
    pub fn give_up_after(&self) -> Duration {
        self.session_timeout * 2
    }

    /// The longest a graceful shutdown takes, even if the store stops
    /// answering: the handoff timeout (leaving and waiting for the leader),
    /// the stop timeout (handlers), one heartbeat for the releases and one
    /// for the leader to resign. Scheduling delays come on top.
    pub fn shutdown_bound(&self) -> Duration {
        self.handoff_timeout + self.stop_timeout + self.heartbeat * 2
    }

    /// Checks that handlers can be stopped in time, and that a healthy
    /// worker stays steady: the renewal gap (the longer of the heartbeat
    /// and the store's renewal period), the answer allowance, the suspend
    /// grace, the stop timeout and the safety margin must fit in the
    /// session timeout.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming every term, the sum and the limit.
    pub fn validate(&self) -> Result<()> {
        let needed = self.renewal_gap()
            + self.answer_allowance()
            + self.suspend_grace
            + self.stop_timeout
            + self.safety_margin;
        if self.session_timeout.is_zero() || needed >= self.session_timeout {
            return Err(Error::InvalidInput(format!(
                "renewal gap ({:?}: heartbeat {:?}, store renewal {:?}) + answer allowance ({:?}) + suspend grace ({:?}) + stop timeout ({:?}) + safety margin ({:?}) = {needed:?} must be below the session timeout ({:?}): handlers must be stopped before the session could end, and a healthy worker must not stop them between two renewals; shorten them or use a longer session",
                self.renewal_gap(),
                self.heartbeat,
                self.renewal_period,
                self.answer_allowance(),
                self.suspend_grace,
                self.stop_timeout,
                self.safety_margin,
                self.session_timeout
            )));
        }
        if self.heartbeat.is_zero() {
            return Err(Error::InvalidInput("heartbeat must be positive".into()));
        }
        if self.leader_resync.is_zero() {
            return Err(Error::InvalidInput(
                "leader re-read period must be positive".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fit_in_the_session() {
        Timing::for_session(Duration::from_secs(2))
            .validate()
            .unwrap();
    }

    #[test]
    fn the_heartbeat_leaves_room_for_three_renewals() {
        let mut t = Timing::for_session(Duration::from_secs(2));
        t.fit_heartbeat();
        assert_eq!(
            t.heartbeat,
            Duration::from_secs(2) / 6,
            "the defaults keep it"
        );
        // The CLI's 2 s session: stop timeout 1.14 s, margin 200 ms.
        t.stop_timeout = Duration::from_millis(1140);
        t.fit_heartbeat();
        assert_eq!(t.heartbeat, Duration::from_millis(560) / 3);
        t.validate().unwrap();
        // Never below a thirtieth of the session: a stop lead that leaves
        // no room for that is refused.
        t.stop_timeout = Duration::from_millis(1650);
        t.fit_heartbeat();
        assert_eq!(t.heartbeat, Duration::from_secs(2) / 30);
        assert!(t.validate().is_err());
    }

    #[test]
    fn a_store_renewal_longer_than_the_room_is_refused() {
        // A 2 s etcd lease renewed every 667 ms leaves 1.33 s ahead of
        // now: a stop lead of 1.42 s (stop timeout 1.22 s) does not fit.
        let mut t = Timing::for_session(Duration::from_secs(2));
        t.stop_timeout = Duration::from_millis(1220);
        t.renewal_period = Duration::from_millis(667);
        let err = t.validate().unwrap_err().to_string();
        assert!(err.contains("store renewal 667ms"), "{err}");
        t.renewal_period = t.heartbeat;
        t.stop_timeout = Duration::from_millis(1140);
        t.validate().unwrap();
    }

    #[test]
    fn a_grace_as_long_as_the_session_is_refused() {
        let mut t = Timing::for_session(Duration::from_secs(2));
        t.suspend_grace = Duration::from_secs(2);
        let err = t.validate().unwrap_err().to_string();
        assert!(err.contains("session timeout"), "{err}");
    }
}

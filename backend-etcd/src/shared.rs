//! What the clones of an [`EtcdStore`](crate::EtcdStore) and its
//! background tasks share: the client, the live lease, the session state,
//! the keep-alive period, and the plumbing every request goes through.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use etcd_client::Client;
use tenure_core::{Error, Result, SessionId, SessionState};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::EtcdConfig;
use crate::endpoints::Rotation;
use crate::errors;
use crate::keys::Keys;
use crate::watch::WatchHub;

/// What the clones of a store and its background tasks share.
pub(crate) struct Shared {
    pub(crate) config: EtcdConfig,
    pub(crate) keys: Keys,
    pub(crate) client: Client,
    pub(crate) state: watch::Sender<SessionState>,
    /// The live lease; `None` between an expiry and the next grant, and
    /// once closed.
    pub(crate) lease: Mutex<Option<LiveLease>>,
    pub(crate) closed: CancellationToken,
    /// Wakes the session supervisor to renew (and so test the connection)
    /// at once, after a request failed in a way that suggests trouble.
    pub(crate) probe: Notify,
    pub(crate) hub: WatchHub,
    /// The endpoints the client sends requests to (see `endpoints.rs`).
    pub(crate) rotation: Arc<Rotation>,
    /// The longest keep-alive period a caller asked for
    /// ([`CoordinationStore::fit_renewal`]), if any.
    pub(crate) renew_within: Mutex<Option<Duration>>,
}

/// A lease the server granted, and how long it is known to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LiveLease {
    pub(crate) id: i64,
    /// The TTL the server granted.
    pub(crate) ttl: Duration,
    /// The send time of the last answered renewal (or of the grant) plus
    /// the TTL it reported.
    pub(crate) deadline: Instant,
}

impl LiveLease {
    pub(crate) fn session(&self) -> SessionId {
        session_of(self.id)
    }
}

/// The session id of a lease.
pub(crate) fn session_of(lease: i64) -> SessionId {
    SessionId(lease as u64)
}

/// The shortest pause between keep-alives, whatever the configuration.
pub(crate) const MIN_PERIOD: Duration = Duration::from_millis(100);

/// The longest default pause between keep-alives.
const MAX_DEFAULT_PERIOD: Duration = Duration::from_secs(1);

/// The pause between keep-alives for a lease of `ttl`, which is also how
/// long an answer may take before the connection counts as suspended:
/// `configured`, or a third of the TTL but at most 1 s; shortened to
/// `within` (what a caller asked for with `fit_renewal`) but never below
/// the floor, a tenth of the TTL or 100 ms.
pub(crate) fn period(
    ttl: Duration,
    configured: Option<Duration>,
    within: Option<Duration>,
) -> Duration {
    let floor = (ttl / 10).max(MIN_PERIOD);
    let chosen = configured.unwrap_or_else(|| (ttl / 3).min(MAX_DEFAULT_PERIOD));
    within.map_or(chosen, |w| chosen.min(w)).max(floor)
}

impl Shared {
    /// The TTL of the live lease, or the one asked for.
    pub(crate) fn ttl(&self) -> Duration {
        self.current_lease()
            .map_or(self.config.session_timeout, |l| l.ttl)
    }

    /// The keep-alive period now in effect.
    pub(crate) fn renewal_period(&self) -> Duration {
        let within = *self.renew_within.lock().unwrap_or_else(|p| p.into_inner());
        period(self.ttl(), self.config.keep_alive_interval, within)
    }
}

impl Shared {
    pub(crate) fn current_lease(&self) -> Option<LiveLease> {
        *self.lease.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_lease(&self, lease: Option<LiveLease>) {
        *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = lease;
    }

    /// Fails with `Closed` once closed, and with `ConnectionLost` at once
    /// while suspended (the request could only wait).
    pub(crate) fn usable(&self) -> Result<()> {
        if self.closed.is_cancelled() {
            return Err(Error::Closed);
        }
        match *self.state.borrow() {
            SessionState::Closed => Err(Error::Closed),
            SessionState::Suspended(s) => Err(Error::ConnectionLost {
                detail: format!(
                    "no answer from etcd to the keep-alives of session {s}; retry once reconnected"
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The lease of `session` if it is the live one.
    ///
    /// # Errors
    /// [`Error::SessionExpired`] naming `session` otherwise.
    pub(crate) fn live_lease(&self, session: SessionId) -> Result<i64> {
        match *self.state.borrow() {
            SessionState::Connected(s) if s == session => self
                .current_lease()
                .filter(|l| l.session() == session)
                .map(|l| l.id)
                .ok_or(Error::SessionExpired { session: session.0 }),
            _ => Err(Error::SessionExpired { session: session.0 }),
        }
    }

    /// Runs one request, bounded by the request timeout, mapping its
    /// error; `session` is the lease the request uses, if any.
    ///
    /// Within the timeout the request is sent again after a failure that
    /// proves it was not applied (the connection to the chosen member could
    /// not be opened — the rotation then drops the endpoints that refuse —,
    /// or the member has no leader), and, when `retry` is
    /// [`Retry::Idempotent`], after any transport failure.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        what: impl FnOnce() -> String,
        session: Option<SessionId>,
        retry: Retry,
        mut request: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, etcd_client::Error>>,
    {
        let after = self.config.request_timeout;
        let deadline = Instant::now() + after;
        loop {
            let outcome = tokio::select! {
                outcome = tokio::time::timeout_at(deadline, request()) => outcome,
                () = self.closed.cancelled() => return Err(Error::Closed),
            };
            let e = match outcome {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(e)) => e,
                Err(_) => {
                    self.probe.notify_one();
                    return Err(errors::timeout(what(), after));
                }
            };
            let again =
                errors::not_applied(&e) || (retry == Retry::Idempotent && errors::is_transport(&e));
            if errors::connect_failed(&e) {
                self.rotation.report_trouble();
            }
            if again && Instant::now() + RETRY_PAUSE < deadline {
                tracing::debug!(error = %e, "etcd request failed before it applied; sending it again");
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
            let mapped = errors::map(e, session);
            if matches!(
                mapped,
                Error::ConnectionLost { .. } | Error::SessionExpired { .. }
            ) {
                self.probe.notify_one();
            }
            return Err(mapped);
        }
    }
}

/// Whether a request may be sent again after any transport failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads: sending twice does no harm.
    Idempotent,
    /// Writes: sent again only when it certainly did not apply.
    UnlessApplied,
}

/// The pause before sending a failed request again.
const RETRY_PAUSE: Duration = Duration::from_millis(25);

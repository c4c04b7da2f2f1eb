//! The session: a lease kept alive by a background task, its states, and
//! a new lease after expiry.
//!
//! The supervisor sends a keep-alive every *period* — a third of the TTL,
//! but at most 1 s (configurable) — on one keep-alive stream. Each answer
//! moves the session deadline to the send time of the answered keep-alive
//! plus the TTL the server reported.
//!
//! Why not just TTL/3: the keep-alives are also how the store learns that
//! the connection is gone, and the runtime must stop its task handlers
//! well before the lease can expire. With a 10 s TTL and keep-alives every
//! 3.3 s a cut connection went unnoticed for up to 4.3 s, and the deadline
//! the store could vouch for was as little as 6.7 s away; with 1 s it is
//! noticed within 2 s and the deadline stays 9–10 s away. A renewal is
//! cheap for etcd (the leader extends the lease in memory).
//!
//! - No answer within one period, or a broken stream whose re-opening
//!   fails: `Suspended(s)`. The lease may still be alive; the supervisor
//!   keeps trying and returns to `Connected(s)` at the first answer.
//! - An answer with TTL 0, or "lease not found": the lease is gone and its
//!   keys with it: `Expired(s)`, every pending watch fires `Lost`, and a new
//!   lease is granted (retrying with a capped backoff): `Connected(t)`.
//!
//! The HTTP/2 keep-alive pings of the connection use the same period, so a
//! silently dead connection is torn down (and the watch stream re-opened)
//! within about two periods.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{LeaseKeepAliveStream, LeaseKeeper};
use tenure_core::SessionState;
use tenure_core::backoff::Backoff;
use tokio::time::{Instant, sleep_until};

use crate::shared::{LiveLease, MIN_PERIOD, Shared};
use crate::{connect, errors};

/// How many times in a row opening the keep-alive stream may fail to
/// connect (a member down) before the session counts as suspended: each
/// failure takes the refusing member out of the rotation first.
const QUICK_REOPENS: u32 = 3;

/// The pause before such a quick re-open.
const REOPEN_PAUSE: Duration = Duration::from_millis(50);

enum End {
    Closed,
    Expired,
}

/// Keeps the store's session alive until the store closes.
pub(crate) async fn supervise(shared: Arc<Shared>, mut lease: LiveLease) {
    loop {
        match keep(&shared, lease).await {
            End::Closed => {
                revoke_on_drop(&shared).await;
                return;
            }
            End::Expired => {
                let s = lease.session();
                tracing::warn!(session = %s, "etcd lease expired; granting a new one");
                shared.set_lease(None);
                shared.state.send_replace(SessionState::Expired(s));
                shared.hub.session_ended();
                match renew(&shared).await {
                    Some(next) => {
                        lease = next;
                        shared.set_lease(Some(lease));
                        shared
                            .state
                            .send_replace(SessionState::Connected(lease.session()));
                        tracing::info!(session = %lease.session(), "etcd session renewed");
                    }
                    None => return,
                }
            }
        }
    }
}

/// Keeps `lease` alive until it is gone or the store closes.
async fn keep(shared: &Shared, lease: LiveLease) -> End {
    let mut period = shared.renewal_period();
    let mut lease_client = shared.client.lease_client();
    let mut stream: Option<(LeaseKeeper, LeaseKeepAliveStream)> = None;
    let mut sent: VecDeque<Instant> = VecDeque::new();
    let mut next_send = Instant::now() + period;
    let mut last_send = Instant::now();
    // Quick re-opens in a row after a member refused the connection.
    let mut reconnects = 0u32;
    loop {
        // A caller may have shortened the period (`fit_renewal`).
        period = shared.renewal_period();
        let probe = period;
        let overdue_at = sent.front().map(|t| *t + probe);
        tokio::select! {
            () = shared.closed.cancelled() => return End::Closed,
            () = sleep_until(next_send) => {
                let now = Instant::now();
                last_send = now;
                next_send = now + period;
                match stream.as_mut() {
                    Some((keeper, _)) => {
                        if keeper.keep_alive().await.is_ok() {
                            sent.push_back(now);
                        } else {
                            stream = None;
                            sent.clear();
                            next_send = now;
                        }
                    }
                    None => {
                        let opening = lease_client.keep_alive(lease.id);
                        match tokio::time::timeout(probe, opening).await {
                            Ok(Ok(opened)) => {
                                reconnects = 0;
                                stream = Some(opened);
                                renewed(shared, now, lease.ttl);
                            }
                            Ok(Err(e)) if is_lease_gone(&e) => return End::Expired,
                            Ok(Err(e)) if errors::connect_failed(&e) && reconnects < QUICK_REOPENS => {
                                // The member chosen is down: the rotation
                                // drops it; try another at once.
                                reconnects += 1;
                                shared.rotation.report_trouble();
                                next_send = now + REOPEN_PAUSE;
                            }
                            Ok(Err(e)) => {
                                suspend(shared, &e.to_string());
                                next_send = now + probe;
                            }
                            Err(_) => {
                                suspend(shared, "no answer to a keep-alive");
                                next_send = now + probe;
                            }
                        }
                    }
                }
            }
            () = shared.probe.notified() => {
                // Renew now, unless a keep-alive went out a moment ago.
                if last_send.elapsed() >= MIN_PERIOD {
                    next_send = Instant::now();
                } else {
                    next_send = next_send.min(last_send + shared.renewal_period());
                }
            }
            () = sleep_until(overdue_at.unwrap_or_else(Instant::now)), if overdue_at.is_some() => {
                suspend(shared, "a keep-alive was not answered in time");
                stream = None;
                sent.clear();
                next_send = Instant::now();
            }
            answer = next_answer(&mut stream) => match answer {
                Ok(Some(answer)) if answer.ttl() <= 0 => return End::Expired,
                Ok(Some(answer)) => {
                    let at = sent.pop_front().unwrap_or_else(Instant::now);
                    let ttl = Duration::from_secs(u64::try_from(answer.ttl()).unwrap_or(0));
                    renewed(shared, at, ttl);
                }
                Ok(None) | Err(_) => {
                    // Re-open at once; only a failure to do so suspends.
                    stream = None;
                    sent.clear();
                    next_send = Instant::now();
                }
            },
        }
    }
}

async fn next_answer(
    stream: &mut Option<(LeaseKeeper, LeaseKeepAliveStream)>,
) -> Result<Option<etcd_client::LeaseKeepAliveResponse>, etcd_client::Error> {
    match stream {
        Some((_, answers)) => answers.message().await,
        None => std::future::pending().await,
    }
}

/// Whether etcd says the lease no longer exists.
fn is_lease_gone(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::LeaseKeepAliveError(m) => m.contains("lease not found"),
        etcd_client::Error::GRpcStatus(s) => s.message().contains("lease not found"),
        _ => false,
    }
}

/// Records an answered renewal sent at `sent`: a new deadline, and the
/// connection is up.
fn renewed(shared: &Shared, sent: Instant, ttl: Duration) {
    let Some(mut lease) = shared.current_lease() else {
        return;
    };
    lease.deadline = sent + ttl;
    shared.set_lease(Some(lease));
    shared.state.send_if_modified(|state| match *state {
        SessionState::Suspended(s) if s == lease.session() => {
            tracing::info!(session = %s, "etcd connection back");
            *state = SessionState::Connected(s);
            true
        }
        _ => false,
    });
}

fn suspend(shared: &Shared, why: &str) {
    shared.state.send_if_modified(|state| match *state {
        SessionState::Connected(s) => {
            tracing::warn!(session = %s, why, "etcd connection suspended");
            *state = SessionState::Suspended(s);
            true
        }
        _ => false,
    });
}

/// Grants a new lease, retrying until it works or the store closes.
async fn renew(shared: &Shared) -> Option<LiveLease> {
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1))
        .seeded(&connect::jitter_seed(&shared.config));
    loop {
        let attempt = connect::grant(&shared.client, &shared.config);
        tokio::select! {
            () = shared.closed.cancelled() => return None,
            granted = attempt => match granted {
                Ok(lease) => return Some(lease),
                Err(e) => tracing::warn!(error = %e, "granting a new etcd lease failed; retrying"),
            },
        }
        tokio::select! {
            () = shared.closed.cancelled() => return None,
            () = tokio::time::sleep(backoff.next_pause()) => {}
        }
    }
}

/// Ends the session on purpose: revokes the lease (bounded by the request
/// timeout), resolves the watches, makes the state `Closed`.
pub(crate) async fn close(shared: &Shared) {
    let lease = shared.current_lease();
    shared.set_lease(None);
    shared.state.send_replace(SessionState::Closed);
    shared.closed.cancel();
    if let Some(lease) = lease {
        revoke(shared, lease.id).await;
    }
}

/// Gives the session up on purpose: revokes the lease (bounded by the
/// request timeout) and wakes the supervisor, whose next keep-alive learns
/// that the lease is gone and grants a new one.
pub(crate) async fn give_up(shared: &Shared) {
    if let Some(lease) = shared.current_lease() {
        tracing::info!(session = %lease.session(), "giving the etcd session up");
        revoke(shared, lease.id).await;
    }
    shared.probe.notify_one();
}

/// After the last handle was dropped without `close`: revoke the lease,
/// unless `close` already did.
async fn revoke_on_drop(shared: &Shared) {
    let lease = shared.current_lease();
    shared.set_lease(None);
    shared.state.send_replace(SessionState::Closed);
    if let Some(lease) = lease {
        revoke(shared, lease.id).await;
    }
}

async fn revoke(shared: &Shared, id: i64) {
    let mut client = shared.client.lease_client();
    let after = shared.config.request_timeout;
    match tokio::time::timeout(after, client.revoke(id)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if is_lease_gone(&e) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "revoking the etcd lease failed; it expires after its TTL")
        }
        Err(_) => tracing::warn!(
            ?after,
            "revoking the etcd lease timed out; it expires after its TTL"
        ),
    }
}

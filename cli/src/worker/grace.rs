//! `--grace`, the time a command has between SIGTERM and SIGKILL, and the
//! session it must fit in.
//!
//! A command must be gone before the worker's session could expire (then
//! another worker may start the task), so the worker's stop timeout
//! (`grace + KILL_ALLOWANCE`) must pass the runtime's own check,
//! [`Timing::validate`], for the worker's timing: the session the server
//! granted and the store's own renewal period. A grace given on the
//! command line that does not pass is refused; without one, the worker
//! takes [`DEFAULT_GRACE`] or, if that does not fit, a share of the
//! largest grace that does.

use std::time::Duration;

use tenure_core::Timing;

use crate::duration::human;
use crate::error::{CliError, CliResult};

/// Time allowed, on top of the grace, for a command to die after SIGKILL.
pub const KILL_ALLOWANCE: Duration = Duration::from_millis(500);

/// The grace when `--grace` is not given and the session leaves room for it.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// The share of the largest grace that fits taken when [`DEFAULT_GRACE`]
/// does not fit: the rest is headroom against scheduling delays on a busy
/// machine.
const SHARE_NUMERATOR: u32 = 3;
const SHARE_DENOMINATOR: u32 = 4;

/// A default grace is rounded down to this, so it reads well in the log.
const ROUNDING: Duration = Duration::from_millis(10);

/// The stop timeout the worker gets for `grace`.
pub fn stop_timeout(grace: Duration) -> Duration {
    grace + KILL_ALLOWANCE
}

/// The worker's timing for a store: the defaults for the session the
/// server granted, fitted to the store as the worker builder fits it
/// ([`Timing::fit_to_store`]).
pub fn timing_for(store: &dyn tenure_core::CoordinationStore) -> Timing {
    let mut timing = Timing::for_session(store.info().session_timeout);
    timing.fit_to_store(store);
    timing
}

/// The grace to use with the worker timing `base` (its stop timeout
/// aside): `given` if it fits (refused with the reason if it does not),
/// else the default that fits.
///
/// # Errors
/// [`CliError::Invalid`] if `given` does not fit, or if no grace at all
/// fits (the session is too short to stop a command).
pub fn resolve(base: Timing, given: Option<Duration>) -> CliResult<Duration> {
    let session = base.session_timeout;
    match given {
        Some(grace) => check(base, grace).map(|()| grace),
        None => default_for(base).ok_or_else(|| {
            CliError::Invalid(format!(
                "the session timeout of {} the server granted leaves no time to stop a command \
                 (it needs {} after SIGKILL on top of --grace, before the session could expire); \
                 raise --session-timeout (1s is enough on etcd or with --zk-tick-time; \
                 on ZooKeeper without --zk-tick-time, 1.25s is the least that fits)",
                human(session),
                human(KILL_ALLOWANCE)
            ))
        }),
    }
}

/// The grace used without `--grace`: [`DEFAULT_GRACE`], or if that does
/// not fit, three quarters of [`largest`] rounded down to 10 ms; `None` if
/// no grace fits.
pub fn default_for(base: Timing) -> Option<Duration> {
    let share = largest(base)? * SHARE_NUMERATOR / SHARE_DENOMINATOR;
    let rounded = share.as_nanos() / ROUNDING.as_nanos() * ROUNDING.as_nanos();
    let rounded = Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX));
    Some(DEFAULT_GRACE.min(rounded))
}

/// The largest grace, in whole milliseconds, that passes [`check`] with
/// the worker timing `base`; `None` if not even a zero grace does.
///
/// Found by bisection on [`Timing::validate`] itself (the check is
/// monotonic in the stop timeout), so the rule lives in one place.
pub fn largest(base: Timing) -> Option<Duration> {
    let session = base.session_timeout;
    let fits = |ms: u64| check(base, Duration::from_millis(ms)).is_ok();
    if !fits(0) {
        return None;
    }
    // fits(low) and !fits(high) hold throughout; a grace as long as the
    // session never fits.
    let mut low = 0u64;
    let mut high = u64::try_from(session.as_millis()).unwrap_or(u64::MAX);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if fits(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    Some(Duration::from_millis(low))
}

/// Refuses a grace that does not fit the worker timing `base` (the
/// session the server granted, the store's renewal): commands must be
/// stopped before the session could expire.
///
/// # Errors
/// [`CliError::Invalid`] naming the grace, the session and the rule.
pub fn check(base: Timing, grace: Duration) -> CliResult {
    let session = base.session_timeout;
    let mut timing = base;
    timing.stop_timeout = stop_timeout(grace);
    timing.validate().map_err(|e| {
        CliError::Invalid(format!(
            "--grace {} does not fit in the session timeout of {} the server granted: \
             commands must be stopped (grace + {}) before the session could expire; \
             lower --grace or raise --session-timeout ({e})",
            human(grace),
            human(session),
            human(KILL_ALLOWANCE)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The timing of a store that renews with every request.
    fn session(n: u64) -> Timing {
        Timing::for_session(ms(n))
    }

    #[test]
    fn the_largest_grace_is_the_edge_of_the_rule() {
        // heartbeat s/6 + answer allowance s/20 + grace + 500ms + margin
        // s/10 < s: grace < 0.68333·s − 500ms.
        assert_eq!(largest(session(2000)), Some(ms(866)));
        assert_eq!(largest(session(10_000)), Some(ms(6333)));
        assert!(check(session(2000), ms(866)).is_ok());
        assert!(check(session(2000), ms(867)).is_err());
    }

    #[test]
    fn a_two_second_session_gets_three_quarters_of_the_largest_grace() {
        assert!(
            check(session(2000), DEFAULT_GRACE).is_err(),
            "the old default"
        );
        let grace = default_for(session(2000)).unwrap();
        assert_eq!(grace, ms(640));
        assert!(check(session(2000), grace).is_ok());
        assert_eq!(resolve(session(2000), None).unwrap(), ms(640));
    }

    #[test]
    fn a_ten_second_session_gets_the_full_default() {
        assert_eq!(default_for(session(10_000)), Some(DEFAULT_GRACE));
        assert_eq!(resolve(session(10_000), None).unwrap(), DEFAULT_GRACE);
        assert_eq!(default_for(session(3_600_000)), Some(DEFAULT_GRACE));
    }

    #[test]
    fn tiny_sessions_get_what_fits_or_a_clear_refusal() {
        // The smallest session etcd grants, "1s is enough" in the message.
        assert_eq!(default_for(session(1000)), Some(ms(130)));
        // Just above the edge (0.68333·s > 500ms from s ≈ 732ms): a grace of zero.
        assert_eq!(largest(session(740)), Some(ms(5)));
        assert_eq!(default_for(session(740)), Some(Duration::ZERO));
        assert!(check(session(740), Duration::ZERO).is_ok());
        for short in [730, 400, 1, 0] {
            assert_eq!(largest(session(short)), None, "{short} ms");
            let err = resolve(session(short), None).unwrap_err().to_string();
            assert!(err.contains("leaves no time to stop a command"), "{err}");
            assert!(err.contains("raise --session-timeout"), "{err}");
        }
    }

    #[test]
    fn a_given_grace_is_kept_if_it_fits_and_refused_if_not() {
        assert_eq!(resolve(session(2000), Some(ms(300))).unwrap(), ms(300));
        assert_eq!(
            resolve(session(10_000), Some(Duration::from_secs(5))).unwrap(),
            Duration::from_secs(5)
        );
        let err = resolve(session(2000), Some(DEFAULT_GRACE))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--grace 2s does not fit in the session timeout of 2s"),
            "{err}"
        );
        let err = resolve(session(400), Some(Duration::ZERO))
            .unwrap_err()
            .to_string();
        assert!(err.contains("--grace 0ms does not fit"), "{err}");
    }

    #[test]
    fn a_store_renewal_longer_than_the_heartbeat_leaves_less_grace() {
        let mut base = session(2000);
        base.renewal_period = ms(900);
        // 2000 − 900 − 100 − 500 − 200 = 300 ms, less than a tick.
        assert_eq!(largest(base), Some(ms(299)));
        assert_eq!(default_for(base), Some(ms(220)));
        assert!(check(base, ms(640)).is_err(), "the default without renewal");
    }
}

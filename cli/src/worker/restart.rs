//! When a command that exited by itself runs again, and when a task counts
//! as crash-looping.
//!
//! A run that lasted less than [`HEALTHY_RUN`] is a *quick exit*, whatever
//! its exit code. After the n-th quick exit in a row the command restarts
//! after `restart_delay × 2^(n−1)`, at most `max_restart_delay`; a run that
//! lasted [`HEALTHY_RUN`] or more resets the count, and the next restart
//! waits `restart_delay`. The delays are core's one retry policy
//! ([`Backoff`]): each is cut by up to a tenth at random (seeded by the
//! worker and the task), so the commands of tasks that failed together do
//! not restart together. After `crash_loop_after` quick exits in a row the
//! task is crash-looping: that is reported (an error log line and the
//! `tenure_child_crash_looping` gauge), and the command then restarts every
//! `max_restart_delay` (or the task is paused, with
//! `--on-crash-loop pause`). A healthy run clears the report.

use std::time::Duration;

use tenure_core::backoff::Backoff;

use crate::error::{CliError, CliResult};

/// A run at least this long is healthy and resets the backoff.
pub const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// The restart policy of a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Quick exits in a row that make a crash loop (0: never).
    pub crash_loop_after: u32,
}

impl RestartPolicy {
    /// A checked policy.
    ///
    /// # Errors
    /// [`CliError::Invalid`] for a zero first delay or a longest delay
    /// shorter than the first.
    pub fn new(initial: Duration, max: Duration, crash_loop_after: u32) -> CliResult<Self> {
        if initial < Duration::from_millis(10) {
            return Err(CliError::Invalid(
                "--restart-delay must be at least 10ms".into(),
            ));
        }
        if max < initial {
            return Err(CliError::Invalid(format!(
                "--max-restart-delay ({max:?}) must not be shorter than --restart-delay ({initial:?})"
            )));
        }
        Ok(RestartPolicy {
            initial,
            max,
            crash_loop_after,
        })
    }
}

/// What to do after a run ended by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Wait this long before the next run.
    pub delay: Duration,
    /// Quick exits in a row so far.
    pub quick_exits: u32,
    /// The task is crash-looping.
    pub crash_looping: bool,
    /// It has just started crash-looping (report it once).
    pub newly_crash_looping: bool,
}

/// The restart history of one task on this worker.
#[derive(Debug)]
pub struct Restarts {
    policy: RestartPolicy,
    /// The quick exits in a row are its failures.
    backoff: Backoff,
}

impl Restarts {
    /// No history yet; the jitter of the delays is drawn from `seed` (the
    /// worker's and the task's names).
    pub fn new(policy: RestartPolicy, seed: &str) -> Self {
        Restarts {
            policy,
            backoff: Backoff::new(policy.initial, policy.max).seeded(seed),
        }
    }

    /// Records a run that lasted `ran` and ended by itself.
    pub fn exited(&mut self, ran: Duration) -> Verdict {
        if ran >= HEALTHY_RUN {
            self.backoff.reset();
            // The first pause, without counting an exit: the next quick
            // exit waits the first pause again.
            return Verdict {
                delay: self.backoff.clone().next_pause(),
                quick_exits: 0,
                crash_looping: false,
                newly_crash_looping: false,
            };
        }
        let pause = self.backoff.next_pause();
        let quick_exits = self.backoff.failures();
        let limit = self.policy.crash_loop_after;
        let crash_looping = limit > 0 && quick_exits >= limit;
        Verdict {
            delay: if crash_looping {
                self.policy.max
            } else {
                pause
            },
            quick_exits,
            crash_looping,
            newly_crash_looping: crash_looping && quick_exits == limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RestartPolicy {
        RestartPolicy::new(Duration::from_secs(1), Duration::from_secs(60), 5).unwrap()
    }

    /// `delay` is `full` cut by at most a tenth.
    fn about(delay: Duration, full: Duration) -> bool {
        delay <= full && delay >= full * 9 / 10
    }

    #[test]
    fn quick_exits_double_the_delay_up_to_the_limit_then_report_once() {
        let mut r = Restarts::new(policy(), "w/t");
        let quick = Duration::from_secs(1);
        for full in [1, 2, 4, 8] {
            let delay = r.exited(quick).delay;
            assert!(
                about(delay, Duration::from_secs(full)),
                "{delay:?} for {full}s"
            );
        }
        let fifth = r.exited(quick);
        assert!(fifth.crash_looping && fifth.newly_crash_looping);
        assert_eq!(fifth.quick_exits, 5);
        assert_eq!(fifth.delay, Duration::from_secs(60));
        let sixth = r.exited(quick);
        assert!(sixth.crash_looping && !sixth.newly_crash_looping);
    }

    #[test]
    fn delays_are_jittered_by_the_seed_and_replay_with_it() {
        let delays = |seed: &str| {
            let mut r = Restarts::new(policy(), seed);
            (0..4)
                .map(|_| r.exited(Duration::ZERO).delay)
                .collect::<Vec<_>>()
        };
        assert_eq!(delays("w/a"), delays("w/a"));
        assert_ne!(delays("w/a"), delays("w/b"));
    }

    #[test]
    fn a_healthy_run_resets_the_backoff_and_the_report() {
        let mut r = Restarts::new(policy(), "w/t");
        for _ in 0..6 {
            r.exited(Duration::ZERO);
        }
        let v = r.exited(HEALTHY_RUN);
        assert!(about(v.delay, Duration::from_secs(1)), "{:?}", v.delay);
        assert!(!v.crash_looping);
        assert_eq!(v.quick_exits, 0);
        let next = r.exited(Duration::ZERO);
        assert!(
            about(next.delay, Duration::from_secs(1)),
            "{:?}",
            next.delay
        );
        assert_eq!(next.quick_exits, 1);
    }

    #[test]
    fn zero_disables_crash_loop_detection() {
        let p = RestartPolicy::new(Duration::from_secs(1), Duration::from_secs(4), 0).unwrap();
        let mut r = Restarts::new(p, "w/t");
        for _ in 0..50 {
            let v = r.exited(Duration::ZERO);
            assert!(!v.crash_looping);
            assert!(v.delay <= Duration::from_secs(4));
        }
    }

    #[test]
    fn bad_policies_are_refused() {
        assert!(RestartPolicy::new(Duration::ZERO, Duration::from_secs(1), 5).is_err());
        assert!(RestartPolicy::new(Duration::from_secs(2), Duration::from_secs(1), 5).is_err());
    }
}

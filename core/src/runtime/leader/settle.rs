//! The join settle of a cold start.
//!
//! Workers of a fleet start within moments of each other, but not at once.
//! A leader that placed the tasks on the first few workers to register
//! would move most of them again as the others arrive: each move stops a
//! handler that had just started and starts it again elsewhere (10,000
//! tasks on 100 etcd workers started 15,205 handlers). So while no task is
//! owned yet, the leader holds its first placement until the set of live
//! workers has stayed the same for [`QUIET`], and never longer than
//! [`BOUND`] in all. Once any task is owned the cluster is running and
//! every change is placed at once: a late worker is then balanced in by
//! moving only what it takes.

use std::time::Duration;

use tokio::time::Instant;

use crate::ids::WorkerId;

/// How long the live workers must stay the same before the first placement.
pub(super) const QUIET: Duration = Duration::from_millis(100);

/// The longest the first placement waits for the joins to settle.
pub(super) const BOUND: Duration = Duration::from_secs(1);

/// The live workers as last seen, and how long the leader has held.
pub(super) struct JoinSettle {
    seen: Vec<WorkerId>,
    since: Instant,
    began: Option<Instant>,
}

impl JoinSettle {
    /// Nothing seen yet.
    pub fn new() -> Self {
        JoinSettle {
            seen: Vec::new(),
            since: Instant::now(),
            began: None,
        }
    }

    /// Whether the first placement may still wait for the joins to
    /// settle at `now` (within [`BOUND`] of the first time it was asked).
    pub fn settling(&mut self, now: Instant) -> bool {
        now < *self.began.get_or_insert(now) + BOUND
    }

    /// Whether to hold the placement: `None` to place now, `Some(at)` to
    /// look again at `at` (or sooner, when a worker joins or leaves).
    /// `live` is sorted, as listed at `listed_at` (its watch armed since,
    /// so it has been the same since then, however long the reads after
    /// it took); `owned` tells whether any task is owned.
    pub fn hold(
        &mut self,
        live: &[WorkerId],
        listed_at: Instant,
        owned: bool,
        now: Instant,
    ) -> Option<Instant> {
        if self.seen != live {
            self.seen = live.to_vec();
            self.since = listed_at.min(now);
        }
        if owned {
            self.began = None;
            return None;
        }
        let began = *self.began.get_or_insert(now);
        let at = (self.since + QUIET).min(began + BOUND);
        (now < at).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<WorkerId> {
        names.iter().map(|n| WorkerId::new(*n).unwrap()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn holds_until_the_workers_stay_the_same_for_the_quiet_time() {
        let mut s = JoinSettle::new();
        let t0 = Instant::now();
        assert_eq!(s.hold(&ids(&["A"]), t0, false, t0), Some(t0 + QUIET));
        let t1 = t0 + Duration::from_millis(50);
        assert_eq!(s.hold(&ids(&["A", "B"]), t1, false, t1), Some(t1 + QUIET));
        assert_eq!(
            s.hold(&ids(&["A", "B"]), t1 + QUIET, false, t1 + QUIET),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn never_holds_longer_than_the_bound() {
        let mut s = JoinSettle::new();
        let t0 = Instant::now();
        let mut live = Vec::new();
        let mut now = t0;
        while now < t0 + BOUND {
            live.push(format!("W{}", live.len()));
            let names: Vec<&str> = live.iter().map(String::as_str).collect();
            let at = s.hold(&ids(&names), now, false, now).unwrap();
            assert!(at <= t0 + BOUND);
            now += Duration::from_millis(60);
        }
        // Even a worker joining now does not hold the placement any more.
        live.push("late".into());
        let names: Vec<&str> = live.iter().map(String::as_str).collect();
        assert_eq!(s.hold(&ids(&names), now, false, now), None);
    }

    #[tokio::test(start_paused = true)]
    async fn places_at_once_when_a_task_is_owned() {
        let mut s = JoinSettle::new();
        let now = Instant::now();
        assert_eq!(s.hold(&ids(&["A"]), now, true, now), None);
        assert_eq!(s.hold(&ids(&["A", "B"]), now, true, now), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_quiet_time_counts_from_the_listing_not_from_the_round_s_end() {
        let mut s = JoinSettle::new();
        let listed = Instant::now();
        // The reads after the listing took longer than the quiet time,
        // and the watch armed with the listing did not fire: place now.
        let now = listed + QUIET + Duration::from_millis(800);
        assert_eq!(s.hold(&ids(&["A", "B"]), listed, false, now), None);
        // A listing newer than the last one that differs starts over.
        let relisted = now + Duration::from_millis(10);
        assert_eq!(
            s.hold(&ids(&["A", "B", "C"]), relisted, false, relisted),
            Some(relisted + QUIET)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn settling_lasts_the_bound_from_the_first_question() {
        let mut s = JoinSettle::new();
        let t0 = Instant::now();
        assert!(s.settling(t0));
        assert!(s.settling(t0 + BOUND - Duration::from_millis(1)));
        assert!(!s.settling(t0 + BOUND));
        // hold() counts its bound from the same start.
        assert_eq!(s.hold(&ids(&["A"]), t0 + BOUND, false, t0 + BOUND), None);
    }
}

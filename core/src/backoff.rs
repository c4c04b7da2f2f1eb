//! One retry policy for all of tenure: exponential backoff with jitter.
//!
//! Every loop that retries a failed request (the worker, the leader, the
//! handler restarts, the backends' reconnects and watches) waits by a
//! [`Backoff`]: the first pause, doubled after each failure up to a cap,
//! each pause cut by up to a tenth at random so that members that failed
//! together do not retry together. The randomness is drawn from a seed
//! (a worker's name, a server list), so a run replays the same pauses: a
//! simulation stays reproducible.

use std::time::Duration;

/// Exponential backoff with jitter: the pause after the `n`th failure in a
/// row is `first × 2ⁿ⁻¹`, at most `cap`, then shortened by a random part of
/// at most a tenth. It is never longer than the documented pause, and
/// never shorter than nine tenths of it.
#[derive(Clone, Debug)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    failures: u32,
    rng: u64,
}

impl Backoff {
    /// A policy that first waits `first`, doubling up to `cap` (a `cap`
    /// below `first` caps the first pause too). The jitter is drawn from
    /// seed 0 until [`Backoff::seeded`] gives another.
    pub const fn new(first: Duration, cap: Duration) -> Self {
        Backoff {
            first,
            cap,
            failures: 0,
            rng: 0,
        }
    }

    /// The same policy with its jitter drawn from `seed` (e.g. a worker's
    /// name): two policies with the same seed pause the same way.
    #[must_use]
    pub fn seeded(mut self, seed: &str) -> Self {
        // FNV-1a: stable across platforms and Rust versions.
        self.rng = seed.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self
    }

    /// How many failures in a row were counted since the last
    /// [`Backoff::reset`].
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Counts one more failure and returns the pause to wait before the
    /// next attempt.
    pub fn next_pause(&mut self) -> Duration {
        let doublings = self.failures.min(31);
        self.failures = self.failures.saturating_add(1);
        let full = self.first.saturating_mul(1u32 << doublings).min(self.cap);
        let nanos = u64::try_from(full.as_nanos()).unwrap_or(u64::MAX);
        // A random part of at most a tenth: (tenth × r) / 2³², r < 2³².
        let r = self.draw() >> 32;
        let cut = (u128::from(nanos / 10) * u128::from(r)) >> 32;
        full.saturating_sub(Duration::from_nanos(cut as u64))
    }

    /// Forgets the failures (after a success): the next pause is the first.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// SplitMix64: a small, well-mixed generator.
    fn draw(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The runtime's retry of a failed store request (the worker's layout and
/// steps, the leader's rounds): 40 ms doubling, at most 640 ms or `cap`.
pub(crate) fn requests(cap: Duration, seed: &str) -> Backoff {
    Backoff::new(
        Duration::from_millis(40),
        Duration::from_millis(640).min(cap),
    )
    .seeded(seed)
}

/// The restart of a handler that ended by itself: 100 ms doubling up to
/// 30 s.
pub(crate) fn handler_restarts(seed: &str) -> Backoff {
    Backoff::new(Duration::from_millis(100), Duration::from_secs(30)).seeded(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn pauses_double_up_to_the_cap_and_are_cut_by_at_most_a_tenth() {
        let mut b = Backoff::new(ms(100), ms(1000)).seeded("w1");
        for full in [100, 200, 400, 800, 1000, 1000, 1000] {
            let pause = b.next_pause();
            assert!(pause <= ms(full), "{pause:?} over {full} ms");
            assert!(
                pause >= ms(full) * 9 / 10,
                "{pause:?} under 0.9 × {full} ms"
            );
        }
        assert_eq!(b.failures(), 7);
        b.reset();
        assert!(b.next_pause() <= ms(100));
    }

    #[test]
    fn the_same_seed_gives_the_same_pauses_and_another_seed_others() {
        let pauses = |seed: &str| {
            let mut b = Backoff::new(ms(100), Duration::from_secs(30)).seeded(seed);
            (0..12).map(|_| b.next_pause()).collect::<Vec<_>>()
        };
        assert_eq!(pauses("worker-1"), pauses("worker-1"));
        assert_ne!(pauses("worker-1"), pauses("worker-2"));
    }

    #[test]
    fn a_cap_below_the_first_pause_caps_it_and_long_runs_do_not_overflow() {
        let mut b = Backoff::new(ms(500), ms(200));
        assert!(b.next_pause() <= ms(200));
        let mut b = Backoff::new(Duration::from_secs(1), Duration::MAX);
        for _ in 0..100 {
            b.next_pause();
        }
        assert_eq!(b.failures(), 100);
    }
}

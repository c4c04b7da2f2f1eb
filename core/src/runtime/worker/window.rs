//! How many claims (and owner reads) a worker keeps in flight together: a
//! window that shrinks when answers come slower than the timing allows
//! and grows back while they are fast.
//!
//! A worker that takes hundreds of tasks at once sends many requests side
//! by side (see `batch_claims.rs`). Twenty workers doing so at a cold
//! start keep hundreds of writes in flight on one server, and every one of
//! them delays the others' answers. On etcd they also delay the lease
//! keep-alives: etcd answers a keep-alive only once it has applied
//! every write it had committed when the keep-alive arrived (etcd's
//! `LeaseRenew` waits for the applied index, up to one second), so a
//! backlog of claims starves every worker's session, the workers stop
//! their handlers as the timing tells them to, give their sessions up,
//! and their tasks move. Measured at 10,000 tasks × 20 workers with 32
//! claims in flight per worker: a 62 s cold start, 179 suspensions and
//! 14,013 handler starts (BENCHMARKS.md).
//!
//! The window reacts as TCP's congestion window does, with the latency as
//! the signal. It starts narrow ([`FIRST`]) and grows by one with every
//! fast answer (doubling per round trip) until the first slow one; an
//! answer slower than the target halves it, once for the requests that
//! were in flight when it did (they were all sent before the cut could
//! help); after that first cut every fast answer grows it by one over its
//! width (one more request in flight per window's worth of fast answers).
//! The target is the timing's
//! [answer allowance](crate::Timing::answer_allowance), the latency every
//! healthy answer must stay within for the session deadline to keep its
//! margin. A quiet server answers well within it: the window is at its
//! widest after [`WIDEST`] − [`FIRST`] answers (a few milliseconds on
//! ZooKeeper) and stays there. Only answers move the window, so a window
//! shrunk by a busy cold start would stay narrow through the quiet
//! minutes after it and slow the next takeover down: after [`IDLE`]
//! without an answer it grows by one per fast answer again (from where
//! it is) until the next slow one.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

/// The widest window: requests in flight at most.
pub(super) const WIDEST: usize = 32;

/// The width of a new window.
pub(super) const FIRST: usize = 4;

/// After this long without an answer, the window grows quickly again.
pub(super) const IDLE: Duration = Duration::from_secs(1);

/// The in-flight window of one worker.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// The width, fractional so that growth can be one over the width.
    size: f64,
    /// Answers slower than this shrink the window.
    target: Duration,
    /// Answers since the window last shrank.
    since_cut: usize,
    /// Requests in flight when it last shrank: their answers do not shrink
    /// it again.
    in_flight_at_cut: usize,
    /// Growing by one per fast answer, until the first slow one.
    slow_start: bool,
    /// When the last answer came.
    last_answer: Option<Instant>,
}

impl Window {
    /// A new window ([`FIRST`] wide), shrinking on answers slower than
    /// `target`.
    pub fn new(target: Duration) -> Self {
        Window {
            size: FIRST as f64,
            target,
            since_cut: 0,
            in_flight_at_cut: 0,
            slow_start: true,
            last_answer: None,
        }
    }

    /// How many requests may be in flight now.
    pub fn width(&self) -> usize {
        // The size stays within 1..=WIDEST: the cast cannot overflow. The
        // epsilon keeps sums of fractions (3 + 1/3 + 1/3 + 1/3) whole.
        ((self.size + 1e-9).floor() as usize).clamp(1, WIDEST)
    }

    /// Counts one answer that took `latency`.
    pub fn answered(&mut self, latency: Duration) {
        let now = Instant::now();
        if self.last_answer.is_some_and(|at| now - at >= IDLE) {
            self.slow_start = true;
        }
        self.last_answer = Some(now);
        self.since_cut = self.since_cut.saturating_add(1);
        if latency > self.target {
            self.slow_start = false;
            if self.since_cut >= self.in_flight_at_cut {
                self.in_flight_at_cut = self.width();
                self.size = (self.size / 2.0).max(1.0);
                self.since_cut = 0;
            }
        } else if self.slow_start {
            self.size = (self.size + 1.0).min(WIDEST as f64);
        } else {
            self.size = (self.size + 1.0 / self.width() as f64).min(WIDEST as f64);
        }
    }

    /// Runs `call` on every item, at most [`Window::width`] at once, and
    /// returns the outputs in the items' order; each answer's latency
    /// moves the window. A slow answer holds only its own place: the
    /// answers after it are counted as they come, and new requests take
    /// their places meanwhile.
    pub async fn run<I, F, Fut, T>(&mut self, items: I, mut call: F) -> Vec<T>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future<Output = T>,
    {
        let mut items = items.into_iter().enumerate();
        let mut pending = FuturesUnordered::new();
        let mut out = Vec::new();
        loop {
            while pending.len() < self.width() {
                let Some((index, item)) = items.next() else {
                    break;
                };
                let answer = call(item);
                pending.push(async move {
                    let sent = Instant::now();
                    let out = answer.await;
                    (index, sent.elapsed(), out)
                });
            }
            match pending.next().await {
                Some((index, latency, answer)) => {
                    self.answered(latency);
                    out.push((index, answer));
                }
                None => {
                    out.sort_unstable_by_key(|(index, _)| *index);
                    return out.into_iter().map(|(_, answer)| answer).collect();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Duration = Duration::from_millis(100);
    const FAST: Duration = Duration::from_millis(5);
    const SLOW: Duration = Duration::from_millis(400);

    /// A window grown to its widest by fast answers.
    fn widest() -> Window {
        let mut w = Window::new(TARGET);
        for _ in 0..WIDEST - FIRST {
            w.answered(FAST);
        }
        w
    }

    #[test]
    fn a_fast_server_widens_the_window_one_per_answer_to_the_widest() {
        let mut w = Window::new(TARGET);
        assert_eq!(w.width(), FIRST);
        w.answered(FAST);
        assert_eq!(w.width(), FIRST + 1);
        let mut w = widest();
        assert_eq!(w.width(), WIDEST);
        for _ in 0..1000 {
            w.answered(FAST);
        }
        assert_eq!(w.width(), WIDEST);
    }

    #[test]
    fn a_burst_of_slow_answers_halves_once_per_window() {
        let mut w = widest();
        // The whole first window comes back slow: one cut, not 32.
        for _ in 0..WIDEST {
            w.answered(SLOW);
        }
        assert_eq!(w.width(), WIDEST / 2);
        // The next window's answers are slow too: one more cut.
        for _ in 0..WIDEST / 2 {
            w.answered(SLOW);
        }
        assert_eq!(w.width(), WIDEST / 4);
    }

    #[test]
    fn a_slow_server_brings_the_window_down_to_one_and_never_below() {
        let mut w = Window::new(TARGET);
        for _ in 0..10_000 {
            w.answered(SLOW);
        }
        assert_eq!(w.width(), 1);
    }

    #[test]
    fn fast_answers_grow_the_window_back_by_one_per_window() {
        let mut w = Window::new(TARGET);
        for _ in 0..10_000 {
            w.answered(SLOW);
        }
        // From 1: 1 + 2 + ... + 7 fast answers reach a width of 8.
        for _ in 0..(1..8).sum::<usize>() {
            w.answered(FAST);
        }
        assert_eq!(w.width(), 8);
        for _ in 0..10_000 {
            w.answered(FAST);
        }
        assert_eq!(w.width(), WIDEST);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_quiet_second_the_window_grows_one_per_answer_again() {
        let mut w = Window::new(TARGET);
        for _ in 0..10_000 {
            w.answered(SLOW);
        }
        assert_eq!(w.width(), 1);
        // Still busy: one per window (1, then 2, then 2.5).
        w.answered(FAST);
        w.answered(FAST);
        assert_eq!(w.width(), 2);
        tokio::time::advance(IDLE).await;
        for _ in 0..10 {
            w.answered(FAST);
        }
        assert_eq!(w.width(), 12, "one per answer after a quiet second");
    }

    #[test]
    fn an_answer_at_the_target_is_fast() {
        let mut w = widest();
        for _ in 0..100 {
            w.answered(TARGET);
        }
        assert_eq!(w.width(), WIDEST);
    }

    #[test]
    fn after_the_first_slow_answer_growth_is_one_per_window() {
        let mut w = Window::new(TARGET);
        w.answered(SLOW);
        assert_eq!(w.width(), FIRST / 2);
        // Two fast answers at width 2 make one more, not two.
        w.answered(FAST);
        w.answered(FAST);
        assert_eq!(w.width(), FIRST / 2 + 1);
    }

    #[tokio::test(start_paused = true)]
    async fn run_keeps_order_and_at_most_the_width_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut w = widest();
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        // Each call takes longer than the target: the window shrinks as
        // the answers come, and never more are in flight than it allows.
        let out = w
            .run(0..200u32, |i| {
                let (in_flight, most) = (&in_flight, &most);
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(SLOW + Duration::from_millis(u64::from(i % 7))).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    i
                }
            })
            .await;
        assert_eq!(out, (0..200).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), WIDEST);
        assert_eq!(w.width(), 1, "200 slow answers shrink the window to one");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_answer_does_not_hold_the_answers_after_it() {
        let mut w = Window::new(TARGET);
        let began = Instant::now();
        // The first request takes a second; the others 10 ms each. The
        // other places of the window serve all 99 of them meanwhile.
        let out = w
            .run(0..100u32, |i| async move {
                let took = if i == 0 { 1000 } else { 10 };
                tokio::time::sleep(Duration::from_millis(took)).await;
                i
            })
            .await;
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        assert_eq!(began.elapsed(), Duration::from_millis(1000));
    }
}

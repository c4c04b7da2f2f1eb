//! The steps of a simulated schedule, and their generator.

use proptest::prelude::*;

/// One thing that happens to a simulated cluster. Numbers pick a task or a
/// worker slot (modulo the slot count).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Add task `T<n>`.
    AddTask(u8),
    /// Remove it.
    RemoveTask(u8),
    /// Pause it.
    PauseTask(u8),
    /// Resume it.
    ResumeTask(u8),
    /// Change its payload.
    UpdateTask(u8),
    /// Start worker `W<n>` (if not running).
    Join(u8),
    /// Crash it: handlers die, the session ends after the timeout.
    Crash(u8),
    /// Shut it down gracefully.
    Leave(u8),
    /// Cut its connection (the session ends after the timeout unless
    /// resumed).
    Suspend(u8),
    /// Cut its connection silently (a partition the client library does
    /// not notice: requests hang, the state stays connected; the server
    /// ends the session after the timeout unless resumed).
    Partition(u8),
    /// Restore its connection (after a suspension or a partition).
    Resume(u8),
    /// End its session now.
    Expire(u8),
    /// Delay its watch events by this many ms (0 = no delay).
    DelayWatches(u8, u16),
    /// Drop (or stop dropping) its watch events.
    DropWatches(u8, bool),
    /// Lose the answer of its next write of an ownership record (a claim,
    /// reclaim or release): the server applies it, the worker gets
    /// `ConnectionLost`.
    LoseAnswer(u8),
    /// Answer its reads this many ms late, and its writes that many (0 =
    /// at once): the server applies each request at once.
    SlowAnswers(u8, u16, u16),
    /// Restore its connection, let this many ms pass (the worker
    /// re-confirms its claims and lifts its fence), then cut it silently
    /// again: a fault landing a few ms after a fence is lifted.
    Flap(u8, u16),
    /// Let this many ms pass.
    Advance(u16),
}

/// A generator of schedules of up to `max_len` steps over `tasks` tasks and
/// `workers` worker slots.
pub fn steps(tasks: u8, workers: u8, max_len: usize) -> impl Strategy<Value = Vec<Step>> {
    let t = 0..tasks;
    let w = 0..workers;
    let step = prop_oneof![
        4 => t.clone().prop_map(Step::AddTask),
        1 => t.clone().prop_map(Step::RemoveTask),
        1 => t.clone().prop_map(Step::PauseTask),
        1 => t.clone().prop_map(Step::ResumeTask),
        1 => t.prop_map(Step::UpdateTask),
        3 => w.clone().prop_map(Step::Join),
        1 => w.clone().prop_map(Step::Crash),
        1 => w.clone().prop_map(Step::Leave),
        1 => w.clone().prop_map(Step::Suspend),
        1 => w.clone().prop_map(Step::Partition),
        1 => w.clone().prop_map(Step::Resume),
        1 => w.clone().prop_map(Step::Expire),
        1 => (w.clone(), 0u16..1500).prop_map(|(w, ms)| Step::DelayWatches(w, ms)),
        1 => (w.clone(), any::<bool>()).prop_map(|(w, on)| Step::DropWatches(w, on)),
        1 => w.clone().prop_map(Step::LoseAnswer),
        2 => (w.clone(), slow_reads(), slow_writes()).prop_map(|(w, r, wr)| Step::SlowAnswers(w, r, wr)),
        1 => (w, 0u16..150).prop_map(|(w, ms)| Step::Flap(w, ms)),
        4 => (0u16..3000).prop_map(Step::Advance),
    ];
    proptest::collection::vec(step, 1..max_len)
}

/// Answer delays of reads: often short, so that a compound request (a
/// read, then a write) counted from its first send leaves little slack.
fn slow_reads() -> impl Strategy<Value = u16> {
    prop_oneof![1 => Just(0u16), 2 => 1u16..170, 2 => 170u16..1500]
}

/// Answer delays of writes: often close to the stop lead, where a handler
/// starts less than a heartbeat before its stop instant.
fn slow_writes() -> impl Strategy<Value = u16> {
    prop_oneof![1 => Just(0u16), 2 => 900u16..1300, 2 => 1u16..1500]
}

/// A schedule: the worker timing, how long each task's handlers take to
/// stop once cancelled, and the steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The timing every worker runs with (one the runtime accepts).
    pub timing: SimTiming,
    /// Task `T<n>`'s handlers take `stop_delays_ms[n % len]` ms to stop:
    /// zero, within the worker's stop timeout (a handler that cleans up),
    /// or beyond it (the runner drops the future). Empty: zero.
    pub stop_delays_ms: Vec<u16>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// The knobs of a simulated worker's timing that a user sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimTiming {
    /// The session timeout, in ms.
    pub session_ms: u16,
    /// The stop timeout, in ms.
    pub stop_timeout_ms: u16,
    /// The suspend grace, in ms.
    pub suspend_grace_ms: u16,
}

impl SimTiming {
    /// The library's defaults for a 2 s session.
    pub fn default_2s() -> Self {
        let t = tenure_core::Timing::for_session(std::time::Duration::from_secs(2));
        SimTiming {
            session_ms: 2000,
            stop_timeout_ms: t.stop_timeout.as_millis() as u16,
            suspend_grace_ms: 0,
        }
    }

    /// A timing drawn from the space the runtime accepts: `session_ms`,
    /// and the stop timeout and suspend grace as thousandths of the
    /// largest each may be (the grace first, then the stop timeout in what
    /// is left), so every draw is valid.
    pub fn within(session_ms: u16, grace_per_mille: u16, stop_per_mille: u16) -> Self {
        let session = ms(session_ms);
        let largest_grace = largest(|g| fits(session, g, ms(0)));
        let grace = largest_grace * u32::from(grace_per_mille) / 1000;
        let largest_stop = largest(|st| fits(session, grace, st));
        let stop = largest_stop * u32::from(stop_per_mille) / 1000;
        SimTiming {
            session_ms,
            stop_timeout_ms: stop.as_millis() as u16,
            suspend_grace_ms: grace.as_millis() as u16,
        }
    }

    /// The timing a worker built with these knobs runs with (as the
    /// worker builder derives it on the memory backend).
    pub fn timing(&self) -> tenure_core::Timing {
        timing_of(
            ms(self.session_ms),
            ms(self.suspend_grace_ms),
            ms(self.stop_timeout_ms),
        )
    }
}

fn ms(n: u16) -> std::time::Duration {
    std::time::Duration::from_millis(u64::from(n))
}

fn timing_of(
    session: std::time::Duration,
    grace: std::time::Duration,
    stop: std::time::Duration,
) -> tenure_core::Timing {
    let mut t = tenure_core::Timing::for_session(session);
    t.suspend_grace = grace;
    t.stop_timeout = stop;
    t.fit_heartbeat();
    t
}

fn fits(
    session: std::time::Duration,
    grace: std::time::Duration,
    stop: std::time::Duration,
) -> bool {
    timing_of(session, grace, stop).validate().is_ok()
}

/// The largest whole number of ms (below 60 s) for which `fits` holds
/// (zero if none does); `fits` is monotonic.
fn largest(fits: impl Fn(std::time::Duration) -> bool) -> std::time::Duration {
    let (mut low, mut high) = (0u64, 60_000u64);
    if !fits(std::time::Duration::ZERO) {
        return std::time::Duration::ZERO;
    }
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if fits(std::time::Duration::from_millis(middle)) {
            low = middle;
        } else {
            high = middle;
        }
    }
    std::time::Duration::from_millis(low)
}

/// A generator of [`Schedule`]s over the whole timing space the runtime
/// accepts (sessions of 1 to 4 s; suspend grace and stop timeout anywhere
/// from zero to the largest that fits, often at the edge), with a stop
/// delay per task; see [`steps`].
pub fn schedules(tasks: u8, workers: u8, max_len: usize) -> impl Strategy<Value = Schedule> {
    let per_mille = || prop_oneof![1 => Just(0u16), 1 => Just(1000u16), 2 => 0u16..=1000];
    let grace_per_mille = prop_oneof![3 => Just(0u16), 1 => 0u16..=1000];
    let timing = (1000u16..=4000, grace_per_mille, per_mille())
        .prop_map(|(s, g, st)| SimTiming::within(s, g, st));
    let stop_delay = prop_oneof![2 => Just(0u16), 2 => 1u16..1500, 1 => 1500u16..3000];
    let delays = proptest::collection::vec(stop_delay, 1..=usize::from(tasks.max(1)));
    (timing, delays, steps(tasks, workers, max_len)).prop_map(|(timing, stop_delays_ms, steps)| {
        Schedule {
            timing,
            stop_delays_ms,
            steps,
        }
    })
}

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
        2 => (w, slow_reads(), slow_writes()).prop_map(|(w, r, wr)| Step::SlowAnswers(w, r, wr)),
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

/// A schedule: the steps, and how long every handler takes to stop once
/// cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The handlers' stop delay in ms: zero, within the worker's stop
    /// timeout (a handler that cleans up), or beyond it (the runner drops
    /// the future).
    pub stop_delay_ms: u16,
    /// The steps.
    pub steps: Vec<Step>,
}

/// A generator of [`Schedule`]s; see [`steps`].
pub fn schedules(tasks: u8, workers: u8, max_len: usize) -> impl Strategy<Value = Schedule> {
    let stop_delay = prop_oneof![2 => Just(0u16), 2 => 1u16..400, 1 => 400u16..1000];
    (stop_delay, steps(tasks, workers, max_len)).prop_map(|(stop_delay_ms, steps)| Schedule {
        stop_delay_ms,
        steps,
    })
}

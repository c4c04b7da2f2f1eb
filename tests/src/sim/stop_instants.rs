//! The runtime's safety bound, checked from outside the worker: a handler
//! runs only before its *stop instant*, the send time of the latest request
//! of its session answered so far plus the session timeout minus the stop
//! lead ([`Timing::stop_lead`]), plus however long the handler may take to
//! stop once cancelled. The server cannot end the session before that send
//! time plus the session timeout, so a handler that keeps the bound is gone
//! a safety margin before (ARCHITECTURE.md, "Why two runners are
//! impossible", 3).
//!
//! Every answered request counts, the worker's own or not, and each from
//! its own send time: this is the server's view, which the worker's
//! (counting from the start of its own calls) never exceeds.

use std::collections::BTreeMap;
use std::time::Duration;

use tenure_core::{TaskId, Timing, WorkerId};

use crate::answers::Answer;
use crate::sim::history::{Entry, History};

/// One handler run of a worker, by the history (ms since its start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The task.
    pub task: TaskId,
    /// Its fencing token.
    pub token: u64,
    /// When it started.
    pub start_ms: u64,
    /// When it stopped, if it did.
    pub stop_ms: Option<u64>,
    /// Its stop instant when it started (`None`: no answer yet).
    pub stop_instant_at_start: Option<u64>,
    /// How it ran at or past its stop instant, if it did.
    pub late: Option<String>,
}

/// How long after the send time of the latest answered request a handler
/// may still run: the session timeout minus the stop lead, plus
/// `allowance`, how long the handler takes to stop once cancelled (zero for
/// a handler that stops at once).
pub fn reach(timing: &Timing, allowance: Duration) -> Duration {
    timing.session_timeout - timing.stop_lead() + allowance
}

/// Every handler run of `worker` up to now, checked against the answers of
/// its requests (`answers`, of every session it had).
pub fn runs_of(
    history: &History,
    worker: &WorkerId,
    answers: &[Answer],
    reach: Duration,
) -> Vec<Run> {
    let now_ms = history.ms_at(tokio::time::Instant::now());
    // (answered, sent, session), in ms, by answer time.
    let mut timed: Vec<(u64, u64, _)> = answers
        .iter()
        .map(|a| (history.ms_at(a.answered), history.ms_at(a.sent), a.session))
        .collect();
    timed.sort_by_key(|&(answered, sent, _)| (answered, sent));
    let reach = reach.as_millis() as u64;
    let entries = history.entries();
    let stops: BTreeMap<(&TaskId, u64), u64> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Stop {
                at_ms,
                task,
                worker: w,
                token,
            } if w == worker => Some(((task, *token), *at_ms)),
            _ => None,
        })
        .collect();
    let mut sessions = BTreeMap::new();
    let mut runs = Vec::new();
    for e in &entries {
        let Entry::Start {
            at_ms: start,
            task,
            worker: w,
            token,
        } = e
        else {
            continue;
        };
        if w != worker {
            continue;
        }
        let stop_ms = stops.get(&(task, *token)).copied();
        // The session of the run: that of the answer (a claim) just before.
        let session = timed.iter().rev().find(|a| a.0 <= *start).map(|a| a.2);
        let own = sessions
            .entry(session)
            .or_insert_with(|| Answered::new(&timed, session));
        runs.push(Run {
            task: task.clone(),
            token: *token,
            start_ms: *start,
            stop_ms,
            stop_instant_at_start: own.latest_sent(*start).map(|s| s + reach),
            late: own.late(*start, stop_ms.unwrap_or(now_ms), reach),
        });
    }
    runs
}

/// The answers of one session: when each came, and the latest send time
/// answered by then.
struct Answered {
    /// (answered, latest send time among the answers that came so far).
    latest: Vec<(u64, u64)>,
}

impl Answered {
    fn new<S: PartialEq + Copy>(timed: &[(u64, u64, S)], session: Option<S>) -> Self {
        let mut max = None;
        let latest = timed
            .iter()
            .filter(|a| Some(a.2) == session)
            .map(|&(answered, sent, _)| {
                let m = max.map_or(sent, |m: u64| m.max(sent));
                max = Some(m);
                (answered, m)
            })
            .collect();
        Answered { latest }
    }

    /// The latest send time among the answers that came by `t`.
    fn latest_sent(&self, t: u64) -> Option<u64> {
        let n = self.latest.partition_point(|(answered, _)| *answered <= t);
        n.checked_sub(1).map(|i| self.latest[i].1)
    }

    /// Whether a handler running over `[start, end)` was running at or past
    /// its stop instant, which only moves when an answer comes.
    fn late(&self, start: u64, end: u64, reach: u64) -> Option<String> {
        let first = self
            .latest
            .partition_point(|(answered, _)| *answered <= start);
        let changes = self.latest[first..]
            .iter()
            .map(|(answered, _)| *answered)
            .take_while(|t| *t < end);
        let mut from = start;
        for until in changes.chain([end]) {
            if until == from {
                continue;
            }
            let Some(sent) = self.latest_sent(from) else {
                return Some(format!("started at {start} ms before any answer"));
            };
            let stop_instant = sent + reach;
            if stop_instant.max(from) < until {
                return Some(format!(
                    "ran from {start} ms to {end} ms, past its stop instant of {stop_instant} ms (the last answered request was sent at {sent} ms; no later one was answered before {until} ms)"
                ));
            }
            from = until;
        }
        None
    }
}

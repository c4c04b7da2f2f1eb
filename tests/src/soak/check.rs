//! The checks of a soak, from the children's own records and the times
//! `/proc` saw them end:
//!
//! - **overlap**: no two commands of one task alive at one instant (a
//!   command and the helper it started count as one run);
//! - **tokens**: per task, each run's token above the one before (runs of
//!   one claim restarted by the worker share a token);
//! - **stranded**: every wanted task running again within the session
//!   timeout + 1 s of each fault (see [`stranded`](super::stranded));
//! - **outlived**: no child alive more than [`OUTLIVE_BOUND`] after its
//!   worker was SIGKILLed or exited after SIGTERM;
//! - **after end**: nothing running once every worker has exited (a
//!   command may still start while the workers hand off, and must end
//!   with its worker);
//! - **paused**: a paused or removed task's commands gone within the
//!   session timeout + 1 s of the command's return, and none started
//!   until it is wanted again.

use std::collections::BTreeMap;
use std::time::Duration;

use super::children::Child;
use super::history::{History, TaskEvent};
use super::schedule::FaultKind;
use super::stranded::{episode_at, stranded};
use crate::failover::{Run, ViolationKind, violations};

/// How long a child may outlive its worker's death or exit.
pub const OUTLIVE_BOUND: Duration = Duration::from_secs(1);

/// A failed check with the lines that prove it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The check: `overlap`, `tokens`, `stranded`, `outlived`,
    /// `after end`, `paused`, `problem`.
    pub check: &'static str,
    /// What happened.
    pub message: String,
    /// The evidence: the children's lines and what `/proc` showed.
    pub evidence: Vec<String>,
}

/// Everything the checks found and measured.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// Commands started (runs).
    pub runs: usize,
    /// Faults applied, per kind.
    pub faults: BTreeMap<FaultKind, usize>,
    /// The longest stranded time per kind of fault.
    pub worst_stranded: BTreeMap<FaultKind, Duration>,
    /// The longest a child outlived a SIGKILL of its worker (among those
    /// that ended).
    pub worst_after_kill: Option<Duration>,
    /// Children of SIGKILLed workers that never ended while watched.
    pub never_ended_after_kill: usize,
    /// Every failed check.
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

fn nanos(d: u128) -> Duration {
    Duration::from_nanos(d.min(u128::from(u64::MAX)) as u64)
}

/// The lines and `/proc` observations of a child.
fn describe(history: &History, child: &Child) -> String {
    let end = match (&child.exit, child.gone) {
        (Some((_, line)), _) => format!("exit line: {line}"),
        (None, Some(gone)) => format!(
            "no exit line; last seen alive {} ({}), seen gone {} ({})",
            child.last_seen,
            history.rel(child.last_seen),
            gone,
            history.rel(gone)
        ),
        (None, None) => format!(
            "still running at the end (last seen alive {})",
            history.rel(child.last_seen)
        ),
    };
    format!(
        "start line: {} ({})\n      {end}",
        child.start_line,
        history.rel(child.start)
    )
}

/// Which fault, on which worker, when; and from when the stranded time
/// counts.
fn describe_episode(history: &History, i: usize) -> String {
    let e = &history.episodes[i];
    format!(
        "after fault #{} {:?}{} at {} (healed {}, clock from {})",
        i + 1,
        e.fault,
        e.worker
            .as_ref()
            .map(|w| format!(" of {w}"))
            .unwrap_or_default(),
        history.rel(e.at),
        history.rel(e.healed),
        history.rel(e.clock_from)
    )
}

/// The runs of the soak: one per command started, joined with the
/// helpers it started (same task, token, attempt and worker).
fn runs(children: &[Child]) -> Vec<Run> {
    let mut by_claim: BTreeMap<(&str, u64, u64, &str), Run> = BTreeMap::new();
    for child in children {
        let key = (
            child.task.as_str(),
            child.token,
            child.attempt,
            child.worker.as_str(),
        );
        let run = by_claim.entry(key).or_insert_with(|| Run {
            task: child.task.clone(),
            token: child.token,
            worker: child.worker.clone(),
            start: child.start,
            stop: Some(0),
        });
        run.start = run.start.min(child.start);
        run.stop = match (run.stop, child.end()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    let mut all: Vec<Run> = by_claim.into_values().collect();
    all.sort_by_key(|r| r.start);
    all
}

fn overlaps_and_tokens(history: &History, children: &[Child], findings: &mut Vec<Finding>) {
    for v in violations(&runs(children), &[], false) {
        let check = match v.kind {
            ViolationKind::Overlap => "overlap",
            ViolationKind::TokenOrder => {
                // Restarts under one claim keep the token.
                let [a, b] = &v.runs[..] else { continue };
                if a.token == b.token && a.worker == b.worker {
                    continue;
                }
                "tokens"
            }
            ViolationKind::NeverStopped | ViolationKind::StoppedAfterKill => "overlap",
        };
        let during = v
            .runs
            .last()
            .and_then(|b| episode_at(&history.episodes, b.start))
            .map(|i| describe_episode(history, i))
            .unwrap_or_else(|| "before any fault".into());
        let evidence = v
            .runs
            .iter()
            .flat_map(|run| {
                children.iter().filter(move |c| {
                    c.task == run.task && c.token == run.token && c.worker == run.worker
                })
            })
            .map(|c| describe(history, c))
            .collect();
        findings.push(Finding {
            check,
            message: format!("{}; {during}", v.message),
            evidence,
        });
    }
}

fn stranded_times(history: &History, children: &[Child], verdict: &mut Verdict) {
    let bound = history.stranded_bound();
    for s in stranded(history, children) {
        let kind = s.episode.map(|i| history.episodes[i].kind());
        if let Some(kind) = kind {
            let worst = verdict.worst_stranded.entry(kind).or_default();
            *worst = (*worst).max(s.time);
        }
        if s.time <= bound {
            continue;
        }
        let fault = s.episode.map_or_else(
            || "before any fault".into(),
            |i| describe_episode(history, i),
        );
        let around = children
            .iter()
            .filter(|c| {
                c.task == s.gap.task && (c.end() == Some(s.gap.from) || c.start == s.gap.to)
            })
            .map(|c| describe(history, c))
            .collect();
        verdict.findings.push(Finding {
            check: "stranded",
            message: format!(
                "{} ran nowhere from {} to {}: stranded {:?} {fault}, bound {bound:?}",
                s.gap.task,
                history.rel(s.gap.from),
                history.rel(s.gap.to),
                s.time
            ),
            evidence: around,
        });
    }
}

/// Each child of a worker that died or exited (`worker`, at `at`) still
/// alive [`OUTLIVE_BOUND`] after `dead`, reported under `check`.
fn survivors(
    history: &History,
    children: &[Child],
    check: &'static str,
    (worker, at, dead): (&str, u128, u128),
    how: &str,
) -> Vec<Finding> {
    let until = dead + OUTLIVE_BOUND.as_nanos();
    children
        .iter()
        .filter(|c| c.worker == worker && c.start < at && c.end().is_none_or(|end| end > until))
        .map(|c| Finding {
            check,
            message: format!(
                "{} token {} ({:?}) of {worker} still ran {OUTLIVE_BOUND:?} after its worker {how} at {}",
                c.task,
                c.token,
                c.role,
                history.rel(at)
            ),
            evidence: vec![describe(history, c)],
        })
        .collect()
}

fn outlived(history: &History, children: &[Child], verdict: &mut Verdict) {
    for kill in &history.kills {
        for c in children
            .iter()
            .filter(|c| c.worker == kill.worker && c.start < kill.at)
        {
            match c.end() {
                Some(end) => {
                    let after = nanos(end.saturating_sub(kill.at));
                    verdict.worst_after_kill = verdict.worst_after_kill.max(Some(after));
                }
                None => verdict.never_ended_after_kill += 1,
            }
        }
        let died = (kill.worker.as_str(), kill.at, kill.dead);
        let found = survivors(history, children, "outlived", died, "was SIGKILLed");
        verdict.findings.extend(found);
    }
    for exit in &history.exits {
        let check = if exit.last { "after end" } else { "outlived" };
        let left = (exit.worker.as_str(), exit.exited, exit.exited);
        let found = survivors(history, children, check, left, "exited after SIGTERM");
        verdict.findings.extend(found);
    }
    for c in children.iter().filter(|c| c.start > history.all_exited) {
        verdict.findings.push(Finding {
            check: "after end",
            message: format!("{} started after every worker had exited", c.task),
            evidence: vec![describe(history, c)],
        });
    }
}

fn paused(history: &History, children: &[Child], findings: &mut Vec<Finding>) {
    let bound = history.stranded_bound().as_nanos();
    for (i, event) in history.task_events.iter().enumerate() {
        if event.change.wanted() {
            continue;
        }
        let next: Option<&TaskEvent> = history.task_events[i + 1..]
            .iter()
            .find(|e| e.task == event.task && e.change.wanted());
        let until = next.map_or(history.all_exited, |e| e.began);
        for c in children.iter().filter(|c| c.task == event.task) {
            let late_stop =
                c.start < event.returned && c.end().is_none_or(|end| end > event.returned + bound);
            let started = c.start > event.returned && c.start < until;
            if late_stop || started {
                findings.push(Finding {
                    check: "paused",
                    message: format!(
                        "{} {} while {:?} since {}",
                        c.task,
                        if started { "started" } else { "kept running" },
                        event.change,
                        history.rel(event.returned)
                    ),
                    evidence: vec![describe(history, c)],
                });
            }
        }
    }
}

/// Runs every check.
pub fn check(history: &History, children: &[Child], malformed: &[String]) -> Verdict {
    let mut verdict = Verdict {
        runs: children
            .iter()
            .filter(|c| c.role == super::children::Role::Command)
            .count(),
        ..Verdict::default()
    };
    for e in &history.episodes {
        *verdict.faults.entry(e.kind()).or_default() += 1;
    }
    overlaps_and_tokens(history, children, &mut verdict.findings);
    stranded_times(history, children, &mut verdict);
    outlived(history, children, &mut verdict);
    paused(history, children, &mut verdict.findings);
    for problem in history.problems.iter().chain(malformed) {
        verdict.findings.push(Finding {
            check: "problem",
            message: problem.clone(),
            evidence: Vec::new(),
        });
    }
    verdict
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;

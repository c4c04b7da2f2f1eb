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
//! - **after end**: nothing running once every worker has exited;
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
    /// The longest a child outlived a SIGKILL of its worker.
    pub worst_after_kill: Option<Duration>,
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

/// The children of `worker` started before `at` and not gone by `until`.
fn outliving<'a>(
    children: &'a [Child],
    worker: &'a str,
    at: u128,
    until: u128,
) -> impl Iterator<Item = &'a Child> + 'a {
    children.iter().filter(move |c| {
        c.worker == worker && c.start < at && c.end().is_none_or(|end| end > until)
    })
}

fn outlived(history: &History, children: &[Child], verdict: &mut Verdict) {
    let bound = OUTLIVE_BOUND.as_nanos();
    for kill in &history.kills {
        for c in children
            .iter()
            .filter(|c| c.worker == kill.worker && c.start < kill.at)
        {
            let after = nanos(c.end().unwrap_or(u128::MAX).saturating_sub(kill.at));
            verdict.worst_after_kill = verdict.worst_after_kill.max(Some(after));
        }
        for c in outliving(children, &kill.worker, kill.at, kill.dead + bound) {
            verdict.findings.push(Finding {
                check: "outlived",
                message: format!(
                    "{} token {} ({:?}) of {} outlived the SIGKILL of its worker at {} by more than {OUTLIVE_BOUND:?}",
                    c.task,
                    c.token,
                    c.role,
                    c.worker,
                    history.rel(kill.at)
                ),
                evidence: vec![describe(history, c)],
            });
        }
    }
    for exit in &history.exits {
        let check = if exit.last { "after end" } else { "outlived" };
        for c in outliving(children, &exit.worker, exit.exited, exit.exited + bound) {
            verdict.findings.push(Finding {
                check,
                message: format!(
                    "{} token {} ({:?}) of {} still ran {OUTLIVE_BOUND:?} after its worker exited after SIGTERM at {}",
                    c.task,
                    c.token,
                    c.role,
                    c.worker,
                    history.rel(exit.exited)
                ),
                evidence: vec![describe(history, c)],
            });
        }
    }
    for c in children.iter().filter(|c| c.start > history.end) {
        verdict.findings.push(Finding {
            check: "after end",
            message: format!("{} started after the shutdown began", c.task),
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
mod tests {
    use super::*;
    use crate::failover::Kill;
    use crate::soak::children::Role;
    use crate::soak::history::{Change, Exit};

    fn child(task: &str, token: u64, worker: &str, start: u128, end: Option<u128>) -> Child {
        Child {
            task: task.into(),
            token,
            attempt: 1,
            worker: worker.into(),
            role: Role::Command,
            key: (start as u32, 1),
            start,
            start_line: format!("start {task} {token} 1 {worker} {start} 1 {start}"),
            exit: None,
            last_seen: start,
            gone: end,
        }
    }

    fn history() -> History {
        History {
            session: Duration::from_secs(1),
            initial_tasks: vec!["a".into()],
            start: 0,
            end: 10_000_000_000,
            all_exited: 10_100_000_000,
            ..History::default()
        }
    }

    fn checks(verdict: &Verdict) -> Vec<&'static str> {
        verdict.findings.iter().map(|f| f.check).collect()
    }

    #[test]
    fn sequential_runs_with_short_gaps_pass() {
        let children = [
            child("a", 1, "w1", 0, Some(3_000_000_000)),
            child("a", 2, "w2", 3_500_000_000, None),
        ];
        let verdict = check(&history(), &children, &[]);
        assert!(verdict.passed(), "{:?}", verdict.findings);
        assert_eq!(verdict.runs, 2);
    }

    #[test]
    fn two_commands_of_one_task_alive_at_once_are_an_overlap_with_their_lines() {
        let children = [
            child("a", 1, "w1", 0, Some(3_000_000_000)),
            child("a", 2, "w2", 2_000_000_000, None),
        ];
        let verdict = check(&history(), &children, &[]);
        assert_eq!(checks(&verdict), ["overlap"]);
        let evidence = &verdict.findings[0].evidence;
        assert_eq!(evidence.len(), 2);
        assert!(evidence[0].contains("start a 1 1 w1"), "{evidence:?}");
    }

    #[test]
    fn a_helper_is_part_of_its_run_and_a_lingering_one_overlaps_the_next() {
        let mut helper = child("a", 1, "w1", 100, Some(4_000_000_000));
        helper.role = Role::Helper;
        let children = [
            child("a", 1, "w1", 0, Some(3_000_000_000)),
            helper,
            child("a", 2, "w2", 3_500_000_000, None),
        ];
        let verdict = check(&history(), &children, &[]);
        assert_eq!(checks(&verdict), ["overlap"]);
    }

    #[test]
    fn falling_tokens_fail_but_restarts_under_one_claim_do_not() {
        let mut again = child("a", 1, "w1", 1_000_000_000, None);
        again.attempt = 2;
        let restarted = [child("a", 1, "w1", 0, Some(900_000_000)), again];
        assert!(check(&history(), &restarted, &[]).passed());
        let falling = [
            child("a", 2, "w1", 0, Some(900_000_000)),
            child("a", 1, "w2", 1_000_000_000, None),
        ];
        assert_eq!(checks(&check(&history(), &falling, &[])), ["tokens"]);
    }

    #[test]
    fn a_gap_longer_than_the_session_and_a_second_is_stranded() {
        let children = [
            child("a", 1, "w1", 0, Some(1_000_000_000)),
            child("a", 2, "w2", 3_100_000_000, None),
        ];
        assert_eq!(checks(&check(&history(), &children, &[])), ["stranded"]);
    }

    #[test]
    fn a_child_alive_after_its_workers_sigkill_or_exit_outlived_it() {
        let mut h = history();
        h.kills.push(Kill {
            worker: "w1".into(),
            at: 1_000_000_000,
            dead: 1_000_000_000,
        });
        let children = [
            child("a", 1, "w1", 0, Some(2_500_000_000)),
            child("a", 2, "w2", 2_600_000_000, None),
        ];
        assert_eq!(checks(&check(&h, &children, &[])), ["outlived"]);
        h.kills.clear();
        h.exits.push(Exit {
            worker: "w2".into(),
            signalled: 9_000_000_000,
            exited: 9_500_000_000,
            status: Some("exit status: 0".into()),
            last: true,
        });
        assert_eq!(checks(&check(&h, &children, &[])), ["after end"]);
    }

    #[test]
    fn a_paused_task_that_keeps_running_or_starts_fails() {
        let mut h = history();
        h.task_events.push(TaskEvent {
            task: "a".into(),
            change: Change::Paused,
            began: 1_000_000_000,
            returned: 1_100_000_000,
        });
        let stopped = [child("a", 1, "w1", 0, Some(1_200_000_000))];
        assert!(check(&h, &stopped, &[]).passed());
        let restarted = [
            child("a", 1, "w1", 0, Some(1_200_000_000)),
            child("a", 2, "w1", 5_000_000_000, Some(5_100_000_000)),
        ];
        assert_eq!(checks(&check(&h, &restarted, &[])), ["paused"]);
    }
}

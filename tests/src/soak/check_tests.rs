//! Tests of the soak's checks on made-up records.

use super::*;
use crate::failover::Kill;
use crate::soak::children::{Role, test_child};
use crate::soak::history::{Change, Exit};

fn child(task: &str, token: u64, worker: &str, start: u128, end: Option<u128>) -> Child {
    test_child(task, token, worker, start, end)
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

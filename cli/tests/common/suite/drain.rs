//! Draining a worker from the command line: `workers drain` moves its
//! tasks to the others by handoff, `workers ls` shows it drained,
//! `workers undrain` gives it tasks again; no run of a task ever overlaps
//! another.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::super::runlog::{RunLog, script};
use super::super::{Cluster, Proc, Target, expect_within};
use super::worker_count;

const TASKS: [&str; 4] = ["d1", "d2", "d3", "d4"];

/// The run-log script of [`script`], writing one file per task in `dir`
/// (`TASK.runs`): tokens count per task, so each task's runs are checked
/// on their own.
fn per_task_script(dir: &Path) -> String {
    let placeholder = dir.join("TASK.runs");
    let fixed = format!("f='{}'", placeholder.display());
    let per_task = format!("f='{}'/\"$TENURE_TASK\".runs", dir.display());
    let script = script(&placeholder);
    assert!(script.contains(&fixed), "{script}");
    script.replace(&fixed, &per_task)
}

fn runs(c: &Cluster, task: &str) -> RunLog {
    RunLog::read(&c.path(&format!("{task}.runs")))
}

/// Task → owner while every task runs where the leader wants it (and its
/// command wrote its start line); `None` otherwise.
fn settled(c: &Cluster) -> Option<BTreeMap<String, String>> {
    let status = c.status();
    let tasks = status["tasks"].as_array().unwrap();
    if tasks.len() != TASKS.len() {
        return None;
    }
    tasks
        .iter()
        .map(|t| {
            let name = t["task"].as_str().unwrap();
            let started = t["token"]
                .as_u64()
                .is_some_and(|token| runs(c, name).start_of(token).is_some());
            let settled = t["state"] == "running" && t["owner"] == t["target"] && started;
            settled.then(|| (name.to_owned(), t["owner"].as_str().unwrap().to_owned()))
        })
        .collect()
}

fn on<'a>(placement: &'a BTreeMap<String, String>, worker: &str) -> Vec<&'a String> {
    placement
        .iter()
        .filter(|(_, w)| *w == worker)
        .map(|(t, _)| t)
        .collect()
}

/// The entry of `worker` in `workers ls --json`.
fn listed(c: &Cluster, worker: &str) -> Value {
    let doc = c.json(&["workers", "ls"]);
    doc["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["worker"] == worker)
        .unwrap_or_else(|| panic!("{worker} not listed: {doc}"))
        .clone()
}

/// The DRAINED column of `worker` in `workers ls`.
fn drained_column(c: &Cluster, worker: &str) -> String {
    let table = c.ok(&["workers", "ls"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let at = header.iter().position(|h| *h == "DRAINED").unwrap();
    lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|row| row[0] == worker)
        .unwrap_or_else(|| panic!("{worker} not in {table}"))[at]
        .to_owned()
}

fn wait_settled(
    c: &Cluster,
    what: &str,
    procs: &[&Proc],
    check: impl Fn(&BTreeMap<String, String>) -> bool,
) -> BTreeMap<String, String> {
    let mut last = None;
    expect_within(Duration::from_secs(30), what, procs, || {
        last = settled(c).filter(|p| check(p));
        last.is_some()
    });
    last.unwrap()
}

/// Two workers share four tasks; `workers drain a` moves a's tasks to b
/// (each stopped on a before it starts on b; b's own tasks are not
/// restarted), `workers ls` shows a drained, registered and owning
/// nothing; `workers undrain a` gives it its share back. Every task's
/// runs follow one another, never overlapping, each token started once.
pub fn draining_a_worker_moves_its_tasks_and_undraining_takes_them_back(t: &Target) {
    let c = t.cluster("drain");
    let script = per_task_script(c.dir.path());
    let a = c.worker("a", &[], &script);
    let b = c.worker("b", &[], &script);
    let procs = [&a, &b];
    expect_within(
        Duration::from_secs(20),
        "both workers registered",
        &procs,
        || worker_count(&c) == 2,
    );
    for task in TASKS {
        c.ok(&["tasks", "add", task]);
    }
    let before = wait_settled(&c, "two tasks on each worker", &procs, |p| {
        on(p, "a").len() == 2
    });
    assert_eq!(drained_column(&c, "a"), "-");

    let said = c.ok(&["workers", "drain", "a"]);
    assert!(said.contains("drained worker a"), "{said}");
    wait_settled(&c, "every task on b", &procs, |p| on(p, "b").len() == 4);
    let a_listed = listed(&c, "a");
    assert_eq!(a_listed["drained"], true, "{a_listed}");
    assert_eq!(a_listed["owned"], 0, "{a_listed}");
    assert_eq!(listed(&c, "b")["drained"], false);
    assert_eq!(drained_column(&c, "a"), "yes");
    assert_eq!(drained_column(&c, "b"), "-");
    for (task, owner) in &before {
        let log = runs(&c, task);
        let starts = log.starts();
        if owner == "b" {
            assert_eq!(starts.len(), 1, "{task} stayed on b: {starts:?}");
        } else {
            assert_eq!(starts.len(), 2, "{task} moved once: {starts:?}");
            assert!(log.stopped(starts[0].token), "{task} stopped on a");
            assert_eq!(starts[1].worker, "b");
        }
    }
    // A drained worker keeps running and takes nothing.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(listed(&c, "a")["owned"], 0);

    let said = c.ok(&["workers", "undrain", "a"]);
    assert!(said.contains("undrained worker a"), "{said}");
    wait_settled(&c, "a has its share again", &procs, |p| {
        on(p, "a").len() == 2
    });
    assert_eq!(listed(&c, "a")["drained"], false);
    assert_eq!(drained_column(&c, "a"), "-");
    for task in TASKS {
        if let Err(e) = runs(&c, task).check_no_overlap() {
            panic!("{task}: {e}\n{}\n{}", a.log(), b.log());
        }
    }
}

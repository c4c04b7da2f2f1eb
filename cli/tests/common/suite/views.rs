//! What the CLI shows: `watch`, the JSON documents and the JSON logs.

use std::time::Duration;

use serde_json::Value;

use super::super::{Proc, Target, expect_within, run_bounded};
use super::{keys, set};

/// `watch --json` prints a status snapshot, then events and the snapshots
/// they change, and stops after `--events N`, `--for`, or SIGINT (exit 0).
pub fn watch_follows_status_and_events_until_told_to_stop(t: &Target) {
    let c = t.cluster("watch");
    c.ok(&["tasks", "add", "seen"]);
    let mut command = c.command();
    command.args(["watch", "--json", "--events", "2", "--interval", "200ms"]);
    let mut watch = Proc::start("watch", command, &c.path("watch.log"));
    expect_within(
        Duration::from_secs(20),
        "the first snapshot",
        &[&watch],
        || watch.output().contains(r#""type":"status""#),
    );
    // Let the event stream read its starting point.
    std::thread::sleep(Duration::from_millis(500));
    let w = c.worker("solo", &[], "exec sleep 600");
    expect_within(
        Duration::from_secs(20),
        "the claim event",
        &[&watch, &w],
        || watch.output().contains(r#""change":"claimed""#),
    );
    c.ok(&["tasks", "pause", "seen"]);
    let status = watch
        .wait_exit(Duration::from_secs(20))
        .expect("watch stops after two events");
    assert!(status.success(), "{}", watch.log());
    let docs: Vec<Value> = watch
        .output()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs[0]["type"], "status");
    assert_eq!(docs[0]["tasks"][0]["state"], "waiting");
    let events: Vec<&Value> = docs.iter().filter(|d| d["type"] == "event").collect();
    assert_eq!(events.len(), 2, "{docs:?}");
    assert_eq!(events[0]["change"], "claimed");
    assert_eq!(events[0]["worker"], "solo");
    assert_eq!(events[1]["change"], "released");
    assert_eq!(events[1]["token"], events[0]["token"]);
    let event_keys = [
        "at_ms", "change", "from", "schema", "task", "token", "type", "worker",
    ];
    for e in &events {
        assert_eq!(keys(e), set(&event_keys));
    }

    let mut command = c.command();
    command.args(["watch", "--for", "300ms"]);
    let out = run_bounded(&mut command);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("TASK"));

    let mut command = c.command();
    command.args(["watch", "--json"]);
    let mut watch = Proc::start("watch-int", command, &c.path("watch-int.log"));
    expect_within(
        Duration::from_secs(20),
        "the first snapshot",
        &[&watch],
        || !watch.output().is_empty(),
    );
    watch.signal("INT");
    let status = watch
        .wait_exit(Duration::from_secs(10))
        .expect("SIGINT stops watch");
    assert!(status.success());
    drop(w);
}

/// The JSON documents have exactly the keys the README documents
/// (schema 1), with the documented types.
pub fn json_documents_keep_their_documented_keys(t: &Target) {
    let c = t.cluster("schema");
    c.ok(&["tasks", "add", "typed", "--tag", "t", "--pin", "keeper"]);
    let w = c.worker("keeper", &["--tag", "t"], "exec sleep 600");
    expect_within(Duration::from_secs(20), "the task running", &[&w], || {
        c.task("typed").unwrap()["state"] == "running"
    });
    let task_keys = [
        "owner",
        "payload_bytes",
        "pinned",
        "since_ms",
        "state",
        "tags",
        "target",
        "task",
        "token",
        "weight",
    ];
    let worker_keys = [
        "capacity", "drained", "leader", "owned", "session", "since_ms", "tags", "worker",
    ];
    let status = c.status();
    assert_eq!(
        keys(&status),
        set(&[
            "at_ms", "cluster", "leader", "schema", "tasks", "type", "workers"
        ])
    );
    assert_eq!(status["schema"], 1);
    assert_eq!(status["type"], "status");
    assert_eq!(status["cluster"], c.name.as_str());
    assert!(status["at_ms"].is_u64());
    assert_eq!(keys(&status["leader"]), set(&["term", "worker"]));
    assert_eq!(status["leader"]["worker"], "keeper");
    assert!(status["leader"]["term"].is_u64());
    let task = &status["tasks"][0];
    assert_eq!(keys(task), set(&task_keys));
    assert_eq!(task["owner"], "keeper");
    assert_eq!(task["target"], "keeper");
    assert_eq!(task["pinned"], "keeper");
    assert!(task["token"].is_u64() && task["since_ms"].is_u64());
    assert_eq!(task["tags"], serde_json::json!(["t"]));
    let worker = &status["workers"][0];
    assert_eq!(keys(worker), set(&worker_keys));
    assert!(worker["session"].as_str().unwrap().starts_with("0x"));
    assert_eq!(worker["leader"], true);
    assert_eq!(worker["owned"], 1);
    assert_eq!(worker["drained"], false);
    assert_eq!(worker["capacity"], 1);

    let tasks = c.json(&["tasks", "ls"]);
    assert_eq!(keys(&tasks), set(&["cluster", "schema", "tasks"]));
    assert_eq!(keys(&tasks["tasks"][0]), set(&task_keys));
    let workers = c.json(&["workers", "ls"]);
    assert_eq!(keys(&workers), set(&["cluster", "schema", "workers"]));
    assert_eq!(keys(&workers["workers"][0]), set(&worker_keys));
    drop(w);
}

/// `--log-format json`: every line on standard error is one JSON object,
/// and the lines of a supervised command carry the `worker` span and the
/// `task` span with the task's name and fencing token.
pub fn json_logs_carry_the_worker_and_task_spans(t: &Target) {
    let c = t.cluster("jsonlog");
    let w = c.worker("logger", &["--log-format", "json"], "sleep 30");
    c.ok(&["tasks", "add", "logged"]);
    let started = |log: &str| log.contains("command started");
    expect_within(Duration::from_secs(20), "the command starts", &[&w], || {
        started(&w.log())
    });
    let log = w.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let line = lines
        .iter()
        .find(|l| l["fields"]["message"] == "command started")
        .unwrap_or_else(|| panic!("no start line in {log}"));
    let spans = line["spans"].as_array().unwrap();
    let named = |name: &str| {
        spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no {name} span in {line}"))
    };
    assert_eq!(named("worker")["worker"], "logger", "{line}");
    let task = named("task");
    assert_eq!(task["task"], "logged", "{line}");
    let token = task["token"]
        .as_u64()
        .unwrap_or_else(|| panic!("no token in {task}"));
    assert_eq!(
        c.task("logged").unwrap()["token"],
        token,
        "the span names the claim's token"
    );
    assert!(
        line["fields"]["pid"].is_u64() || line["span"]["pid"].is_u64(),
        "{line}"
    );
}

//! Operating tasks through the CLI, and what it refuses.

use std::time::Duration;

use serde_json::Value;
use tenure_tests::server_util::free_port;

use super::super::tree::tree;
use super::super::{Cluster, TENURE, Target, run_bounded};

/// Add, pause, resume and remove through the CLI; `status --json`,
/// `tasks ls` and `workers ls` show each step.
pub fn operate_tasks_and_see_them_in_status_json(t: &Target) {
    let c = t.cluster("ops");
    let added = c.ok(&[
        "tasks",
        "add",
        "alpha",
        "--payload",
        "hello world",
        "--weight",
        "3",
        "--tag",
        "gpu",
        "--tag",
        "eu",
    ]);
    assert_eq!(added, "added task alpha\n");
    let alpha = c.task("alpha").unwrap();
    assert_eq!(alpha["state"], "waiting");
    assert_eq!(alpha["weight"], 3);
    assert_eq!(alpha["tags"], serde_json::json!(["eu", "gpu"]));
    assert_eq!(alpha["payload_bytes"], 11);
    assert_eq!(alpha["owner"], Value::Null);

    let file = c.path("payload.bin");
    std::fs::write(&file, vec![7u8; 5000]).unwrap();
    c.ok(&[
        "tasks",
        "add",
        "beta",
        "--payload",
        &format!("@{}", file.display()),
    ]);
    assert_eq!(c.task("beta").unwrap()["payload_bytes"], 5000);

    assert_eq!(c.ok(&["tasks", "pause", "alpha"]), "paused task alpha\n");
    assert_eq!(c.task("alpha").unwrap()["state"], "paused");
    assert_eq!(c.ok(&["tasks", "resume", "alpha"]), "resumed task alpha\n");
    assert_eq!(c.task("alpha").unwrap()["state"], "waiting");
    assert_eq!(c.ok(&["tasks", "rm", "alpha"]), "removed task alpha\n");
    assert!(c.task("alpha").is_none());

    let tasks = c.json(&["tasks", "ls"]);
    let names: Vec<&str> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beta"]);
    assert_eq!(c.json(&["workers", "ls"])["workers"], serde_json::json!([]));
    let table = c.ok(&["status"]);
    assert!(
        table.starts_with(&format!(
            "cluster {}: no leader, 0 workers, 1 task\n",
            c.name
        )),
        "{table}"
    );
    assert!(c.ok(&["tasks", "ls"]).contains("beta"));
}

fn expect_refusal(c: &Cluster, args: &[&str], code: i32, reason: &str) {
    let out = c.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "tenure {args:?}: expected exit {code}; stderr: {stderr}"
    );
    assert!(
        stderr.contains(reason),
        "tenure {args:?}: stderr does not give the reason {reason:?}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "tenure {args:?} printed to stdout");
}

/// Bad names, weights, tags, payloads and duplicates are refused with the
/// reason and a non-zero exit code, and leave the cluster as it was.
pub fn bad_input_is_refused_with_the_reason_and_nothing_is_written(t: &Target) {
    let c = t.cluster("refuse");
    c.ok(&["tasks", "add", "keep", "--payload", "original"]);
    let big = c.path("big.bin");
    std::fs::write(&big, vec![b'x'; 4 << 20]).unwrap();
    let big_arg = format!("@{}", big.display());
    expect_refusal(&c, &["tasks", "add", "a/b"], 2, "must not contain `/`");
    expect_refusal(&c, &["tasks", "add", ""], 2, "must not be empty");
    expect_refusal(
        &c,
        &["tasks", "add", "w0", "--weight", "0"],
        2,
        "weight must be at least 1",
    );
    expect_refusal(&c, &["tasks", "add", "notag", "--tag", ""], 2, "tag");
    expect_refusal(
        &c,
        &["tasks", "add", "huge", "--payload", &big_arg],
        2,
        "limit",
    );
    expect_refusal(
        &c,
        &["tasks", "add", "nofile", "--payload", "@/nonexistent/p"],
        2,
        "/nonexistent/p",
    );
    expect_refusal(
        &c,
        &["tasks", "add", "keep", "--payload", "other"],
        5,
        "already exists",
    );
    expect_refusal(&c, &["tasks", "rm", "ghost"], 5, "unknown task ghost");
    expect_refusal(&c, &["tasks", "pause", "ghost"], 5, "unknown task ghost");
    expect_refusal(&c, &["tasks", "resume", "ghost"], 5, "unknown task ghost");
    expect_refusal(
        &c,
        &["tasks", "add", "x", "--weight", "many"],
        2,
        "invalid value",
    );

    let tasks = c.status()["tasks"].clone();
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks[0]["task"], "keep");
    assert_eq!(tasks[0]["payload_bytes"], 8);
    assert_eq!(tasks[0]["state"], "waiting");

    let mut bad_cluster = std::process::Command::new(TENURE);
    bad_cluster.args([
        "--backend",
        t.backend,
        "--connect",
        &t.connect,
        "--cluster",
        "a/b",
        "status",
    ]);
    let out = run_bounded(&mut bad_cluster);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid name"));

    let mut memory = std::process::Command::new(TENURE);
    memory.args(["--backend", "memory", "status"]);
    let out = run_bounded(&mut memory);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one process"));
}

/// A server that does not answer gives exit code 3 and a message naming
/// the address, within the connect timeout and a little.
pub fn unreachable_server_fails_within_the_connect_timeout(t: &Target) {
    let port = free_port();
    let nowhere = format!("127.0.0.1:{port}");
    let mut command = std::process::Command::new(TENURE);
    command.args([
        "--backend",
        t.backend,
        "--connect",
        &nowhere,
        "--connect-timeout",
        "1s",
        "status",
    ]);
    let started = std::time::Instant::now();
    let out = run_bounded(&mut command);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&nowhere), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    eprintln!(
        "measured [{}]: unreachable server reported after {took:?}",
        t.backend
    );
}

/// `status`, `tasks ls`, `workers ls` and `watch` on a cluster that does
/// not exist say so and exit 6, and write nothing: the cluster's tree is
/// empty before and after (and fills once a task is added).
pub fn read_only_commands_on_a_missing_cluster_write_nothing(t: &Target) {
    let c = t.cluster("ghost");
    let root = format!("/tenure/{}", c.name);
    assert_eq!(tree(t, &root), Vec::<String>::new(), "a fresh name");
    let reads: [&[&str]; 6] = [
        &["status"],
        &["status", "--json"],
        &["tasks", "ls"],
        &["tasks", "ls", "--json"],
        &["workers", "ls"],
        &["watch", "--for", "1s"],
    ];
    for args in reads {
        let out = c.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("no cluster {} at {root}", c.name)),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(tree(t, &root), Vec::<String>::new(), "nothing written");
    c.ok(&["tasks", "add", "first"]);
    let written = tree(t, &root);
    assert!(
        written.contains(&format!("{root}/tasks/first")),
        "{written:?}"
    );
    assert!(c.ok(&["tasks", "ls"]).contains("first"));
}

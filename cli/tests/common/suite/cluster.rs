//! `tenure cluster ls` and `tenure cluster rm`.

use std::time::Duration;

use serde_json::Value;

use super::super::tree::tree;
use super::super::{Cluster, Target, expect_within};
use super::worker_count;

/// The entry of `c` in `cluster ls --json`, if listed.
fn listed(c: &Cluster) -> Option<Value> {
    let doc = c.json(&["cluster", "ls"]);
    assert_eq!(doc["schema"], 1, "{doc}");
    doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["cluster"] == c.name.as_str())
        .cloned()
}

/// `cluster ls` lists a cluster with its workers and tasks and writes
/// nothing; `cluster rm` refuses with exit code 7 naming the registered
/// worker (and removes nothing), then, once the worker is gone, removes
/// the whole tree; a second `rm` finds no cluster (exit code 6).
pub fn cluster_ls_lists_and_cluster_rm_refuses_while_in_use(t: &Target) {
    let c = t.cluster("removed");
    let root = format!("/tenure/{}", c.name);
    c.ok(&["tasks", "add", "one"]);
    c.ok(&["tasks", "add", "two"]);
    let mut a = c.worker("a", &[], "exec sleep 600");
    expect_within(Duration::from_secs(20), "a registered", &[&a], || {
        worker_count(&c) == 1 && c.task("one").is_some_and(|t| t["state"] == "running")
    });
    let before = tree(t, &root);
    let entry = listed(&c).expect("listed");
    assert_eq!(
        (entry["workers"].as_u64(), entry["tasks"].as_u64()),
        (Some(1), Some(2))
    );
    let table = c.ok(&["cluster", "ls"]);
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(c.name.as_str()))
        .unwrap_or_else(|| panic!("{table}"))
        .split_whitespace()
        .collect();
    assert_eq!(row, [c.name.as_str(), "1", "2"], "{table}");
    assert!(table.starts_with("CLUSTER"), "{table}");

    let out = c.run(&["cluster", "rm", &c.name]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("in use") && stderr.contains(" a "),
        "{stderr}"
    );
    assert!(c.task("two").is_some(), "nothing removed");
    // Nothing written by the listing nor by the refusal (the worker's
    // steady state writes nothing either).
    let after: Vec<String> = tree(t, &root);
    assert_eq!(after, before);

    a.signal("TERM");
    a.wait_exit(Duration::from_secs(20))
        .expect("a stops on SIGTERM");
    expect_within(Duration::from_secs(10), "a gone", &[&a], || {
        listed(&c).is_some_and(|e| e["workers"] == 0)
    });
    let said = c.ok(&["cluster", "rm", &c.name]);
    assert!(
        said.contains(&format!("removed cluster {}", c.name)),
        "{said}"
    );
    assert_eq!(tree(t, &root), Vec::<String>::new(), "the whole tree");
    assert!(listed(&c).is_none());
    let out = c.run(&["cluster", "rm", &c.name]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(c.run(&["status"]).status.code(), Some(6));
}

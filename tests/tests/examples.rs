//! The topic examples of `examples/`, run the way the README tells users:
//! `cargo run --example NAME [--features …] -- ARGS`, against the
//! ZooKeeper and etcd servers the harness starts, checking what a user
//! would see on standard output and the exit status. The first run of
//! each feature set compiles the example, so the waits are long.

#![allow(clippy::unwrap_used)]

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tenure_tests::etcd::EtcdServer;
use tenure_tests::zookeeper::ZkServer;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Long enough for `cargo run` to compile an example on a busy machine.
const BUILD: Duration = Duration::from_secs(900);

/// How long a step of a running example may take.
const STEP: Duration = Duration::from_secs(30);

/// A running example and the lines it printed so far.
struct Example {
    child: Child,
    out: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
}

impl Example {
    /// `cargo run -q --example NAME --features FEATURES -- ARGS`, from the
    /// workspace root.
    fn start(name: &str, features: &str, args: &[&str]) -> Example {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .args(["run", "-q", "--example", name]);
        if !features.is_empty() {
            command.args(["--features", features]);
        }
        let mut child = command
            .arg("--")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        Example {
            child,
            out,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one contains every one of `words`; returns it.
    async fn wait_for(&mut self, words: &[&str], within: Duration) -> String {
        let read = async {
            while let Some(line) = self.out.next_line().await.unwrap() {
                eprintln!("| {line}");
                self.seen.push(line.clone());
                if words.iter().all(|w| line.contains(w)) {
                    return line;
                }
            }
            panic!(
                "the example ended without printing {words:?}: {:?}",
                self.seen
            )
        };
        tokio::time::timeout(within, read)
            .await
            .unwrap_or_else(|_| panic!("no line with {words:?} within {within:?}"))
    }

    /// Sends SIGTERM (`cargo run` has exec'd the example by now).
    fn terminate(&self) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Reads the rest of the output and waits for the exit.
    async fn finish(mut self, within: Duration) -> (ExitStatus, Vec<String>) {
        let rest = async {
            while let Some(line) = self.out.next_line().await.unwrap() {
                eprintln!("| {line}");
                self.seen.push(line);
            }
            self.child.wait().await.unwrap()
        };
        let status = tokio::time::timeout(within, rest)
            .await
            .expect("the example exits");
        (status, self.seen)
    }
}

/// Two workers of one cluster through the example `name`: the first runs
/// `hello`; on SIGTERM it hands `hello` to the second and exits 0 after
/// "stopped"; then the second stops the same way.
async fn two_workers_hand_hello_over(name: &str, features: &str, connect: &str) {
    let cluster = format!("{name}-{}", std::process::id());
    let mut a = Example::start(name, features, &[connect, &cluster, "A"]);
    a.wait_for(&["A joined cluster", &cluster], BUILD).await;
    a.wait_for(&["A runs hello (hello from tenure), token"], STEP)
        .await;
    let mut b = Example::start(name, features, &[connect, &cluster, "B"]);
    b.wait_for(&["B joined cluster"], BUILD).await;

    a.terminate();
    a.wait_for(&["A: shutting down, handing tasks off"], STEP)
        .await;
    b.wait_for(&["B runs hello"], STEP).await;
    let (status, lines) = a.finish(STEP).await;
    assert!(status.success(), "{status}: {lines:?}");
    assert!(lines.iter().any(|l| l == "A stops hello"), "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("A: stopped"));

    b.terminate();
    let (status, lines) = b.finish(STEP).await;
    assert!(status.success(), "{status}: {lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("B: stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_worker_hands_its_task_over_on_sigterm() {
    let server = ZkServer::shared();
    two_workers_hand_hello_over("zookeeper_worker", "zookeeper", &server.connect_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_worker_hands_its_task_over_on_sigterm() {
    let server = EtcdServer::shared();
    two_workers_hand_hello_over("etcd_worker", "etcd", &server.addr().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_moves_every_task_without_overlap() {
    let mut run = Example::start("graceful_shutdown", "", &[]);
    run.wait_for(&["send SIGTERM to process"], BUILD).await;
    run.terminate();
    let (status, lines) = run.finish(STEP).await;
    assert!(status.success(), "{status}: {lines:?}");
    let after = lines
        .iter()
        .position(|l| l == "SIGTERM: A shuts down gracefully")
        .unwrap();
    let handed = lines
        .iter()
        .position(|l| l.starts_with("A handed its tasks off: B runs all 4"))
        .unwrap();
    assert!(after < handed, "{lines:?}");
    // Each task A ran is stopped on A before B starts it.
    for task in ["t1", "t2", "t3", "t4"] {
        let a_stop = lines.iter().position(|l| *l == format!("A stops {task}"));
        let b_start = lines
            .iter()
            .rposition(|l| l.starts_with(&format!("B starts {task} ")));
        if let (Some(stop), Some(start)) = (a_stop, b_start) {
            assert!(
                stop < start,
                "{task} started on B before A stopped it: {lines:?}"
            );
        }
    }
    assert_eq!(lines.last().map(String::as_str), Some("B stopped; bye"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fencing_refuses_the_stale_write() {
    let (status, lines) = Example::start("fencing", "", &[]).finish(BUILD).await;
    assert!(status.success(), "{status}: {lines:?}");
    assert!(
        lines.contains(&"A writes with token 1: accepted".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"refused \"A writes after waking up\": token 1 is older than 2".to_owned()),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some(r#"storage holds: ["A writes (token 1)", "B writes (token 2)"]"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_adds_updates_pauses_and_removes() {
    let (status, lines) = Example::start("admin", "", &[]).finish(BUILD).await;
    assert!(status.success(), "{status}: {lines:?}");
    let has = |words: &[&str]| lines.iter().any(|l| words.iter().all(|w| l.contains(w)));
    assert!(
        has(&["billing", "running", "owner eu-1", "weight 3", "\"eu\""]),
        "{lines:?}"
    );
    assert!(has(&["report updated: payload \"hourly\""]), "{lines:?}");
    assert!(has(&["report", "paused", "owner -"]), "{lines:?}");
    assert!(
        has(&["status: 1 workers, 3 tasks, leader Some(\"eu-1\")"]),
        "{lines:?}"
    );
    let removed = lines.iter().position(|l| l == "-- report removed").unwrap();
    assert!(
        !lines[removed + 1..].iter().any(|l| l.contains("report")),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_prints_the_library_metrics() {
    let (status, lines) = Example::start("metrics", "metrics", &[])
        .finish(BUILD)
        .await;
    assert!(status.success(), "{status}: {lines:?}");
    for line in [
        "tenure_claims_total 1",
        "tenure_tasks_owned 1",
        "tenure_leader 1",
        "tenure_session_state{state=\"connected\"} 1",
    ] {
        assert!(lines.iter().any(|l| l == line), "no {line:?} in {lines:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("tenure_store_request_seconds_count{operation=\"multi\"")),
        "{lines:?}"
    );
}

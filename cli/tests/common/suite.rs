//! The CLI tests every backend runs, as functions of the server to run
//! against; `cli_suite!` turns them into `#[test]`s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tenure_core::strategy::{Sticky, Strategy, StrategyInput, TaskInfo, WorkerInfo};
use tenure_core::{TaskId, WorkerId};
use tenure_strategies::{StrategyKind, StrategyOptions};
use tenure_tests::server_util::{free_port, tcp_request};

use super::runlog::{RunLog, script};
use super::{Cluster, Proc, TENURE, Target, expect_within, is_dead, run_bounded};

/// Declares one `#[test]` per suite function, run against `$target`.
#[macro_export]
macro_rules! cli_suite {
    ($target:expr) => {
        $crate::cli_suite!(@tests $target; suite;
            operate_tasks_and_see_them_in_status_json,
            bad_input_is_refused_with_the_reason_and_nothing_is_written,
            unreachable_server_fails_within_the_connect_timeout,
            supervised_command_fails_over_on_sigkill_and_hands_off_on_sigterm,
            restarts_back_off_and_keep_the_claim,
            crash_looping_command_is_reported_and_paused,
            command_ignoring_sigterm_is_killed_after_the_grace,
            worker_refuses_a_grace_that_does_not_fit_the_session,
            worker_without_grace_fits_its_default_to_a_short_session,
            workers_place_tasks_with_the_chosen_strategy,
            rebalance_delay_and_max_moves_pace_the_handover_to_a_new_worker,
            watch_follows_status_and_events_until_told_to_stop,
            json_documents_keep_their_documented_keys,
            json_logs_carry_the_worker_and_task_spans,
        );
        $crate::cli_suite!(@tests $target; steady;
            steady_cluster_restarts_nothing_at_the_shortest_session,
        );
        $crate::cli_suite!(@tests $target; containment;
            frozen_worker_stops_its_command_before_the_survivor_starts,
            detached_descendants_die_with_a_killed_worker,
            detached_descendants_stop_with_the_task,
            detached_descendants_stop_when_the_command_exits,
        );
    };
    (@tests $target:expr; $module:ident; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::$module::$name(&$target);
            }
        )*
    };
}

pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub fn worker_count(c: &Cluster) -> usize {
    c.status()["workers"].as_array().unwrap().len()
}

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

fn metrics(port: u16) -> String {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    tcp_request(
        addr,
        b"GET /metrics HTTP/1.0\r\n\r\n",
        Duration::from_secs(5),
    )
    .unwrap_or_default()
}

fn starts_count(file: &std::path::Path) -> usize {
    RunLog::read(file).starts().len()
}

/// Two supervising workers; SIGKILL the owner: its command dies with it and
/// the other worker's command takes over with a larger token; a third
/// worker joins and SIGTERM to the second hands the task over gracefully
/// (its command stops first) and exits 0. No two runs ever overlap.
pub fn supervised_command_fails_over_on_sigkill_and_hands_off_on_sigterm(t: &Target) {
    let c = t.cluster("failover");
    let file = c.path("runs.log");
    let script = script(&file);
    let ports = [free_port(), free_port()];
    let addr = |p: u16| format!("127.0.0.1:{p}");
    let a = c.worker("a", &["--metrics-addr", &addr(ports[0])], &script);
    let b = c.worker("b", &["--metrics-addr", &addr(ports[1])], &script);
    expect_within(
        Duration::from_secs(20),
        "both workers registered",
        &[&a, &b],
        || worker_count(&c) == 2,
    );
    c.ok(&["tasks", "add", "job", "--payload", "the payload"]);
    expect_within(
        Duration::from_secs(20),
        "the task started",
        &[&a, &b],
        || starts_count(&file) == 1,
    );
    let first = RunLog::read(&file).starts()[0].clone();
    assert_eq!(first.payload(), "the payload");
    let job = c.task("job").unwrap();
    assert_eq!(job["owner"], first.worker.as_str());
    assert_eq!(job["token"], first.token);
    let (mut owner, mut other, other_port) = if first.worker == "a" {
        (a, b, ports[1])
    } else {
        (b, a, ports[0])
    };
    let owner_port = if first.worker == "a" {
        ports[0]
    } else {
        ports[1]
    };
    let scraped = metrics(owner_port);
    assert!(scraped.contains("tenure_claims_total 1"), "{scraped}");
    assert!(scraped.contains("tenure_tasks_owned 1"), "{scraped}");
    assert!(
        scraped.contains(r#"tenure_session_state{state="connected"} 1"#),
        "{scraped}"
    );

    let killed_at = now_ns();
    owner.signal("KILL");
    owner
        .wait_exit(Duration::from_secs(5))
        .expect("SIGKILL ends the worker");
    let died = expect_within(
        Duration::from_secs(3),
        "the command died with its worker",
        &[],
        || is_dead(first.shell_pid()) && is_dead(first.background_pid()),
    );
    let takeover_limit = Duration::from_secs(15);
    expect_within(
        takeover_limit,
        "the other worker took the task over",
        &[&other],
        || starts_count(&file) == 2,
    );
    let log = RunLog::read(&file);
    let second = log.starts()[1].clone();
    assert_ne!(second.worker, first.worker);
    assert!(second.token > first.token);
    assert!(
        !log.stopped(first.token),
        "a SIGKILLed run cannot have stopped cleanly"
    );
    let takeover_ms = (second.at_ns - killed_at) as f64 / 1e6;
    expect_within(
        Duration::from_secs(5),
        "the takeover is counted",
        &[&other],
        || metrics(other_port).contains("tenure_takeovers_total 1"),
    );

    let third_worker = c.worker("c", &["--handoff-timeout", "1s"], &script);
    expect_within(
        Duration::from_secs(20),
        "the third worker registered",
        &[&third_worker],
        || worker_count(&c) == 2,
    );
    let term_at = now_ns();
    other.signal("TERM");
    let status = other
        .wait_exit(Duration::from_secs(20))
        .expect("SIGTERM ends the worker");
    assert_eq!(status.code(), Some(0), "{}", other.log());
    expect_within(
        Duration::from_secs(15),
        "the third worker took over",
        &[&third_worker],
        || starts_count(&file) == 3,
    );
    let log = RunLog::read(&file);
    let third = log.starts()[2].clone();
    assert_eq!(third.worker, "c");
    assert!(third.token > second.token);
    assert!(
        log.stopped(second.token),
        "the handed-off run got SIGTERM and stopped"
    );
    assert!(is_dead(second.shell_pid()) && is_dead(second.background_pid()));
    log.check_no_overlap().unwrap();
    let handoff_ms = (third.at_ns - term_at) as f64 / 1e6;
    eprintln!(
        "measured [{}]: command dead {died:?} after SIGKILL of its worker; takeover by the other worker's command {takeover_ms:.0} ms after the SIGKILL (session {}); graceful handoff {handoff_ms:.0} ms from SIGTERM to the next start",
        t.backend,
        super::SESSION
    );
}

/// A command that exits by itself restarts after a delay that doubles,
/// under the same claim (same token, growing `TENURE_ATTEMPT`).
pub fn restarts_back_off_and_keep_the_claim(t: &Target) {
    let c = t.cluster("restart");
    let file = c.path("attempts.log");
    let script = format!(
        "echo \"$TENURE_TOKEN $TENURE_ATTEMPT $(date +%s%N)\" >> '{}'",
        file.display()
    );
    let extra = ["--restart-delay", "100ms", "--crash-loop-after", "0"];
    let w = c.worker("restarter", &extra, &script);
    c.ok(&["tasks", "add", "short"]);
    let lines = || -> Vec<Vec<u128>> {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(' ').map(|f| f.parse().unwrap()).collect())
            .collect()
    };
    expect_within(Duration::from_secs(20), "four runs", &[&w], || {
        lines().len() >= 4
    });
    let runs = lines();
    let token = runs[0][0];
    for (i, run) in runs.iter().take(4).enumerate() {
        assert_eq!(run[0], token, "every restart keeps the claim's token");
        assert_eq!(run[1], i as u128 + 1, "TENURE_ATTEMPT counts the runs");
    }
    for (i, pair) in runs.windows(2).take(3).enumerate() {
        let gap = Duration::from_nanos((pair[1][2] - pair[0][2]) as u64);
        let delay = Duration::from_millis(100 << i);
        assert!(
            gap >= delay,
            "restart {} came after {gap:?}, before its delay {delay:?}",
            i + 1
        );
    }
}

/// After `--crash-loop-after` quick failures the task is reported in the
/// log and, with `--on-crash-loop pause`, paused for everyone to see;
/// resuming it runs the command again.
pub fn crash_looping_command_is_reported_and_paused(t: &Target) {
    let c = t.cluster("crash");
    let file = c.path("runs.log");
    let script = format!("echo run >> '{}'; exit 3", file.display());
    let extra = [
        "--restart-delay",
        "50ms",
        "--max-restart-delay",
        "200ms",
        "--crash-loop-after",
        "3",
        "--on-crash-loop",
        "pause",
    ];
    let w = c.worker("crashy", &extra, &script);
    c.ok(&["tasks", "add", "flaky"]);
    let runs = || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .count()
    };
    expect_within(
        Duration::from_secs(20),
        "the crash-looping task paused",
        &[&w],
        || c.task("flaky").unwrap()["state"] == "paused",
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(runs(), 3, "no run after the crash loop was detected");
    let log = w.log();
    assert!(log.contains("crash loop"), "{log}");
    assert!(log.contains("task paused"), "{log}");
    c.ok(&["tasks", "resume", "flaky"]);
    expect_within(
        Duration::from_secs(20),
        "the resumed task ran again",
        &[&w],
        || runs() > 3,
    );
}

/// A script that ignores SIGTERM and writes its pid to `pid_file`.
fn stubborn_script(pid_file: &Path) -> String {
    format!(
        "trap '' TERM; echo $$ > '{}'; while :; do sleep 0.05; done",
        pid_file.display()
    )
}

/// Adds `task`, run by `w` with [`stubborn_script`]`(pid_file)`, waits for
/// its command, pauses the task and returns how long the release took,
/// checking that the command was dead by then and its kill logged.
fn release_of_a_stubborn_command(c: &Cluster, w: &Proc, task: &str, pid_file: &Path) -> Duration {
    c.ok(&["tasks", "add", task]);
    expect_within(Duration::from_secs(20), "the command started", &[w], || {
        std::fs::read_to_string(pid_file).is_ok_and(|s| s.trim().parse::<u32>().is_ok())
    });
    let pid: u32 = std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let paused_at = std::time::Instant::now();
    c.ok(&["tasks", "pause", task]);
    expect_within(Duration::from_secs(10), "the task released", &[w], || {
        c.task(task).unwrap()["owner"].is_null()
    });
    let released = paused_at.elapsed();
    assert!(is_dead(pid), "released while the command still ran");
    expect_within(Duration::from_secs(5), "the kill is logged", &[w], || {
        w.log().contains("ignored SIGTERM")
    });
    released
}

/// A command that ignores SIGTERM is killed after the grace, and the task
/// is released only after that.
pub fn command_ignoring_sigterm_is_killed_after_the_grace(t: &Target) {
    let c = t.cluster("stubborn");
    let file = c.path("pid");
    let w = c.worker("stubborn", &[], &stubborn_script(&file));
    let released = release_of_a_stubborn_command(&c, &w, "mule", &file);
    assert!(
        released >= Duration::from_millis(300),
        "released after {released:?}, within the grace"
    );
}

/// Without `--grace`, a worker in a 2 s session (where the 2 s default
/// does not fit) takes three quarters of the largest grace that fits
/// (640 ms when the store renews at least every heartbeat, less when its
/// own renewal period is longer, as ZooKeeper's): it starts, runs a task,
/// and kills a command that ignores SIGTERM after that grace.
pub fn worker_without_grace_fits_its_default_to_a_short_session(t: &Target) {
    assert_eq!(super::SESSION, "2s");
    let c = t.cluster("defaultgrace");
    let file = c.path("pid");
    let w = c.worker_with("fitted", &[], &stubborn_script(&file));
    let released = release_of_a_stubborn_command(&c, &w, "ox", &file);
    let log = w.log();
    assert!(
        log.contains("the default 2s does not fit the session: using less"),
        "{log}"
    );
    let grace = log
        .split("grace=")
        .nth(1)
        .and_then(|rest| rest.split("ms session=2s").next())
        .and_then(|ms| ms.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or_else(|| panic!("no fitted grace in the log: {log}"));
    assert!(
        grace > Duration::ZERO && grace <= Duration::from_millis(640),
        "grace {grace:?}"
    );
    assert!(
        released >= grace,
        "released after {released:?}, within the grace {grace:?}"
    );
    eprintln!(
        "measured [{}]: default grace {grace:?} in a 2s session: command ignoring SIGTERM released {released:?} after the pause",
        t.backend
    );
}

/// `--grace` must fit in the session the server granted.
pub fn worker_refuses_a_grace_that_does_not_fit_the_session(t: &Target) {
    let c = t.cluster("grace");
    let out = c.run(&["worker", "--id", "w", "--grace", "5s", "--", "true"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--grace 5s does not fit"), "{stderr}");
    assert_eq!(worker_count(&c), 0, "nothing registered");
}

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
        "capacity", "leader", "owned", "session", "since_ms", "tags", "worker",
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

/// Where `strategy` puts `tasks` (weight 1, no tags) on `workers`
/// (capacity 1, up for an hour) while every task runs on `current`.
fn expected_placement(
    strategy: &dyn Strategy,
    workers: &[&str],
    tasks: &[String],
    current: &str,
) -> BTreeMap<String, String> {
    let workers: Vec<WorkerInfo> = workers
        .iter()
        .map(|w| WorkerInfo {
            id: WorkerId::new(w).unwrap(),
            capacity: 1,
            tags: BTreeSet::new(),
            age: Duration::from_secs(3600),
        })
        .collect();
    let tasks: Vec<TaskInfo> = tasks
        .iter()
        .map(|t| TaskInfo {
            id: TaskId::new(t).unwrap(),
            weight: 1,
            tags: BTreeSet::new(),
            pinned: None,
        })
        .collect();
    let current = tasks
        .iter()
        .map(|t| (t.id.clone(), WorkerId::new(current).unwrap()))
        .collect();
    let input = StrategyInput {
        workers: &workers,
        tasks: &tasks,
        current: &current,
    };
    let target = strategy.assign(&input);
    assert!(target.open.is_empty(), "{target:?}");
    target
        .placements
        .iter()
        .map(|(t, w)| (t.as_str().to_owned(), w.as_str().to_owned()))
        .collect()
}

/// Task → owner of every running task in `status --json`; `None` while a
/// task is not running or not where the leader wants it.
fn settled_placement(c: &Cluster) -> Option<BTreeMap<String, String>> {
    let status = c.status();
    status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let settled = t["state"] == "running" && t["owner"] == t["target"];
            settled.then(|| {
                let owner = t["owner"].as_str().unwrap().to_owned();
                (t["task"].as_str().unwrap().to_owned(), owner)
            })
        })
        .collect()
}

/// How many tasks each worker gets.
fn loads(placement: &BTreeMap<String, String>) -> BTreeMap<&str, usize> {
    let mut loads = BTreeMap::new();
    for worker in placement.values() {
        *loads.entry(worker.as_str()).or_default() += 1;
    }
    loads
}

/// `--strategy consistent-hash` on every worker: the tasks run where
/// rendezvous hashing puts them. The task names are chosen so that it
/// puts them lopsidedly (loads at least 2 apart), which the default sticky
/// strategy never would.
pub fn workers_place_tasks_with_the_chosen_strategy(t: &Target) {
    let c = t.cluster("hashed");
    let workers = ["a", "b"];
    let hash = StrategyKind::ConsistentHash.build(&StrategyOptions::default());
    let (tasks, expected) = (0..100)
        .map(|set| {
            let tasks: Vec<String> = (0..6).map(|i| format!("h{set}-{i}")).collect();
            let expected = expected_placement(hash.as_ref(), &workers, &tasks, "a");
            (tasks, expected)
        })
        .find(|(_, expected)| {
            let loads = loads(expected);
            let (a, b) = (loads.get("a").copied(), loads.get("b").copied());
            a.unwrap_or(0).abs_diff(b.unwrap_or(0)) >= 2
        })
        .expect("a lopsided set of task names");
    let sticky = expected_placement(&Sticky, &workers, &tasks, "a");
    assert_ne!(
        loads(&sticky),
        loads(&expected),
        "the test tells them apart"
    );

    let options = ["--strategy", "consistent-hash"];
    let a = c.worker("a", &options, "exec sleep 600");
    let b = c.worker("b", &options, "exec sleep 600");
    expect_within(
        Duration::from_secs(20),
        "both workers registered",
        &[&a, &b],
        || worker_count(&c) == 2,
    );
    for task in &tasks {
        c.ok(&["tasks", "add", task]);
    }
    expect_within(
        Duration::from_secs(30),
        "the tasks run where consistent hashing puts them",
        &[&a, &b],
        || settled_placement(&c).as_ref() == Some(&expected),
    );
    assert!(a.log().contains("consistent-hash"), "{}", a.log());
}

/// `--strategy round-robin --rebalance-delay 3s --max-moves 1`: a worker
/// runs six tasks, a second one joins. Round-robin gives it half of them
/// (not the half sticky would choose: the cluster's name, which
/// round-robin hashes, is chosen so), but only once it has been up for
/// the delay, and the leader moves one task per round (its log says it
/// held the others back).
pub fn rebalance_delay_and_max_moves_pace_the_handover_to_a_new_worker(t: &Target) {
    const DELAY_MS: u128 = 3000;
    let workers = ["a", "b"];
    let tasks: Vec<String> = (1..=6).map(|i| format!("t{i}")).collect();
    let sticky = expected_placement(&Sticky, &workers, &tasks, "a");
    let round_robin = |cluster: &str| {
        let options = StrategyOptions {
            job_name: cluster.to_owned(),
            ..StrategyOptions::default()
        };
        let strategy = StrategyKind::RoundRobin.build(&options);
        expected_placement(strategy.as_ref(), &workers, &tasks, "a")
    };
    let base = t.cluster("paced");
    let (name, expected) = (0..32)
        .map(|n| format!("{}-{n}", base.name))
        .map(|name| {
            let expected = round_robin(&name);
            (name, expected)
        })
        .find(|(_, expected)| *expected != sticky)
        .expect("a cluster name for which round-robin and sticky differ");
    let c = Cluster { name, ..base };
    let moved: BTreeSet<&String> = expected
        .iter()
        .filter(|(_, w)| *w == "b")
        .map(|(t, _)| t)
        .collect();
    assert_eq!(moved.len(), 3, "{expected:?}");

    let file = c.path("starts.log");
    let script = format!(
        "echo \"$TENURE_TASK $TENURE_WORKER $(date +%s%N)\" >> '{}'; exec sleep 600",
        file.display()
    );
    let options = [
        "--strategy",
        "round-robin",
        "--rebalance-delay",
        "3s",
        "--max-moves",
        "1",
        "--log-level",
        "info,tenure_strategies=debug",
    ];
    let a = c.worker("a", &options, &script);
    expect_within(Duration::from_secs(20), "a registered", &[&a], || {
        worker_count(&c) == 1
    });
    for task in &tasks {
        c.ok(&["tasks", "add", task]);
    }
    let all_on_a: BTreeMap<String, String> =
        tasks.iter().map(|t| (t.clone(), "a".to_owned())).collect();
    expect_within(Duration::from_secs(30), "a runs every task", &[&a], || {
        settled_placement(&c).as_ref() == Some(&all_on_a)
    });

    let b = c.worker("b", &options, &script);
    expect_within(Duration::from_secs(20), "b registered", &[&a, &b], || {
        worker_count(&c) == 2
    });
    let b_since_ms = c.status()["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["worker"] == "b")
        .unwrap()["since_ms"]
        .as_u64()
        .unwrap();
    expect_within(
        Duration::from_secs(30),
        "the tasks run where round-robin puts them",
        &[&a, &b],
        || settled_placement(&c).as_ref() == Some(&expected),
    );

    let read_starts = || -> Vec<(String, String, u128)> {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let (task, worker, ns) = (f.next()?, f.next()?, f.next()?.parse().ok()?);
                Some((task.to_owned(), worker.to_owned(), ns))
            })
            .collect()
    };
    // A command writes its line just after its claim shows in the status.
    expect_within(
        Duration::from_secs(5),
        "every command wrote its start",
        &[&a, &b],
        || read_starts().len() >= 9,
    );
    let starts = read_starts();
    let on_a = starts.iter().filter(|s| s.1 == "a").count();
    assert_eq!(
        on_a,
        6,
        "every task started once on a: {starts:?}\na's log:\n{}\nb's log:\n{}",
        a.log(),
        b.log()
    );
    let on_b: Vec<(u128, &String)> = starts
        .iter()
        .filter(|s| s.1 == "b")
        .map(|s| (s.2 / 1_000_000, &s.0))
        .collect();
    let started_on_b: BTreeSet<&String> = on_b.iter().map(|s| s.1).collect();
    assert_eq!(started_on_b, moved, "the moved tasks started on b");
    assert_eq!(on_b.len(), 3, "each once: {starts:?}");
    let first_ms = on_b
        .iter()
        .map(|s| s.0.saturating_sub(u128::from(b_since_ms)))
        .min()
        .unwrap();
    assert!(
        first_ms >= DELAY_MS,
        "the first task moved {first_ms} ms after b registered, within the delay"
    );
    let log = a.log();
    let held: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("moves held back"))
        .collect();
    assert!(
        held.first().is_some_and(|l| l.contains("moves=1 held=2")),
        "the leader moves one task and holds the other two back: {log}"
    );
    assert!(
        log.contains("strategy=\"throttled(delayed(round-robin))\""),
        "{log}"
    );
    eprintln!(
        "measured [{}]: first move to the new worker {first_ms} ms after it registered (delay {DELAY_MS} ms)",
        t.backend
    );
}

//! Supervised commands: failover, handoff, restarts and crash loops.

use std::time::Duration;

use tenure_tests::server_util::{free_port, tcp_request};

use super::super::runlog::{RunLog, script};
use super::super::{Target, expect_within, is_dead};
use super::{now_ns, worker_count};

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
        super::super::SESSION
    );
}

/// A command that exits by itself restarts after a delay that doubles
/// (cut by at most a tenth, the backoff's jitter), under the same claim
/// (same token, growing `TENURE_ATTEMPT`).
pub fn restarts_back_off_and_keep_the_claim(t: &Target) {
    let c = t.cluster("restart");
    let file = c.path("attempts.log");
    let script = format!(
        "echo \"$TENURE_TOKEN $TENURE_ATTEMPT $(date +%s%N)\" >> '{}'",
        file.display()
    );
    let extra = [
        "--restart-delay",
        "100ms",
        "--crash-loop-after",
        "0",
        "--on-success",
        "restart",
    ];
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
        let delay = Duration::from_millis(100 << i) * 9 / 10;
        assert!(
            gap >= delay,
            "restart {} came after {gap:?}, before its delay less a tenth {delay:?}",
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

/// A command that exits with 0 is done (the default `--on-success done`):
/// `status` shows it done and it is not run again, here or on another
/// worker, until `tasks rearm`; a command exiting with another status is
/// restarted.
pub fn a_command_exiting_0_is_done_until_rearmed(t: &Target) {
    let c = t.cluster("done");
    let file = c.path("runs.log");
    let script = format!(
        "echo \"$TENURE_TOKEN\" >> '{}'; exit \"$TENURE_PAYLOAD\"",
        file.display()
    );
    let extra = ["--restart-delay", "100ms"];
    let a = c.worker("a", &extra, &script);
    let b = c.worker("b", &extra, &script);
    let runs = || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let state = || {
        c.task("once").unwrap()["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    c.ok(&["tasks", "add", "once", "--payload", "0"]);
    expect_within(Duration::from_secs(20), "done", &[&a, &b], || {
        state() == "done"
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(runs(), 1, "done: not run again");
    assert_eq!(state(), "done");
    assert!(c.task("once").unwrap()["owner"].is_null(), "released");

    assert!(
        c.ok(&["tasks", "rearm", "once"])
            .contains("re-armed task once")
    );
    expect_within(Duration::from_secs(20), "a second run", &[&a, &b], || {
        runs() == 2
    });
    expect_within(Duration::from_secs(20), "done again", &[&a, &b], || {
        state() == "done"
    });

    c.ok(&["tasks", "add", "failing", "--payload", "3"]);
    expect_within(Duration::from_secs(20), "restarts", &[&a, &b], || {
        runs() >= 5
    });
    assert_eq!(c.task("failing").unwrap()["state"], "running");
}

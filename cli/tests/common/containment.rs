//! What a command leaves behind: a command whose worker freezes stops
//! before its session could be taken over, and processes a command
//! detaches from its process group (`setsid`) end with its run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tenure_tests::server_util::require_program;

use super::runlog::{RunLog, script};
use super::suite::{now_ns, worker_count};
use super::{Cluster, Proc, Target, expect_within, is_dead};

/// The shortest session both backends grant and `tenure worker` accepts:
/// etcd grants no shorter lease, and below about 870 ms (ZooKeeper, tick 200 ms) no grace fits; at 1 s the grace fits up to about 95 ms on ZooKeeper.
const SHORT_SESSION: &str = "1s";

fn ms(ns: u128) -> f64 {
    ns as f64 / 1e6
}

/// Waits until every one of `workers` has registered.
fn all_registered(c: &Cluster, workers: &[&Proc]) {
    expect_within(
        Duration::from_secs(20),
        "every worker registered",
        workers,
        || worker_count(c) == workers.len(),
    );
}

/// Two workers in a 1 s session; the owner of the task is frozen with
/// SIGSTOP. Its command must end (by the deadline its shim holds) before
/// the other worker's command starts, although the frozen worker cannot
/// stop it; once continued, the frozen worker comes back without running
/// the task a second time.
pub fn frozen_worker_stops_its_command_before_the_survivor_starts(t: &Target) {
    let c = t.cluster("frozen");
    let file = c.path("runs.log");
    let script = script(&file);
    let options = ["--grace", "50ms"];
    let a = c.worker_in("a", SHORT_SESSION, &options, &script);
    let b = c.worker_in("b", SHORT_SESSION, &options, &script);
    all_registered(&c, &[&a, &b]);
    c.ok(&["tasks", "add", "job"]);
    expect_within(
        Duration::from_secs(20),
        "the task started",
        &[&a, &b],
        || RunLog::read(&file).starts().len() == 1,
    );
    let first = RunLog::read(&file).starts()[0].clone();
    let (mut owner, other) = if first.worker == "a" { (a, b) } else { (b, a) };
    let frozen = first.worker.clone();
    // Let the run settle into its heartbeat rhythm.
    std::thread::sleep(Duration::from_millis(500));

    let frozen_at = now_ns();
    owner.signal("STOP");
    let survivor_start = || {
        RunLog::read(&file)
            .starts()
            .into_iter()
            .find(|l| l.worker != frozen && l.at_ns > frozen_at)
            .cloned()
    };
    expect_within(
        Duration::from_secs(15),
        "the other worker took the frozen worker's task over",
        &[&other],
        || survivor_start().is_some(),
    );
    // Stay frozen a while longer: a command still running would show.
    std::thread::sleep(Duration::from_secs(1));
    let second = survivor_start().unwrap();
    let log = RunLog::read(&file);
    // The frozen worker's last run (a run it restarted before the freeze,
    // say after a fence on a busy machine, counts as well).
    let last = log
        .starts()
        .into_iter()
        .rfind(|l| l.worker == frozen && l.at_ns < frozen_at)
        .unwrap()
        .clone();
    let frozen_end = log
        .lines
        .iter()
        .filter(|l| l.worker == frozen)
        .map(|l| l.at_ns)
        .max()
        .unwrap();
    assert!(
        frozen_end < second.at_ns,
        "the frozen worker's command still ran {:.0} ms after the survivor's started \
         (frozen at +0, survivor started at +{:.0} ms)",
        ms(frozen_end - second.at_ns),
        ms(second.at_ns - frozen_at)
    );
    assert!(second.token > last.token);
    assert!(
        log.stopped(last.token),
        "the frozen worker's command was stopped with SIGTERM and wrote its stop line"
    );
    assert!(
        is_dead(last.shell_pid()) && is_dead(last.background_pid()),
        "nothing of the frozen worker's run is left"
    );
    eprintln!(
        "measured [{}]: frozen worker's command ended {:.0} ms after SIGSTOP, the survivor's started {:.0} ms after SIGSTOP ({:.0} ms later; session {SHORT_SESSION})",
        t.backend,
        ms(frozen_end.saturating_sub(frozen_at)),
        ms(second.at_ns - frozen_at),
        ms(second.at_ns - frozen_end)
    );

    owner.signal("CONT");
    expect_within(
        Duration::from_secs(20),
        "the continued worker registered again",
        &[&owner, &other],
        || worker_count(&c) == 2,
    );
    // Two sessions for anything the continued worker might still do.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        owner.wait_exit(Duration::ZERO).is_none(),
        "the continued worker keeps running: {}",
        owner.log()
    );
    let log = RunLog::read(&file);
    // A run the shim stopped at its deadline while the worker kept its
    // claim (renewed just too late, on a busy machine) restarts under the
    // same token.
    if let Err(e) = log.check_no_overlap_with_restarts() {
        panic!(
            "{e}: {:?}\n--- {frozen} ---\n{}\n--- the other ---\n{}",
            log.starts(),
            owner.log(),
            other.log()
        );
    }
}

/// One line a [`detaching_script`] writes.
#[derive(Clone, Debug)]
struct Record {
    /// `main` (the command) or `detached` (its `setsid` child).
    kind: String,
    worker: String,
    token: u64,
    pid: u32,
}

fn records(file: &Path) -> Vec<Record> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            Some(Record {
                kind: f.next()?.to_owned(),
                worker: f.next()?.to_owned(),
                token: f.next()?.parse().ok()?,
                pid: f.next()?.parse().ok()?,
            })
        })
        .collect()
}

fn of_kind(file: &Path, kind: &str) -> Vec<Record> {
    records(file)
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect()
}

/// The main process of the run with `token`.
fn main_of(file: &Path, token: u64) -> Record {
    of_kind(file, "main")
        .into_iter()
        .find(|r| r.token == token)
        .unwrap()
}

/// A command that records its pid, starts `sleep 7777` in a session of
/// its own (out of its process group, as service scripts daemonize) that
/// records its pid too, then runs `rest`.
fn detaching_script(file: &Path, rest: &str) -> String {
    require_program("setsid", "util-linux");
    format!(
        r#"echo "main $TENURE_WORKER $TENURE_TOKEN $$" >> '{f}'
setsid sh -c 'echo "detached $TENURE_WORKER $TENURE_TOKEN $$" >> "{f}"; exec sleep 7777' &
{rest}"#,
        f = file.display()
    )
}

/// Kills, when dropped, every recorded process still running `sleep`:
/// what a failing test leaves behind.
struct Leftovers(PathBuf);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for r in records(&self.0) {
            let cmdline = std::fs::read(format!("/proc/{}/cmdline", r.pid)).unwrap_or_default();
            if !is_dead(r.pid) && cmdline.starts_with(b"sleep\0") {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &r.pid.to_string()])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }
}

/// Waits for the first detached process of the run; returns it.
fn first_detached(file: &Path, procs: &[&Proc]) -> Record {
    expect_within(
        Duration::from_secs(20),
        "the command started and detached its child",
        procs,
        || !of_kind(file, "detached").is_empty(),
    );
    of_kind(file, "detached")[0].clone()
}

/// A worker running `sh -c 'setsid sleep 7777 & sleep 8888'` is killed
/// with SIGKILL: the detached `sleep 7777` dies with it, and the other
/// worker starts the task.
pub fn detached_descendants_die_with_a_killed_worker(t: &Target) {
    let c = t.cluster("detachkill");
    let file = c.path("pids.log");
    let _leftovers = Leftovers(file.clone());
    let script = detaching_script(&file, "exec sleep 8888");
    let a = c.worker("a", &[], &script);
    let b = c.worker("b", &[], &script);
    all_registered(&c, &[&a, &b]);
    c.ok(&["tasks", "add", "daemon"]);
    let detached = first_detached(&file, &[&a, &b]);
    let main = main_of(&file, detached.token);
    let (mut owner, other) = if detached.worker == "a" {
        (a, b)
    } else {
        (b, a)
    };
    owner.signal("KILL");
    owner
        .wait_exit(Duration::from_secs(5))
        .expect("SIGKILL ends the worker");
    let took = expect_within(
        Duration::from_secs(3),
        "the detached sleep 7777 died with its worker",
        &[],
        || is_dead(detached.pid) && is_dead(main.pid),
    );
    expect_within(
        Duration::from_secs(15),
        "the other worker started the task",
        &[&other],
        || {
            of_kind(&file, "detached")
                .iter()
                .any(|r| r.worker != detached.worker)
        },
    );
    eprintln!(
        "measured [{}]: detached descendant dead {took:?} after its worker's SIGKILL was seen",
        t.backend
    );
}

/// Removing the task stops the command and its detached descendant before
/// the worker reports the command stopped (and releases the task).
pub fn detached_descendants_stop_with_the_task(t: &Target) {
    let c = t.cluster("detachstop");
    let file = c.path("pids.log");
    let _leftovers = Leftovers(file.clone());
    let w = c.worker("w", &[], &detaching_script(&file, "exec sleep 8888"));
    c.ok(&["tasks", "add", "daemon"]);
    let detached = first_detached(&file, &[&w]);
    let main = main_of(&file, detached.token);
    c.ok(&["tasks", "rm", "daemon"]);
    expect_within(
        Duration::from_secs(10),
        "the worker stopped the command",
        &[&w],
        || w.log().contains("command stopped") || w.log().contains("ignored SIGTERM"),
    );
    assert!(
        is_dead(main.pid),
        "the command outlived its stop: {}",
        w.log()
    );
    assert!(
        is_dead(detached.pid),
        "the detached sleep 7777 outlived its command's stop: {}",
        w.log()
    );
}

/// A command that exits by itself takes its detached descendant with it:
/// the run ends, and nothing of it runs on.
pub fn detached_descendants_stop_when_the_command_exits(t: &Target) {
    let c = t.cluster("detachexit");
    let file = c.path("pids.log");
    let _leftovers = Leftovers(file.clone());
    let script = detaching_script(&file, "sleep 0.5; exit 0");
    let w = c.worker("w", &["--restart-delay", "30s"], &script);
    c.ok(&["tasks", "add", "oneshot"]);
    let detached = first_detached(&file, &[&w]);
    expect_within(Duration::from_secs(10), "the command exited", &[&w], || {
        w.log().contains("command exited by itself")
    });
    assert!(
        is_dead(detached.pid),
        "the detached sleep 7777 outlived its command: {}",
        w.log()
    );
}

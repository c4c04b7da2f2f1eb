//! The grace a command gets between SIGTERM and SIGKILL.

use std::path::Path;
use std::time::Duration;

use super::super::{Cluster, Proc, Target, expect_within, is_dead};
use super::worker_count;

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
    assert_eq!(super::super::SESSION, "2s");
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

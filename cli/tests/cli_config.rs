//! The program's configuration and packaging surface, run as a user runs
//! it: `tenure worker --config FILE` with the environment and the command
//! line on top (`--print-config`), a bad file refused before anything
//! starts, a real worker configured by its file alone on ZooKeeper, and
//! `tenure completions` and `tenure man`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Proc, TENURE, Target, expect_within, run_bounded};
use tenure_tests::zookeeper::{TICK, ZkServer};

/// Every variable of the program, so the test's own environment cannot
/// change what it sees.
const VARIABLES: [&str; 28] = [
    "TENURE_BACKEND",
    "TENURE_CONNECT",
    "TENURE_CLUSTER",
    "TENURE_SESSION_TIMEOUT",
    "TENURE_CONNECT_TIMEOUT",
    "TENURE_ZK_TICK_TIME",
    "TENURE_USER",
    "TENURE_PASSWORD",
    "TENURE_CA",
    "TENURE_CERT",
    "TENURE_KEY",
    "TENURE_LOG_FORMAT",
    "TENURE_LOG_LEVEL",
    "TENURE_CONFIG",
    "TENURE_ID",
    "TENURE_CAPACITY",
    "TENURE_TAGS",
    "TENURE_STRATEGY",
    "TENURE_REBALANCE_DELAY",
    "TENURE_MAX_MOVES",
    "TENURE_GRACE",
    "TENURE_RESTART_DELAY",
    "TENURE_MAX_RESTART_DELAY",
    "TENURE_CRASH_LOOP_AFTER",
    "TENURE_ON_SUCCESS",
    "TENURE_ON_CRASH_LOOP",
    "TENURE_HANDOFF_TIMEOUT",
    "TENURE_METRICS_ADDR",
];

/// `tenure` with none of the program's variables inherited.
fn tenure() -> Command {
    let mut command = Command::new(TENURE);
    for var in VARIABLES {
        command.env_remove(var);
    }
    command.env_remove("RUST_LOG").stdin(Stdio::null());
    command
}

/// Writes `text` to `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn print_config_ranks_flag_over_environment_over_file_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "worker.toml",
        r#"
id = "from-file"
cluster = "file-cluster"
capacity = 2
grace = "1s"
session-timeout = "4s"
password = "file-hunter2"
tag = ["eu", "ssd"]
"#,
    );
    let mut command = tenure();
    command
        .env("TENURE_CONFIG", &file)
        .env("TENURE_CLUSTER", "env-cluster")
        .env("TENURE_GRACE", "500ms")
        .env("TENURE_PASSWORD", "env-hunter2")
        .args(["worker", "--grace", "1m30s", "--print-config"]);
    let out = run_bounded(&mut command);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    for line in [
        "grace = \"1m30s\"  # command line",
        "cluster = \"env-cluster\"  # TENURE_CLUSTER",
        "password = \"<redacted>\"  # TENURE_PASSWORD",
        "capacity = 2  # configuration file",
        "session-timeout = \"4s\"  # configuration file",
        "tag = [\"eu\", \"ssd\"]  # configuration file",
        "id = \"from-file\"  # configuration file",
        "restart-delay = \"1s\"  # default",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
}

#[test]
fn a_bad_configuration_file_stops_the_worker_naming_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "id = \"a\"\nsesion-timeout = \"4s\"\n",
            "unknown key `sesion-timeout`",
        ),
        (
            "id = \"a\"\ngrace = \"soon\"\n",
            "`grace = \"soon\"` is refused",
        ),
        ("id = \"a\"\ncapacity = 1.5\n", "`capacity` must be"),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let file = write(dir.path(), &format!("bad{i}.toml"), text);
        let mut command = tenure();
        command
            .arg("worker")
            .arg("--config")
            .arg(&file)
            .args(["--", "true"]);
        let out = run_bounded(&mut command);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    }
    let mut command = tenure();
    command.args([
        "worker",
        "--config",
        "/nonexistent/tenure.toml",
        "--",
        "true",
    ]);
    let out = run_bounded(&mut command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/tenure.toml"), "{stderr}");
}

/// A worker whose every option comes from its file runs a task added by
/// another `tenure`; its command sees the worker's name from the file and
/// none of the credentials nor the file's variable.
#[test]
fn a_worker_configured_by_its_file_runs_tasks_on_zookeeper() {
    let target = Target {
        backend: "zookeeper",
        connect: ZkServer::shared().connect_string(),
    };
    let c = target.cluster("config");
    let seen = c.path("seen");
    let file = write(
        c.dir.path(),
        "worker.toml",
        &format!(
            "backend = \"zookeeper\"\nconnect = \"{}\"\ncluster = \"{}\"\nid = \"configured\"\n\
             session-timeout = \"2s\"\nzk-tick-time = \"{}ms\"\ngrace = \"300ms\"\n\
             tag = [\"eu\"]\n",
            target.connect,
            c.name,
            TICK.as_millis()
        ),
    );
    let mut command = tenure();
    command
        .env("TENURE_CONFIG", &file)
        .env("TENURE_CONSOLE_TOKEN", "console-secret-token")
        .args(["worker", "--", "sh", "-c"])
        .arg(format!(
            "{{ echo \"$TENURE_WORKER $TENURE_TASK\"; env; }} > {0}.tmp && mv {0}.tmp {0}; \
             exec sleep 60",
            seen.display()
        ));
    let worker = Proc::start("configured", command, &c.path("configured.log"));
    c.ok(&["tasks", "add", "T1", "--tag", "eu"]);
    expect_within(Duration::from_secs(20), "the task ran", &[&worker], || {
        seen.exists()
    });
    let text = std::fs::read_to_string(&seen).unwrap();
    assert!(text.starts_with("configured T1\n"), "{text}");
    for var in [
        "TENURE_CONFIG=",
        "TENURE_CONSOLE_TOKEN=",
        "console-secret-token",
    ] {
        assert!(!text.contains(var), "{var} reached the command: {text}");
    }
    let workers = c.json(&["workers", "ls"]);
    assert_eq!(workers["workers"][0]["worker"], "configured", "{workers}");
    assert_eq!(workers["workers"][0]["tags"][0], "eu", "{workers}");
}

#[test]
fn completions_and_the_man_page_come_from_the_program() {
    let mut bash = tenure();
    bash.args(["completions", "bash"]);
    let out = run_bounded(&mut bash);
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    for word in ["worker", "tasks", "--print-config"] {
        assert!(script.contains(word), "{word}: {script}");
    }
    assert!(!script.contains("__child"), "{script}");

    let mut man = tenure();
    man.arg("man");
    let out = run_bounded(&mut man);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with(".TH tenure 1"), "{page}");
    for name in [
        "tasks", "workers", "cluster", "status", "watch", "console", "worker",
    ] {
        assert!(
            page.contains(&format!("tenure\\-{name}(1)")),
            "{name}: {page}"
        );
    }

    let mut unknown = tenure();
    unknown.args(["completions", "tcsh"]);
    assert_eq!(run_bounded(&mut unknown).status.code(), Some(2));
}

//! Running the `tenure` binary against a real server: one-shot commands
//! with a time limit, long-running workers that die with the test binary,
//! and the suite of CLI tests every backend runs (`suite`).
//!
//! The tests live in this crate (not in `tenure-tests`) so that cargo
//! builds the binary they run and hands its path over in
//! `CARGO_BIN_EXE_tenure`: a stale binary cannot be tested by mistake.

#![allow(dead_code, clippy::unwrap_used)]

pub mod console;
pub mod console_suite;
pub mod console_writes;
pub mod containment;
pub mod http;
pub mod runlog;
pub mod steady;
pub mod suite;
pub mod tree;

use std::fs::File;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tenure_tests::server_util::{spawn_dying_with_binary, wait_until};

/// The binary under test.
pub const TENURE: &str = env!("CARGO_BIN_EXE_tenure");

/// The session timeout the tests ask for: short, so failover is quick,
/// and long enough for `--grace` and the etcd lease minimum.
pub const SESSION: &str = "2s";

/// How long a one-shot command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// Where a backend's server listens.
#[derive(Clone, Debug)]
pub struct Target {
    /// `zookeeper` or `etcd`.
    pub backend: &'static str,
    /// The `--connect` value.
    pub connect: String,
}

impl Target {
    /// A cluster of its own on this server, for one test.
    pub fn cluster(&self, what: &str) -> Cluster {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = tempfile::Builder::new()
            .prefix(&format!("tenure-cli-{what}-"))
            .tempdir()
            .unwrap();
        Cluster {
            target: self.clone(),
            name: format!("{what}-{}-{n}", std::process::id()),
            dir,
        }
    }
}

/// One cluster on the server, and a scratch directory for the test.
#[derive(Debug)]
pub struct Cluster {
    /// The server.
    pub target: Target,
    /// The cluster's name.
    pub name: String,
    /// Scratch space: logs, files written by supervised commands.
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// `tenure` with the connect options of this cluster.
    pub fn command(&self) -> Command {
        self.command_in(SESSION)
    }

    /// `tenure` with the connect options of this cluster and a session
    /// timeout of `session`.
    pub fn command_in(&self, session: &str) -> Command {
        let mut command = Command::new(TENURE);
        command
            .args(["--backend", self.target.backend])
            .args(["--connect", &self.target.connect])
            .args(["--cluster", &self.name])
            .args(["--session-timeout", session])
            .env_remove("TENURE_ZK_TICK_TIME")
            .env_remove("TENURE_USER")
            .env_remove("TENURE_PASSWORD")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if self.target.backend == "zookeeper" {
            // The test servers' tick: the store then proves the session
            // with rounds as short as the ensemble allows.
            command
                .arg("--zk-tick-time")
                .arg(format!("{}ms", tenure_tests::zookeeper::TICK.as_millis()));
        }
        command
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `tenure ARGS` to its end (at most 30 s).
    pub fn run(&self, args: &[&str]) -> Output {
        run_bounded(self.command().args(args))
    }

    /// Runs `tenure ARGS` as `user` with `password`, both given in the
    /// environment (TENURE_USER, TENURE_PASSWORD).
    pub fn run_as(&self, user: &str, password: &str, args: &[&str]) -> Output {
        let mut command = self.command();
        command
            .env("TENURE_USER", user)
            .env("TENURE_PASSWORD", password)
            .args(args);
        run_bounded(&mut command)
    }

    /// Runs `tenure ARGS`, which must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tenure {args:?} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `tenure ARGS --json` and parses its one line of output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let text = self.ok(&args);
        assert_eq!(text.lines().count(), 1, "one JSON line expected: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// `tenure status --json`; a cluster nothing has created yet (exit
    /// code 6) reads as one without tasks or workers.
    pub fn status(&self) -> Value {
        let out = self.run(&["status", "--json"]);
        if out.status.code() == Some(6) {
            return serde_json::json!({"tasks": [], "workers": []});
        }
        self.json(&["status"])
    }

    /// The status entry of `task`, if it exists.
    pub fn task(&self, task: &str) -> Option<Value> {
        self.status()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["task"] == task)
            .cloned()
    }

    /// Starts `tenure [OPTIONS] worker --id ID --grace 300ms EXTRA -- sh -c SCRIPT`.
    pub fn worker(&self, id: &str, extra: &[&str], script: &str) -> Proc {
        let options = [&["--grace", "300ms"], extra].concat();
        self.worker_with(id, &options, script)
    }

    /// Starts `tenure [OPTIONS] worker --id ID WORKER_OPTIONS -- sh -c
    /// SCRIPT`: without the `--grace` that [`Cluster::worker`] adds.
    pub fn worker_with(&self, id: &str, worker_options: &[&str], script: &str) -> Proc {
        self.worker_in(id, SESSION, worker_options, script)
    }

    /// As [`Cluster::worker_with`], in a session of `session`.
    pub fn worker_in(
        &self,
        id: &str,
        session: &str,
        worker_options: &[&str],
        script: &str,
    ) -> Proc {
        let mut command = self.command_in(session);
        command
            .args(["worker", "--id", id])
            .args(worker_options)
            .args(["--", "sh", "-c", script]);
        Proc::start(id, command, &self.path(&format!("{id}.log")))
    }
}

/// Runs `command` to its end, killing it after 30 s.
pub fn run_bounded(command: &mut Command) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(COMMAND_LIMIT) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{command:?} ran for more than {COMMAND_LIMIT:?}");
        }
    }
}

/// A long-running `tenure` process (a worker, a watch), killed when
/// dropped and when the test binary dies; its standard error goes to a
/// log file, its standard output to `NAME.out`.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    out: PathBuf,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `command` so that it dies with the test binary
    /// ([`spawn_dying_with_binary`]).
    pub fn start(name: &str, command: Command, log: &Path) -> Proc {
        let out = log.with_extension("out");
        let child = spawn_dying_with_binary(&command, |wrapped| {
            wrapped
                .stdin(Stdio::null())
                .stdout(File::create(&out)?)
                .stderr(File::create(log)?);
            Ok(())
        })
        .unwrap();
        Proc {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            out,
            status: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`KILL`, `TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} {} failed", self.name);
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let child = &mut self.child;
        let status = &mut self.status;
        wait_until(limit, || {
            if let Ok(Some(s)) = child.try_wait() {
                *status = Some(s);
            }
            status.is_some()
        })?;
        self.status
    }

    /// Its standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its standard output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
pub fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Waits up to `limit` for `check`, panicking with `what` (and the logs of
/// `procs`) if it never holds; returns how long it took.
pub fn expect_within(
    limit: Duration,
    what: &str,
    procs: &[&Proc],
    check: impl FnMut() -> bool,
) -> Duration {
    let started = Instant::now();
    match wait_until(limit, check) {
        Some(took) => took,
        None => {
            let logs: Vec<String> = procs
                .iter()
                .map(|p| format!("--- {} ---\n{}", p.name, p.log()))
                .collect();
            panic!(
                "{what}: not within {limit:?} (waited {:?})\n{}",
                started.elapsed(),
                logs.join("\n")
            );
        }
    }
}

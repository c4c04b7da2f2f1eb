//! `tenure` over TLS against real servers with certificates generated for
//! this run: `--ca`, `--cert`, `--key` and their variables on ZooKeeper's
//! secure client port and on etcd with `--client-cert-auth`; a wrong CA
//! is refused (exit 4) naming TLS and the certificate; the commands of
//! `tenure worker` do not inherit the TLS variables; `--help` shows no
//! key.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tenure_tests::etcd::EtcdServer;
use tenure_tests::tls::TestPki;
use tenure_tests::zookeeper::ZkServer;

const TENURE: &str = env!("CARGO_BIN_EXE_tenure");

/// `tenure --backend BACKEND --connect CONNECT --cluster CLUSTER`, with no
/// connection variables inherited from the test's environment.
fn tenure(backend: &str, connect: &str, cluster: &str) -> Command {
    let mut command = Command::new(TENURE);
    command
        .args([
            "--backend",
            backend,
            "--connect",
            connect,
            "--cluster",
            cluster,
        ])
        .args(["--session-timeout", "2s", "--connect-timeout", "5s"])
        .stdin(Stdio::null());
    for var in [
        "TENURE_USER",
        "TENURE_PASSWORD",
        "TENURE_CA",
        "TENURE_CERT",
        "TENURE_KEY",
    ] {
        command.env_remove(var);
    }
    command
}

fn with_flags(mut command: Command, ca: &Path, cert: &Path, key: &Path) -> Command {
    command
        .arg("--ca")
        .arg(ca)
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key);
    command
}

fn run(command: &mut Command, args: &[&str]) -> Output {
    command.args(args).output().unwrap()
}

fn ok(mut command: Command, args: &[&str]) -> String {
    let out = run(&mut command, args);
    assert!(
        out.status.success(),
        "tenure {args:?}: {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Adds and lists a task with flags, lists it again with the variables,
/// and checks that a client trusting another CA is refused.
fn tasks_over_tls(pki: &TestPki, backend: &str, connect: &str) {
    let client = pki.client("cli");
    let cluster = format!("tls{}", std::process::id());
    let flags = || {
        with_flags(
            tenure(backend, connect, &cluster),
            pki.ca_file(),
            &client.cert,
            &client.key,
        )
    };
    ok(flags(), &["tasks", "add", "T1"]);
    assert!(ok(flags(), &["tasks", "ls"]).contains("T1"));

    let mut by_env = tenure(backend, connect, &cluster);
    by_env
        .env("TENURE_CA", pki.ca_file())
        .env("TENURE_CERT", &client.cert)
        .env("TENURE_KEY", &client.key);
    assert!(ok(by_env, &["tasks", "ls"]).contains("T1"));

    let stranger = TestPki::new("other");
    let mut wrong = with_flags(
        tenure(backend, connect, &cluster),
        stranger.ca_file(),
        &client.cert,
        &client.key,
    );
    let out = run(&mut wrong, &["tasks", "ls"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{backend} with another CA: {stderr}");
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("TLS") && stderr.contains("certificate"),
        "{stderr}"
    );
}

#[test]
fn zookeeper_tasks_over_tls_with_flags_and_variables() {
    let pki = TestPki::new("cli zookeeper");
    let server = ZkServer::start_tls(&pki);
    tasks_over_tls(&pki, "zookeeper", &server.secure_addr().to_string());
}

#[test]
fn etcd_tasks_over_tls_with_client_certificates() {
    let pki = TestPki::new("cli etcd");
    let server = EtcdServer::start_tls(&pki);
    tasks_over_tls(&pki, "etcd", &format!("https://{}", server.secure_addr()));
}

#[test]
fn worker_commands_do_not_inherit_tls_or_credential_variables() {
    let pki = TestPki::new("cli worker");
    let server = ZkServer::start_tls(&pki);
    let connect = server.secure_addr().to_string();
    let client = pki.client("worker");
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("env");
    let cluster = "tlsenv";
    let mut worker = tenure("zookeeper", &connect, cluster);
    worker
        .env("TENURE_CA", pki.ca_file())
        .env("TENURE_CERT", &client.cert)
        .env("TENURE_KEY", &client.key)
        .args(["worker", "--id", "w1", "--", "sh", "-c"])
        .arg(format!(
            "env > {}.tmp && mv {0}.tmp {0}; sleep 60",
            seen.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut worker = worker.spawn().unwrap();
    let admin = || {
        with_flags(
            tenure("zookeeper", &connect, cluster),
            pki.ca_file(),
            &client.cert,
            &client.key,
        )
    };
    ok(admin(), &["tasks", "add", "T1"]);
    let started = Instant::now();
    while !seen.exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = worker.kill();
    let out = worker.wait_with_output().unwrap();
    let env = std::fs::read_to_string(&seen).unwrap_or_else(|e| {
        panic!(
            "the task never ran ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(env.contains("TENURE_TASK=T1"), "{env}");
    for secret in [
        "TENURE_CA",
        "TENURE_CERT",
        "TENURE_KEY",
        "TENURE_PASSWORD",
        "TENURE_USER",
    ] {
        assert!(
            !env.contains(&format!("{secret}=")),
            "{secret} leaked: {env}"
        );
    }
}

#[test]
fn help_shows_no_key_file() {
    let out = Command::new(TENURE)
        .arg("--help")
        .env("TENURE_KEY", "/very/secret/key.pem")
        .env("TENURE_PASSWORD", "hunter2")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--key") && help.contains("TENURE_KEY"),
        "{help}"
    );
    assert!(!help.contains("/very/secret/key.pem"), "{help}");
    assert!(!help.contains("hunter2"), "{help}");
}

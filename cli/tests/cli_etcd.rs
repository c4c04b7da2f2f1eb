//! The `tenure` program against a real etcd server: the same suite as on
//! ZooKeeper, and etcd's user/password authentication.

#![cfg(feature = "etcd")]
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::Target;
use tenure_etcd::etcd_client::Permission;
use tenure_tests::etcd::{EtcdServer, admin_client};

fn etcd() -> Target {
    Target {
        backend: "etcd",
        connect: EtcdServer::shared().endpoint(),
    }
}

cli_suite!(etcd());

/// A private server with authentication on: `root` (needed to enable
/// it) and `alice`, who may read and write everything under `/tenure`.
fn server_with_auth() -> EtcdServer {
    let server = EtcdServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut admin = admin_client(server.addr()).await.unwrap();
        admin.user_add("root", "rootpw", None).await.unwrap();
        admin.user_grant_role("root", "root").await.unwrap();
        admin.role_add("tenure").await.unwrap();
        let rights = Permission::read_write("/tenure").with_prefix();
        admin.role_grant_permission("tenure", rights).await.unwrap();
        admin.user_add("alice", "right-secret", None).await.unwrap();
        admin.user_grant_role("alice", "tenure").await.unwrap();
        admin.auth_enable().await.unwrap();
    });
    server
}

/// Wrong credentials, and none, get exit code 4 at once with a message
/// that does not echo the password; the right ones work.
#[test]
fn wrong_credentials_are_refused_and_never_echoed() {
    let server = server_with_auth();
    let target = Target {
        backend: "etcd",
        connect: server.endpoint(),
    };
    let c = target.cluster("creds");
    let run = |password: &str, args: &[&str]| c.run_as("alice", password, args);
    let out = run("right-secret", &["tasks", "add", "guarded"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let out = run("wrong-secret", &["tasks", "ls"]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(r#"refused the credentials of user "alice""#),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-secret") && out.stdout.is_empty());
    assert!(
        took < Duration::from_secs(5),
        "refused at once, took {took:?}"
    );
    let anonymous = c.run(&["tasks", "ls"]);
    assert_eq!(
        anonymous.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&anonymous.stderr)
    );
    let out = run("right-secret", &["tasks", "ls"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("guarded"));
}

/// `--connect` takes a comma-separated endpoint list, bare or `http://`.
/// (A list with a dead member is not tested: etcd-client's balancer keeps
/// sending requests to an unreachable endpoint, etcdv3/etcd-client#39.)
#[test]
fn connect_takes_a_list_of_endpoints() {
    let live = EtcdServer::shared().endpoint();
    let target = Target {
        backend: "etcd",
        connect: format!("{live}, http://{live}"),
    };
    let c = target.cluster("endpoints");
    c.ok(&["tasks", "add", "anywhere"]);
    assert!(c.task("anywhere").is_some());
}

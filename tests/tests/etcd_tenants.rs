//! Tenant isolation on etcd with authentication on, against a real etcd
//! 3.4 the harness starts: two tenants, each a user whose role may read
//! and write only its own namespace. A tenant can neither read nor write
//! the other's namespace (through the store, and through a raw client
//! with the same credentials), wrong credentials are refused with
//! `Error::Unauthorized` saying so, and a read-only user can read a
//! cluster's status but not change it. ZooKeeper's counterpart is in
//! `zookeeper_store.rs` and `zookeeper_tls.rs` (digest ACLs).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use tenure_core::{Admin, DynStore, Error, TaskSpec};
use tenure_etcd::etcd_client::{self, ConnectOptions, GetOptions, Permission};
use tenure_etcd::{Credentials, EtcdConfig};
use tenure_tests::etcd::{EtcdServer, start_with_users};

const SESSION: Duration = Duration::from_secs(4);

/// The namespaces of the two tenants: one is a prefix of the other's
/// name, so a role granted a prefix without the trailing `/` would leak.
const A: &str = "/tenant-a";
const B: &str = "/tenant-a2";

/// A private server with authentication on: `root`, tenant users `alice`
/// (read-write on [`A`]) and `bob` (read-write on [`B`]), and `auditor`
/// (read-only on [`A`]).
async fn server_with_tenants() -> EtcdServer {
    let rw = |ns: &str| Permission::read_write(format!("{ns}/")).with_prefix();
    let read = Permission::read(format!("{A}/")).with_prefix();
    start_with_users(&[
        ("alice", "alice-pw", Some(("tenant-a", rw(A)))),
        ("bob", "bob-pw", Some(("tenant-b", rw(B)))),
        ("auditor", "audit-pw", Some(("reader-a", read))),
    ])
    .await
}

fn config(server: &EtcdServer, namespace: &str, user: &str, password: &str) -> EtcdConfig {
    EtcdConfig::new([server.addr().to_string()])
        .with_namespace(namespace)
        .with_session_timeout(SESSION)
        .with_connect_timeout(Duration::from_secs(5))
        .with_credentials(Credentials::new(user, password).unwrap())
}

async fn store(config: EtcdConfig) -> tenure_core::Result<DynStore> {
    Ok(Arc::new(config.connect().await?))
}

fn assert_unauthorized<T>(result: tenure_core::Result<T>, what: &str) -> String {
    match result {
        Err(e @ Error::Unauthorized { .. }) => e.to_string(),
        Err(e) => panic!("{what}: {e:?}, not Unauthorized"),
        Ok(_) => panic!("{what}: allowed"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_can_neither_read_nor_write_another_tenants_namespace() {
    let server = server_with_tenants().await;
    let alice = store(config(&server, A, "alice", "alice-pw"))
        .await
        .unwrap();
    let admin = Admin::new(alice.clone(), "billing").await.unwrap();
    admin
        .add_task(TaskSpec::new("invoice").unwrap().payload("alice's secret"))
        .await
        .unwrap();

    // bob's own namespace works, and a cluster of the same name there is
    // another cluster.
    let bob = store(config(&server, B, "bob", "bob-pw")).await.unwrap();
    let bobs = Admin::new(bob.clone(), "billing").await.unwrap();
    assert!(bobs.tasks().await.unwrap().is_empty());

    // Through the store: bob's credentials on alice's namespace are
    // refused when connecting (the store reads and creates its root there).
    let refused = store(config(&server, A, "bob", "bob-pw")).await;
    assert_unauthorized(refused, "bob connecting to alice's namespace");

    // Through a raw client with bob's credentials: neither read nor write
    // of any key under alice's prefix.
    let options = ConnectOptions::new().with_user("bob", "bob-pw");
    let mut raw = etcd_client::Client::connect([server.addr().to_string()], Some(options))
        .await
        .unwrap();
    let read = raw
        .get(format!("{A}/"), Some(GetOptions::new().with_prefix()))
        .await;
    assert!(
        is_permission_denied(&read),
        "bob reads alice's keys: {read:?}"
    );
    let write = raw.put(format!("{A}/0001/intruder"), "x", None).await;
    assert!(
        is_permission_denied(&write),
        "bob writes under alice: {write:?}"
    );
    let delete = raw.delete(format!("{A}/"), None).await;
    assert!(
        is_permission_denied(&delete),
        "bob deletes alice's keys: {delete:?}"
    );

    // alice's task is untouched.
    let spec = admin
        .task(&tenure_core::TaskId::new("invoice").unwrap())
        .await
        .unwrap();
    assert_eq!(spec.payload, b"alice's secret");
}

fn is_permission_denied<T: std::fmt::Debug>(r: &Result<T, etcd_client::Error>) -> bool {
    matches!(r, Err(e) if e.to_string().contains("permission denied"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_typed_error_that_says_so() {
    let server = server_with_tenants().await;
    for (who, config) in [
        ("wrong password", config(&server, A, "alice", "wrong")),
        ("unknown user", config(&server, A, "mallory", "alice-pw")),
        (
            "no credentials",
            EtcdConfig::new([server.addr().to_string()]).with_namespace(A),
        ),
    ] {
        let message = assert_unauthorized(store(config).await, who);
        assert!(
            message.contains("not authorised") && message.contains("check the credentials"),
            "{who}: {message}"
        );
    }
    let message = assert_unauthorized(
        store(config(&server, A, "alice", "wrong")).await,
        "wrong password",
    );
    assert!(message.contains("authentication failed"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_user_reads_the_status_but_cannot_change_it() {
    let server = server_with_tenants().await;
    let alice = store(config(&server, A, "alice", "alice-pw"))
        .await
        .unwrap();
    Admin::new(alice, "billing")
        .await
        .unwrap()
        .add_task(TaskSpec::new("invoice").unwrap())
        .await
        .unwrap();

    let auditor = store(config(&server, A, "auditor", "audit-pw"))
        .await
        .unwrap();
    let admin = Admin::existing(auditor, "billing").await.unwrap();
    let tasks = admin.tasks().await.unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_unauthorized(
        admin.add_task(TaskSpec::new("forged").unwrap()).await,
        "a read-only user adding a task",
    );
    let invoice = tenure_core::TaskId::new("invoice").unwrap();
    assert_unauthorized(admin.pause_task(&invoice).await, "a read-only user pausing");
    assert_eq!(admin.tasks().await.unwrap().len(), 1);
}

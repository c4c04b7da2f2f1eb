//! The ZooKeeper store over TLS, against a real server with a secure
//! client port and certificates generated for this run: a worker runs a
//! task over TLS, certificate problems are typed errors that say so, and
//! digest ACLs keep tenants apart even when they share a client
//! certificate. The whole conformance suite over TLS is in
//! `conformance_zookeeper_tls.rs`.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Error, Path};
use tenure_tests::backend::unique_root;
use tenure_tests::tls::{CertFiles, TestPki};
use tenure_tests::zookeeper::ZkServer;
// Through the facade (feature `zookeeper-tls`), as users reach it.
use tenure::zookeeper::zookeeper_client as zk;
use tenure::zookeeper::{Credentials, TlsConfig, ZkConfig, ZkStore};

const SESSION: Duration = Duration::from_secs(4);
const PATIENCE: Duration = Duration::from_secs(10);

/// The server of this test binary and the PKI that signed its certificate.
async fn server() -> &'static (TestPki, ZkServer) {
    static SERVER: OnceLock<(TestPki, ZkServer)> = OnceLock::new();
    tokio::task::spawn_blocking(|| {
        SERVER.get_or_init(|| {
            let pki = TestPki::new("zookeeper tls");
            let server = ZkServer::start_tls(&pki);
            (pki, server)
        })
    })
    .await
    .unwrap()
}

fn tls(ca_pem: String, client: Option<&CertFiles>) -> TlsConfig {
    let config = TlsConfig::new(ca_pem);
    match client {
        Some(c) => config.with_identity(c.cert_pem(), c.key_pem()),
        None => config,
    }
}

fn config(server: &ZkServer, tls: TlsConfig) -> ZkConfig {
    ZkConfig::new(server.secure_addr().to_string())
        .with_session_timeout(SESSION)
        .with_connect_timeout(PATIENCE)
        .with_tls(tls)
}

async fn client_store(user_password: Option<&str>, chroot: Option<Path>) -> ZkStore {
    let (pki, server) = server().await;
    let mut config = config(server, tls(pki.ca_pem(), Some(&pki.client("shared"))));
    if let Some(up) = user_password {
        config = config.with_credentials(Credentials::parse(up).unwrap());
    }
    if let Some(chroot) = chroot {
        config = config.with_chroot(chroot);
    }
    config.connect().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_a_task_over_tls() {
    let store: tenure_core::DynStore = Arc::new(client_store(None, None).await);
    tenure_tests::tls::a_worker_runs_a_task(store, "zktls", PATIENCE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_servers_ca_gets_a_tls_error_naming_the_certificate() {
    let (pki, server) = server().await;
    let stranger = TestPki::new("other");
    let client = pki.client("no-ca");
    let err = config(server, tls(stranger.ca_pem(), Some(&client)))
        .connect()
        .await
        .unwrap_err();
    eprintln!("wrong CA: {err}");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("certificate") && shown.contains(&server.secure_addr().to_string()),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused_with_a_tls_error() {
    let (pki, server) = server().await;
    let err = config(server, tls(pki.ca_pem(), None))
        .connect()
        .await
        .unwrap_err();
    eprintln!("no client certificate: {err}");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    // A client certificate from another CA is refused the same way.
    let stranger = TestPki::new("other");
    let foreign = stranger.client("foreign");
    let err = config(server, tls(pki.ca_pem(), Some(&foreign)))
        .connect()
        .await
        .unwrap_err();
    eprintln!("foreign client certificate: {err}");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_acls_keep_tenants_apart_when_they_share_a_client_certificate() {
    let chroot = unique_root("zktlsacl");
    let alice = client_store(Some("alice:pw"), Some(chroot.clone())).await;
    let node = Path::new("/n").unwrap();
    alice
        .create(&node, b"alice's", CreateMode::Persistent)
        .await
        .unwrap();

    // Same client certificate (same x509 identity), other digest user.
    let bob = client_store(Some("bob:pw"), None).await;
    let seen = chroot.child("n").unwrap();
    let read = bob.get(&seen).await;
    assert!(refused(&read), "bob read: {read:?}");
    let write = bob.set(&seen, b"bob's", None).await;
    assert!(refused(&write), "bob wrote: {write:?}");
    let below = bob
        .create(&seen.child("x").unwrap(), b"", CreateMode::Persistent)
        .await;
    assert!(refused(&below), "bob created below: {below:?}");
    let err = client_store_result(Some("bob:pw"), chroot.clone()).await;
    assert!(matches!(err, Err(Error::Unauthorized { .. })), "{err:?}");

    // The stored ACL names alice's digest only, not the certificate.
    let (_, server) = server().await;
    let raw = zk::Client::connector()
        .with_auth("digest", b"alice:pw")
        .connect(&server.addr().to_string())
        .await
        .unwrap();
    let (acl, _) = raw.get_acl(seen.as_str()).await.unwrap();
    assert_eq!(acl.len(), 1, "{acl:?}");
    assert_eq!(acl[0].scheme(), "digest", "{acl:?}");
    assert!(acl[0].id().starts_with("alice:"), "{acl:?}");
    assert_eq!(alice.get(&node).await.unwrap().unwrap().data, b"alice's");
    alice.close().await.unwrap();
    bob.close().await.unwrap();
}

fn refused<T>(r: &tenure_core::Result<T>) -> bool {
    matches!(r, Err(Error::Unauthorized { .. }))
}

async fn client_store_result(
    user_password: Option<&str>,
    chroot: Path,
) -> tenure_core::Result<ZkStore> {
    let (pki, server) = server().await;
    let mut config =
        config(server, tls(pki.ca_pem(), Some(&pki.client("shared")))).with_chroot(chroot);
    if let Some(up) = user_password {
        config = config.with_credentials(Credentials::parse(up).unwrap());
    }
    config.connect().await
}

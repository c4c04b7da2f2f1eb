//! The etcd store over TLS with client certificates, against a real
//! server (`--client-cert-auth`) with certificates generated for this run:
//! a worker runs a task over TLS, and certificate problems are typed
//! errors that say so. The whole conformance suite over TLS is in
//! `conformance_etcd_tls.rs`.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tenure_core::{DynStore, Error};
// Through the facade (feature `etcd-tls`), as users reach it.
use tenure::etcd::{EtcdConfig, TlsConfig};
use tenure_tests::etcd::{EtcdServer, NAMESPACE};
use tenure_tests::tls::{CertFiles, TestPki};

const SESSION: Duration = Duration::from_secs(4);
const PATIENCE: Duration = Duration::from_secs(10);

/// The server of this test binary and the PKI that signed its certificate.
async fn server() -> &'static (TestPki, EtcdServer) {
    static SERVER: OnceLock<(TestPki, EtcdServer)> = OnceLock::new();
    tokio::task::spawn_blocking(|| {
        SERVER.get_or_init(|| {
            let pki = TestPki::new("etcd tls");
            let server = EtcdServer::start_tls(&pki);
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

fn config(server: &EtcdServer, tls: TlsConfig) -> EtcdConfig {
    EtcdConfig::new([format!("https://{}", server.secure_addr())])
        .with_namespace(NAMESPACE)
        .with_session_timeout(SESSION)
        .with_connect_timeout(PATIENCE)
        .with_tls(tls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_a_task_over_tls() {
    let (pki, server) = server().await;
    let client = pki.client("worker");
    let store = config(server, tls(pki.ca_pem(), Some(&client)))
        .connect()
        .await
        .unwrap();
    let store: DynStore = Arc::new(store);
    tenure_tests::tls::a_worker_runs_a_task(store, "etcdtls", PATIENCE).await;
}

async fn assert_tls_error(config: EtcdConfig, what: &str) {
    let started = std::time::Instant::now();
    let err = config.connect().await.unwrap_err();
    eprintln!("{what}: {err} after {:?}", started.elapsed());
    assert!(matches!(err, Error::Tls { .. }), "{what}: {err:?}");
    assert!(err.to_string().contains("certificate"), "{what}: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_servers_ca_gets_a_tls_error_naming_the_certificate() {
    let (pki, server) = server().await;
    let stranger = TestPki::new("other");
    let client = pki.client("no-ca");
    let config = config(server, tls(stranger.ca_pem(), Some(&client)));
    assert_tls_error(config, "wrong CA").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_an_accepted_certificate_gets_a_tls_error() {
    let (pki, server) = server().await;
    assert_tls_error(
        config(server, tls(pki.ca_pem(), None)),
        "no client certificate",
    )
    .await;
    let stranger = TestPki::new("other");
    let foreign = stranger.client("foreign");
    let config = config(server, tls(pki.ca_pem(), Some(&foreign)));
    assert_tls_error(config, "foreign client certificate").await;
}

//! The backend conformance suite against a real etcd server over TLS with
//! client certificates (`--client-cert-auth`): every client reaches the
//! TLS client port (through its own proxy) with a certificate generated
//! for this run.

use std::sync::{Arc, OnceLock};

use tenure_etcd::TlsConfig;
use tenure_tests::backend::Backend;
use tenure_tests::etcd::{EtcdBackend, EtcdServer};
use tenure_tests::tls::TestPki;

async fn make_backend() -> Arc<dyn Backend> {
    static SERVER: OnceLock<(TestPki, EtcdServer)> = OnceLock::new();
    let (pki, server) = tokio::task::spawn_blocking(|| {
        SERVER.get_or_init(|| {
            let pki = TestPki::new("etcd conformance");
            let server = EtcdServer::start_tls(&pki);
            (pki, server)
        })
    })
    .await
    .expect("starting the TLS etcd server");
    let client = pki.client("conformance");
    let tls = TlsConfig::new(pki.ca_pem()).with_identity(client.cert_pem(), client.key_pem());
    Arc::new(EtcdBackend::over_tls(server, tls))
}

tenure_conformance::conformance_suite!(make_backend);

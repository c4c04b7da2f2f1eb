//! The backend conformance suite against a real ZooKeeper server over TLS:
//! every client reaches the server's secure client port (through its own
//! proxy) with a client certificate, all generated for this run.

use std::sync::{Arc, OnceLock};

use tenure_tests::backend::Backend;
use tenure_tests::tls::TestPki;
use tenure_tests::zookeeper::{ZkBackend, ZkServer};
use tenure_zookeeper::TlsConfig;

async fn make_backend() -> Arc<dyn Backend> {
    static SERVER: OnceLock<(TestPki, ZkServer)> = OnceLock::new();
    let (pki, server) = tokio::task::spawn_blocking(|| {
        SERVER.get_or_init(|| {
            let pki = TestPki::new("zookeeper conformance");
            let server = ZkServer::start_tls(&pki);
            (pki, server)
        })
    })
    .await
    .expect("starting the TLS ZooKeeper server");
    let client = pki.client("conformance");
    let tls = TlsConfig::new(pki.ca_pem()).with_identity(client.cert_pem(), client.key_pem());
    Arc::new(ZkBackend::over_tls(server, tls))
}

tenure_conformance::conformance_suite!(make_backend);

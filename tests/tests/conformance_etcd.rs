//! The backend conformance suite against a real etcd server (one per test
//! binary; every client behind its own proxy).

use std::sync::Arc;

use tenure_tests::backend::Backend;
use tenure_tests::etcd::EtcdBackend;

async fn make_backend() -> Arc<dyn Backend> {
    Arc::new(EtcdBackend::shared().await)
}

tenure_conformance::conformance_suite!(make_backend);

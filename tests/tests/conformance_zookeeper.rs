//! The backend conformance suite against a real ZooKeeper server (one per
//! test binary; every client behind its own proxy).

use std::sync::Arc;

use tenure_tests::backend::Backend;
use tenure_tests::zookeeper::ZkBackend;

async fn make_backend() -> Arc<dyn Backend> {
    Arc::new(ZkBackend::shared().await)
}

tenure_conformance::conformance_suite!(make_backend);

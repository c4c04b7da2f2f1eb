//! The backend conformance suite against the in-memory server (a fresh
//! server per test).

use std::sync::Arc;

use tenure_tests::backend::Backend;
use tenure_tests::memory::MemoryBackend;

async fn make_backend() -> Arc<dyn Backend> {
    Arc::new(MemoryBackend::new())
}

tenure_conformance::conformance_suite!(make_backend);

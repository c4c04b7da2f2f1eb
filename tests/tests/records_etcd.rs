//! What the runtime reads back from a real etcd server: a fencing counter
//! that does not decode stops the claims of its task and of no other.
//!
//! Workers run in this process over the test binary's shared server, each
//! cluster at a root of its own.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use tenure_tests::etcd::EtcdBackend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_fencing_counter_stops_the_claims_of_its_task_only() {
    let backend = Arc::new(EtcdBackend::shared().await);
    tenure_tests::live::malformed_epoch_stops_only_its_task(backend).await;
}

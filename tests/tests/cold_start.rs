//! A cold start starts each task's handler exactly once, on every
//! backend: 12 workers joining one after the other over 48 tasks.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use tenure_tests::cold_start::each_task_starts_once;
use tenure_tests::etcd::EtcdBackend;
use tenure_tests::memory::MemoryBackend;
use tenure_tests::zookeeper::ZkBackend;

const WORKERS: usize = 12;
const TASKS: usize = 48;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_on_memory_starts_each_task_once() {
    each_task_starts_once(Arc::new(MemoryBackend::new()), WORKERS, TASKS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_on_zookeeper_starts_each_task_once() {
    each_task_starts_once(Arc::new(ZkBackend::shared().await), WORKERS, TASKS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_on_etcd_starts_each_task_once() {
    each_task_starts_once(Arc::new(EtcdBackend::shared().await), WORKERS, TASKS).await;
}

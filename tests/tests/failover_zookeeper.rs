//! Process-level failover on a real ZooKeeper 3.8: worker processes
//! SIGKILLed and restarted, the server restarted under running workers,
//! and the takeover time measured (`--ignored`). The scenarios are the
//! same for every backend (`tenure_tests::failover`).

use std::sync::Arc;
use std::time::Duration;

use tenure_tests::failover::{self, FailoverEnv, StoreKind};
use tenure_tests::zookeeper::ZkServer;

/// The session timeout of every worker.
const SESSION: Duration = Duration::from_secs(2);

fn env(servers: String) -> FailoverEnv {
    let program = env!("CARGO_BIN_EXE_failover_worker");
    FailoverEnv::new(program, StoreKind::Zookeeper, servers, SESSION)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivor_takes_over_a_sigkilled_worker_and_the_returning_worker_gets_its_share_back() {
    let server = tokio::task::spawn_blocking(ZkServer::shared).await.unwrap();
    failover::sigkill_takeover_and_return(&env(server.connect_string())).await;
}

/// Crashes the private server, keeps it down for `down`, starts it again
/// on its data, under two running workers.
async fn restart_under_workers(down: Duration) {
    let server = tokio::task::spawn_blocking(ZkServer::start).await;
    let server = Arc::new(server.expect("starting a private ZooKeeper server"));
    let restart = server.clone();
    let what = format!("a server restart after {down:?} down");
    failover::server_fault(&env(server.connect_string()), &what, move || {
        restart.stop();
        std::thread::sleep(down);
        restart.start_again();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_once_again_after_the_server_restarts_on_its_data() {
    restart_under_workers(Duration::from_millis(500)).await;
}

/// The workers stop every handler when the connection drops; their
/// client gives the old session up and opens a new one once the server is
/// back, and the old sessions, restored by the server with a fresh
/// timeout, hold the workers' names and records one more session timeout
/// before the tasks are claimed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_once_again_after_the_server_is_down_longer_than_the_session_timeout() {
    restart_under_workers(SESSION + Duration::from_secs(1)).await;
}

/// Repeats the SIGKILL takeover and prints median, minimum and maximum:
/// `cargo test -p tenure-tests --test failover_zookeeper --test failover_etcd takeover_after_sigkill -- --ignored --nocapture`
/// (`FAILOVER_RUNS` sets the number of kills, default 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it with --ignored --nocapture"]
async fn takeover_after_sigkill_measured() {
    let server = tokio::task::spawn_blocking(ZkServer::start).await.unwrap();
    let runs = failover::runs_from_env();
    let takeovers = failover::measure_takeover(&env(server.connect_string()), runs).await;
    failover::print_summary("zookeeper", "session timeout", SESSION, &takeovers);
}

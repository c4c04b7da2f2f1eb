//! Process-level failover on a real etcd 3.4: worker processes SIGKILLed
//! and restarted, one member of a 3-member cluster killed under running
//! workers, and the takeover time measured (`--ignored`). The scenarios
//! are the same for every backend (`tenure_tests::failover`).

use std::sync::Arc;
use std::time::Duration;

use tenure_tests::etcd::{EtcdCluster, EtcdServer};
use tenure_tests::failover::{self, FailoverEnv, StoreKind};
use tenure_tests::server_util::tcp_request;

/// The lease TTL of every worker (etcd grants whole seconds).
const SESSION: Duration = Duration::from_secs(2);

fn env(servers: String) -> FailoverEnv {
    let program = env!("CARGO_BIN_EXE_failover_worker");
    FailoverEnv::new(program, StoreKind::Etcd, servers, SESSION)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivor_takes_over_a_sigkilled_worker_and_the_returning_worker_gets_its_share_back() {
    let server = tokio::task::spawn_blocking(EtcdServer::shared)
        .await
        .unwrap();
    failover::sigkill_takeover_and_return(&env(server.endpoint())).await;
}

/// Whether `member` is the raft leader, from its `/v3/maintenance/status`
/// (the JSON gateway), which names both the member and the leader.
fn is_leader(member: &EtcdServer) -> bool {
    let request = b"POST /v3/maintenance/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\
        Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    let Ok(reply) = tcp_request(member.addr(), request, Duration::from_secs(1)) else {
        return false;
    };
    let field = |name: &str| {
        let start = reply.find(&format!("\"{name}\":\""))? + name.len() + 4;
        let end = start + reply[start..].find('"')?;
        Some(reply[start..end].to_string())
    };
    field("member_id").is_some_and(|id| field("leader") == Some(id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_once_after_the_cluster_leader_is_killed() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(|| EtcdCluster::start(3))
            .await
            .unwrap(),
    );
    // Workers get every member's endpoint (and keep a connection to each).
    let servers = cluster.endpoints().join(",");
    let faulty = cluster.clone();
    let kill_leader = move || {
        let leader = (0..3)
            .find(|&i| is_leader(&faulty.members()[i]))
            .expect("the cluster has a leader");
        eprintln!("etcd: killing the leader, member e{}", leader + 1);
        faulty.stop(leader);
    };
    failover::server_fault(&env(servers), "killing the leader member", kill_leader).await;
}

/// Repeats the SIGKILL takeover and prints median, minimum and maximum:
/// `cargo test -p tenure-tests --test failover_zookeeper --test failover_etcd takeover_after_sigkill -- --ignored --nocapture`
/// (`FAILOVER_RUNS` sets the number of kills, default 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it with --ignored --nocapture"]
async fn takeover_after_sigkill_measured() {
    let server = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .unwrap();
    let runs = failover::runs_from_env();
    let takeovers = failover::measure_takeover(&env(server.endpoint()), runs).await;
    failover::print_summary("etcd", "lease TTL", SESSION, &takeovers);
}

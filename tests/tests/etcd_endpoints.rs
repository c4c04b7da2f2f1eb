//! A 3-member etcd cluster with a member down: the store sends no request
//! to the dead member (it is out of the client's rotation from the connect
//! on, or from the first request that could not reach it), the session is
//! never suspended for it, and the member is used again once it is back.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tenure_core::{CoordinationStore, CreateMode, Path, SessionState, StoreExt};
use tenure_etcd::{EtcdConfig, EtcdStore};
use tenure_tests::backend::unique_root;
use tenure_tests::etcd::{EtcdCluster, NAMESPACE, admin_client};

const LONG: Duration = Duration::from_secs(10);

fn url(endpoint: &str) -> String {
    format!("http://{endpoint}")
}

async fn connect(endpoints: Vec<String>) -> EtcdStore {
    EtcdConfig::new(endpoints)
        .with_namespace(NAMESPACE)
        .with_session_timeout(Duration::from_secs(3))
        .connect()
        .await
        .unwrap()
}

/// Waits (at most [`LONG`]) until the store's rotation is `want`, sending
/// a read now and then (a read that cannot connect reports the member).
async fn wait_rotation(store: &EtcdStore, want: &[String]) -> Duration {
    let start = Instant::now();
    let root = Path::root();
    while start.elapsed() < LONG {
        if store.endpoints_in_use() == want {
            return start.elapsed();
        }
        let _ = store.get(&root).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "rotation is {:?} after {LONG:?}, wanted {want:?}",
        store.endpoints_in_use()
    );
}

/// The index of a member that does not lead the raft group.
async fn a_follower(cluster: &EtcdCluster) -> usize {
    for (i, m) in cluster.members().iter().enumerate() {
        let mut admin = admin_client(m.addr()).await.unwrap();
        let status = admin.status().await.unwrap();
        let me = status.header().unwrap().member_id();
        if status.leader() != me {
            return i;
        }
    }
    panic!("every member claims to lead");
}

/// A 3-member cluster, the index of a follower, and the endpoints of the
/// other members.
async fn cluster_and_follower() -> (EtcdCluster, usize, Vec<String>) {
    let cluster = tokio::task::spawn_blocking(|| EtcdCluster::start(3))
        .await
        .unwrap();
    let victim = a_follower(&cluster).await;
    let others = cluster
        .endpoints()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .map(|(_, e)| e)
        .collect();
    (cluster, victim, others)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_down_at_connect_is_left_out_and_used_again_once_back() {
    let (cluster, victim, others) = cluster_and_follower().await;
    let endpoints = cluster.endpoints();
    tokio::task::block_in_place(|| cluster.stop(victim));
    let store = connect(endpoints.clone()).await;
    let live: Vec<String> = others.iter().map(|e| url(e)).collect();
    assert_eq!(store.endpoints_in_use(), live, "dead member left out");
    let root = unique_root("etcd");
    store.create_all(&root).await.unwrap();
    for i in 0..20 {
        let path = Path::new(&format!("{root}/n{i}")).unwrap();
        store
            .create(&path, b"x", CreateMode::Persistent)
            .await
            .unwrap();
    }
    tokio::task::block_in_place(|| cluster.start_again(victim));
    let all: Vec<String> = endpoints.iter().map(|e| url(e)).collect();
    let back = wait_rotation(&store, &all).await;
    eprintln!(
        "member e{} back in the rotation {back:?} after it was healthy",
        victim + 1
    );
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_dies_leaves_the_rotation_without_suspending_the_session() {
    let (cluster, victim, others) = cluster_and_follower().await;
    // The dead member first in the list, as a client would most often meet it.
    let mut ordered = vec![cluster.endpoints()[victim].clone()];
    ordered.extend(others);
    let store = connect(ordered.clone()).await;
    let session = store.live_session().unwrap();
    assert_eq!(store.endpoints_in_use().len(), 3);
    let mut states = store.session_events();
    states.borrow_and_update();
    tokio::task::block_in_place(|| cluster.stop(victim));
    let live: Vec<String> = ordered[1..].iter().map(|e| url(e)).collect();
    let out = wait_rotation(&store, &live).await;
    eprintln!("member e{} out of the rotation after {out:?}", victim + 1);
    // Requests and renewals go on for a few lease periods.
    let root = unique_root("etcd");
    store.create_all(&root).await.unwrap();
    let until = Instant::now() + Duration::from_secs(4);
    let mut n = 0;
    while Instant::now() < until {
        let path = Path::new(&format!("{root}/n{n}")).unwrap();
        store
            .create(&path, b"x", CreateMode::Persistent)
            .await
            .unwrap();
        n += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !states.has_changed().unwrap(),
        "session state changed to {:?} although a quorum stayed up",
        *states.borrow()
    );
    assert_eq!(store.session_state(), SessionState::Connected(session));
    assert_eq!(store.endpoints_in_use(), live, "{n} writes later");
    store.close().await.unwrap();
}

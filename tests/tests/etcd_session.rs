//! etcd sessions against a real etcd 3.4: suspension detection, lease
//! expiry timings, renewal after expiry, the session deadline, a server
//! restart and the loss of a cluster member. Measured times are printed
//! (`--nocapture`).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tenure_core::{CoordinationStore, CreateMode, Path, SessionState, StoreExt, WatchEvent};
use tenure_tests::backend::{Backend, TestClient, unique_root};
use tenure_tests::etcd::{EtcdBackend, EtcdCluster, EtcdServer};
use tenure_tests::zookeeper::wait_for_state;

const LONG: Duration = Duration::from_secs(10);

fn at(root: &Path, rel: &str) -> Path {
    Path::new(&format!("{root}/{rel}")).unwrap()
}

/// A keeper client (long session) with a fresh test root.
async fn keeper(backend: &EtcdBackend) -> (TestClient, Path) {
    let keeper = backend.connect(LONG).await.unwrap();
    let root = unique_root("etcd");
    keeper.store.create_all(&root).await.unwrap();
    (keeper, root)
}

/// Waits (at most [`LONG`]) until `store`'s state satisfies `want`;
/// returns how long it took.
async fn wait_state(
    store: &dyn CoordinationStore,
    want: impl Fn(SessionState) -> bool,
) -> Duration {
    let start = Instant::now();
    let mut events = store.session_events();
    let wait = async {
        while !want(*events.borrow_and_update()) {
            events.changed().await.unwrap();
        }
    };
    tokio::time::timeout(LONG, wait)
        .await
        .unwrap_or_else(|_| panic!("state {:?} after {LONG:?}", store.session_state()));
    start.elapsed()
}

async fn gone_within(c: &TestClient, path: &Path, limit: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if c.store.get(path).await.unwrap().is_none() {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{path} still there after {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_expiry_removes_ephemerals_after_the_ttl() {
    let backend = EtcdBackend::shared().await;
    let (keeper, root) = keeper(&backend).await;
    for secs in [1, 2, 3] {
        let ttl = Duration::from_secs(secs);
        let c = backend.connect(ttl).await.unwrap();
        assert_eq!(c.store.info().session_timeout, ttl);
        let s = c.store.live_session().unwrap();
        let e = at(&root, &format!("e{secs}"));
        c.store
            .create(&e, b"", CreateMode::Ephemeral(s))
            .await
            .unwrap();
        let deadline = c.store.session_deadline().unwrap();
        let cut = tokio::time::Instant::now();
        c.control.suspend().await.unwrap();
        let gone = gone_within(&keeper, &e, ttl + Duration::from_secs(3)).await;
        let past_deadline = tokio::time::Instant::now().saturating_duration_since(deadline);
        eprintln!(
            "TTL {ttl:?}: ephemeral gone {gone:?} after the keep-alives stopped, \
             {past_deadline:?} after the client's session deadline (deadline was {:?} after the cut)",
            deadline.saturating_duration_since(cut)
        );
        assert!(gone >= ttl / 2, "gone early: {gone:?} for TTL {ttl:?}");
        assert!(
            tokio::time::Instant::now() >= deadline,
            "gone before the deadline the client reported"
        );
        c.control.resume().await.unwrap();
        let _ = c.store.close().await;
    }
    keeper.store.delete_all(&root).await.unwrap();
    keeper.store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_is_detected_within_the_probe_time() {
    let backend = EtcdBackend::shared().await;
    // Worst case two renewal periods (min(TTL/3, 1 s)): the keep-alive sent
    // just before the cut is answered, the next one is overdue a period
    // after it is sent; plus scheduling slack on a loaded machine.
    for (ttl, bound) in [
        (Duration::from_secs(2), Duration::from_millis(1650)),
        (Duration::from_secs(10), Duration::from_millis(2500)),
    ] {
        let c = backend.connect(ttl).await.unwrap();
        let mut took = Vec::new();
        for _ in 0..3 {
            let s = c.store.live_session().unwrap();
            c.control.suspend().await.unwrap();
            took.push(wait_for_state(&c, LONG, |st| st == SessionState::Suspended(s)).await);
            let err = c.store.get(&Path::root()).await.unwrap_err();
            assert!(err.is_retryable(), "{err:?}");
            c.control.resume().await.unwrap();
            // Detection takes up to 2/3 of a short TTL, so the lease may
            // run out before the resumed keep-alive: then a new one follows.
            wait_for_state(&c, LONG, |st| matches!(st, SessionState::Connected(_))).await;
        }
        eprintln!("TTL {ttl:?}: suspension detected after {took:?}");
        assert!(took.iter().all(|t| *t <= bound), "{took:?} over {bound:?}");
        let _ = c.store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_session_is_renewed_with_a_new_lease() {
    let backend = EtcdBackend::shared().await;
    let (keeper, root) = keeper(&backend).await;
    let c = backend.connect(Duration::from_secs(3)).await.unwrap();
    let s = c.store.live_session().unwrap();
    let e = at(&root, "e");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (_, watch) = c.store.get_and_watch(&at(&root, "quiet")).await.unwrap();
    let mut events = c.store.session_events();
    let revoked = Instant::now();
    c.control.expire().await.unwrap();
    let mut seen = Vec::new();
    let renewed = loop {
        tokio::time::timeout(LONG, events.changed())
            .await
            .unwrap()
            .unwrap();
        let state = *events.borrow_and_update();
        seen.push((state, revoked.elapsed()));
        if matches!(state, SessionState::Connected(t) if t != s) {
            break state.session().unwrap();
        }
    };
    eprintln!("after the revoke: {seen:?}");
    assert!(
        seen.iter().any(|(st, _)| *st == SessionState::Expired(s)),
        "Expired(s) reported before the new session: {seen:?}"
    );
    assert_eq!(watch.await, WatchEvent::Lost, "pending watch at expiry");
    assert!(keeper.store.get(&e).await.unwrap().is_none());
    c.store
        .create(&e, b"", CreateMode::Ephemeral(renewed))
        .await
        .unwrap();
    let node = keeper.store.get(&e).await.unwrap().unwrap();
    assert_eq!(node.ephemeral_owner, Some(renewed));
    // A set keeps the node on its lease: closing still removes it.
    c.store.set(&e, b"changed", None).await.unwrap();
    assert_eq!(
        keeper.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(renewed)
    );
    c.store.close().await.unwrap();
    assert!(keeper.store.get(&e).await.unwrap().is_none());
    keeper.store.delete_all(&root).await.unwrap();
    keeper.store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_revokes_the_lease() {
    let backend = EtcdBackend::shared().await;
    let (keeper, root) = keeper(&backend).await;
    let store = backend.config(LONG).connect().await.unwrap();
    let s = store.live_session().unwrap();
    let e = at(&root, "e");
    store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (_, watch) = store.get_and_watch(&e).await.unwrap();
    drop(store);
    let gone = gone_within(&keeper, &e, Duration::from_secs(3)).await;
    eprintln!("ephemeral gone {gone:?} after the last handle was dropped (TTL 10 s)");
    let event = tokio::time::timeout(Duration::from_secs(3), watch)
        .await
        .unwrap();
    assert_eq!(event, WatchEvent::Lost);
    keeper.store.delete_all(&root).await.unwrap();
    keeper.store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_and_watches_survive_a_server_restart() {
    let server = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .unwrap();
    let store = EtcdBackend::on(server.addr())
        .config(LONG)
        .connect()
        .await
        .unwrap();
    let s = store.live_session().unwrap();
    let root = unique_root("etcd");
    store.create_all(&root).await.unwrap();
    let e = at(&root, "e");
    store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (_, mut watch) = store.children_and_watch(&root).await.unwrap();
    let stopped = Instant::now();
    tokio::task::block_in_place(|| server.stop());
    let suspended = wait_state(&store, |st| st == SessionState::Suspended(s)).await;
    let took = tokio::task::block_in_place(|| server.start_again());
    let back = wait_state(&store, |st| st == SessionState::Connected(s)).await;
    eprintln!(
        "server restart: suspended after {suspended:?}, server healthy again after {took:?}, \
         session back {back:?} after that ({:?} in all)",
        stopped.elapsed()
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut watch)
            .await
            .is_err(),
        "watch fired without a change"
    );
    assert_eq!(
        store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(s)
    );
    store
        .create(&at(&root, "after"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let event = tokio::time::timeout(LONG, watch).await.unwrap();
    assert_eq!(event, WatchEvent::ChildrenChanged);
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_member_loss_keeps_the_session() {
    let cluster = tokio::task::spawn_blocking(|| EtcdCluster::start(3))
        .await
        .unwrap();
    let config = tenure_etcd::EtcdConfig::new(cluster.endpoints())
        .with_namespace(tenure_tests::etcd::NAMESPACE)
        .with_session_timeout(Duration::from_secs(3));
    let store = config.connect().await.unwrap();
    let s = store.live_session().unwrap();
    let root = unique_root("etcd");
    store.create_all(&root).await.unwrap();
    let e = at(&root, "e");
    store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    for victim in 0..3 {
        let (_, watch) = store.children_and_watch(&root).await.unwrap();
        tokio::task::block_in_place(|| cluster.stop(victim));
        let killed = Instant::now();
        // Writes go through again once the client moved to a live member.
        let kid = at(&root, &format!("kid{victim}"));
        let mut attempts = 0;
        loop {
            attempts += 1;
            match store.create(&kid, b"", CreateMode::Persistent).await {
                Ok(_) => break,
                Err(e) if e.is_retryable() && killed.elapsed() < LONG => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("create after losing member {victim}: {e:?}"),
            }
        }
        eprintln!(
            "member e{} killed: writes back after {:?} ({attempts} attempts), state {:?}",
            victim + 1,
            killed.elapsed(),
            store.session_state()
        );
        let event = tokio::time::timeout(LONG, watch).await.unwrap();
        assert_eq!(event, WatchEvent::ChildrenChanged);
        assert_eq!(
            store.get(&e).await.unwrap().unwrap().ephemeral_owner,
            Some(s),
            "session survived"
        );
        tokio::task::block_in_place(|| cluster.start_again(victim));
    }
    assert_eq!(store.live_session().unwrap(), s);
    store.close().await.unwrap();
}

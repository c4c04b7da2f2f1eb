//! ZooKeeper sessions through the store, against a real server: negotiated
//! timeouts, close, renewal after expiry, the session deadline, and
//! measured timings of suspension detection and ephemeral expiry.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tenure_core::{CoordinationStore, CreateMode, Error, Path, SessionState, StoreExt};
use tenure_tests::backend::{Backend, unique_root};
use tenure_tests::zookeeper::{
    MAX_SESSION_TIMEOUT, MIN_SESSION_TIMEOUT, ZkBackend, wait_for_state,
};

const LONG: Duration = Duration::from_secs(10);
const PATIENCE: Duration = Duration::from_secs(5);

async fn backend() -> ZkBackend {
    ZkBackend::shared().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_timeout_reported_is_the_one_the_server_granted() {
    let zk = backend().await;
    for (asked, granted) in [
        (Duration::from_millis(100), MIN_SESSION_TIMEOUT),
        (Duration::from_secs(3), Duration::from_secs(3)),
        (Duration::from_secs(600), MAX_SESSION_TIMEOUT),
    ] {
        let c = zk.connect(asked).await.unwrap();
        assert_eq!(c.store.info().session_timeout, granted, "asked {asked:?}");
        let _ = c.store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_deletes_ephemerals_before_it_returns() {
    let zk = backend().await;
    let root = unique_root("zkclose");
    let observer = zk.connect(LONG).await.unwrap();
    observer.store.create_all(&root).await.unwrap();
    for round in 0..5 {
        let owner = zk.connect(LONG).await.unwrap();
        let s = owner.store.live_session().unwrap();
        let e = root.child(&format!("e{round}")).unwrap();
        owner
            .store
            .create(&e, b"", CreateMode::Ephemeral(s))
            .await
            .unwrap();
        owner.store.close().await.unwrap();
        assert_eq!(observer.store.get(&e).await.unwrap(), None, "round {round}");
    }
    let _ = observer.store.delete_all(&root).await;
    let _ = observer.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_reports_expired_then_a_new_session_and_never_reuses_the_old_one() {
    let zk = backend().await;
    let root = unique_root("zkrenew");
    let c = zk.connect(LONG).await.unwrap();
    c.store.create_all(&root).await.unwrap();
    let old = c.store.live_session().unwrap();
    let mut events = c.store.session_events();
    let mut seen = vec![*events.borrow_and_update()];
    let start = Instant::now();
    c.control.expire().await.unwrap();
    let collect = async {
        while !matches!(seen.last(), Some(SessionState::Connected(t)) if *t != old) {
            events.changed().await.unwrap();
            seen.push(*events.borrow_and_update());
        }
    };
    tokio::time::timeout(PATIENCE, collect).await.unwrap();
    eprintln!("expire → new session in {:?}: {seen:?}", start.elapsed());
    assert!(seen.contains(&SessionState::Expired(old)), "{seen:?}");
    let SessionState::Connected(new) = *seen.last().unwrap() else {
        unreachable!()
    };
    let e = root.child("e").unwrap();
    let err = c
        .store
        .create(&e, b"", CreateMode::Ephemeral(old))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SessionExpired { session } if session == old.0),
        "{err:?}"
    );
    c.store
        .create(&e, b"", CreateMode::Ephemeral(new))
        .await
        .unwrap();
    let _ = c.store.delete_all(&root).await;
    let _ = c.store.close().await;
}

/// Time from a cut connection to the store reporting `Suspended`, and
/// requests failing fast meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_is_detected_within_half_the_session_timeout() {
    let zk = backend().await;
    for timeout in [Duration::from_secs(1), Duration::from_secs(4)] {
        let c = zk.connect(timeout).await.unwrap();
        let s = c.store.live_session().unwrap();
        c.store.get(&Path::root()).await.unwrap();
        let cut = Instant::now();
        c.control.suspend().await.unwrap();
        wait_for_state(&c, timeout, |st| st == SessionState::Suspended(s)).await;
        let detected = cut.elapsed();
        let asked = Instant::now();
        let err = c.store.get(&Path::root()).await.unwrap_err();
        let failed_in = asked.elapsed();
        eprintln!(
            "session {timeout:?}: suspension detected after {detected:?}; a request then failed in {failed_in:?}"
        );
        assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
        assert!(failed_in < Duration::from_millis(50), "{failed_in:?}");
        assert!(
            detected < timeout / 2 + Duration::from_millis(150),
            "{detected:?}"
        );
        c.control.resume().await.unwrap();
        wait_for_state(&c, PATIENCE, |st| st.is_connected()).await;
        let _ = c.store.close().await;
    }
}

/// Time from a cut connection to the server deleting the session's
/// ephemeral node, for a 1 s session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_goes_about_one_session_timeout_after_the_connection_is_cut() {
    let zk = backend().await;
    let root = unique_root("zkgone");
    let observer = zk.connect(LONG).await.unwrap();
    observer.store.create_all(&root).await.unwrap();
    let timeout = Duration::from_secs(1);
    let owner = zk.connect(timeout).await.unwrap();
    let s = owner.store.live_session().unwrap();
    let e = root.child("e").unwrap();
    owner
        .store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let cut = Instant::now();
    owner.control.suspend().await.unwrap();
    let mut gone = None;
    while cut.elapsed() < timeout + PATIENCE {
        if observer.store.get(&e).await.unwrap().is_none() {
            gone = Some(cut.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let gone = gone.expect("ephemeral outlived its session");
    eprintln!("session {timeout:?}: ephemeral gone {gone:?} after the cut");
    assert!(
        gone >= timeout / 2 && gone <= timeout + Duration::from_millis(600),
        "{gone:?}"
    );
    owner.control.resume().await.unwrap();
    wait_for_state(
        &owner,
        PATIENCE,
        |st| matches!(st, SessionState::Connected(t) if t != s),
    )
    .await;

    // Expired on purpose: gone by the time expire() returns.
    let t = owner.store.live_session().unwrap();
    owner
        .store
        .create(&e, b"", CreateMode::Ephemeral(t))
        .await
        .unwrap();
    let start = Instant::now();
    owner.control.expire().await.unwrap();
    let took = start.elapsed();
    assert_eq!(observer.store.get(&e).await.unwrap(), None);
    eprintln!("expire(): session ended and ephemeral gone in {took:?}");
    let _ = owner.store.close().await;
    let _ = observer.store.delete_all(&root).await;
    let _ = observer.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_deadline_follows_the_last_answered_request() {
    let zk = backend().await;
    let c = zk.connect(Duration::from_secs(2)).await.unwrap();
    let timeout = c.store.info().session_timeout;
    let before = tokio::time::Instant::now();
    c.store.get(&Path::root()).await.unwrap();
    let after = tokio::time::Instant::now();
    let deadline = c.store.session_deadline().unwrap();
    assert!(deadline >= before + timeout && deadline <= after + timeout);
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.store.children(&Path::root()).await.unwrap();
    assert!(c.store.session_deadline().unwrap() > deadline);
    c.control.suspend().await.unwrap();
    let s = c.store.live_session().unwrap();
    wait_for_state(&c, timeout, |st| st == SessionState::Suspended(s)).await;
    assert_eq!(
        c.store.session_deadline(),
        None,
        "no deadline while suspended"
    );
    c.control.resume().await.unwrap();
    let _ = c.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_store_handle_ends_its_session() {
    let zk = backend().await;
    let root = unique_root("zkdrop");
    let observer = zk.connect(LONG).await.unwrap();
    observer.store.create_all(&root).await.unwrap();
    let store = tenure_zookeeper::ZkConfig::new(zk.upstream().to_string())
        .with_session_timeout(LONG)
        .connect()
        .await
        .unwrap();
    let s = store.live_session().unwrap();
    let e = root.child("e").unwrap();
    store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (_, watch) = store.get_and_watch(&e).await.unwrap();
    let dropped = Instant::now();
    drop(store);
    assert_eq!(
        tokio::time::timeout(PATIENCE, watch).await.unwrap(),
        tenure_core::WatchEvent::Lost
    );
    while observer.store.get(&e).await.unwrap().is_some() {
        assert!(
            dropped.elapsed() < LONG / 2,
            "session outlived its dropped store"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "dropped store: ephemeral gone after {:?}",
        dropped.elapsed()
    );
    let _ = observer.store.delete_all(&root).await;
    let _ = observer.store.close().await;
}

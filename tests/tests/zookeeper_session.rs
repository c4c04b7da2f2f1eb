//! ZooKeeper sessions through the store, against a real server: negotiated
//! timeouts, close, a new session after expiry, the session deadline, and
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

/// Samples the session deadline every 10 ms for `span`: it never goes
/// back, never lies beyond now + `timeout`, and (when `lag` is given)
/// never falls further behind than `lag`. Returns the first and last.
async fn follow_deadline(
    store: &dyn CoordinationStore,
    span: Duration,
    timeout: Duration,
    lag: Option<Duration>,
) -> (tokio::time::Instant, tokio::time::Instant) {
    let first = store.session_deadline().expect("a deadline");
    let (start, mut last) = (Instant::now(), first);
    while start.elapsed() < span {
        let now = tokio::time::Instant::now();
        let d = store.session_deadline().expect("a deadline");
        assert!(d >= last, "the deadline went back by {:?}", last - d);
        assert!(
            d <= now + timeout,
            "deadline {:?} beyond now + timeout",
            d - now
        );
        if let Some(lag) = lag {
            let behind = (now + timeout).saturating_duration_since(d);
            assert!(
                behind <= lag,
                "deadline {behind:?} behind now + timeout, over {lag:?}"
            );
        }
        last = d;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (first, last)
}

/// The deadline counts from what the leader has provably seen: the store
/// renews on its own, so it keeps moving on an idle store, within the
/// reported renewal period (plus a tenth of the timeout for answer
/// latencies); while the connection is cut it stays where it was, and it
/// moves again once the connection is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_deadline_moves_with_the_stores_own_renewal_and_stops_while_cut() {
    let zk = backend().await;
    let c = zk.connect(Duration::from_secs(2)).await.unwrap();
    let info = c.store.info();
    let timeout = info.session_timeout;
    let lag = info.renewal_period + timeout / 10;
    assert!(
        info.renewal_period > Duration::ZERO && info.renewal_period < timeout,
        "{info:?}"
    );
    // The first proof takes a ping bound and three periods to come.
    tokio::time::sleep(info.renewal_period).await;
    let (first, last) = follow_deadline(&*c.store, timeout, timeout, Some(lag)).await;
    assert!(last > first, "the deadline did not move on an idle store");

    c.control.suspend().await.unwrap();
    let cut = tokio::time::Instant::now();
    let s = c.store.live_session().unwrap();
    wait_for_state(&c, timeout, |st| st == SessionState::Suspended(s)).await;
    let (held, still) = follow_deadline(&*c.store, timeout / 4, timeout, None).await;
    assert_eq!(
        held, still,
        "the deadline moved while the connection was cut"
    );
    assert!(held <= cut + timeout);
    c.control.resume().await.unwrap();
    wait_for_state(&c, timeout, |st| st == SessionState::Connected(s)).await;
    let start = tokio::time::Instant::now();
    while c.store.session_deadline().unwrap() <= still {
        assert!(
            start.elapsed() < lag,
            "the deadline stayed put after the resume"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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

/// Giving the session up on a real server: by the time `restart_session`
/// returns, the server has ended the session (its ephemeral node is gone
/// for everyone, its pending watch fired `Lost`) and the store reports it
/// `Expired`; then a new session connects and the store works under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_session_ends_the_session_at_once_then_a_new_one_connects() {
    let zk = backend().await;
    let root = unique_root("zkrestart");
    let observer = zk.connect(LONG).await.unwrap();
    observer.store.create_all(&root).await.unwrap();
    let c = zk.connect(LONG).await.unwrap();
    let s = c.store.live_session().unwrap();
    let e = root.child("e").unwrap();
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (_, watch) = c
        .store
        .get_and_watch(&root.child("w").unwrap())
        .await
        .unwrap();
    let mut events = c.store.session_events();
    let seen = tokio::spawn(async move {
        let mut seen = vec![*events.borrow_and_update()];
        while !matches!(seen.last(), Some(SessionState::Connected(t)) if *t != s) {
            if events.changed().await.is_err() {
                break;
            }
            seen.push(*events.borrow_and_update());
        }
        seen
    });

    let start = Instant::now();
    c.store.restart_session().await.unwrap();
    let took = start.elapsed();
    // Nothing holds the session's client back from closing (a renewal
    // round of this 10 s session waits 3.1 s between its requests).
    assert!(
        took < Duration::from_secs(1),
        "restart_session took {took:?}"
    );
    let now = c.store.session_state();
    assert!(
        now == SessionState::Expired(s) || matches!(now, SessionState::Connected(t) if t != s),
        "state {now:?} once restart_session returned"
    );
    assert_eq!(
        observer.store.get(&e).await.unwrap(),
        None,
        "ephemeral outlived restart"
    );
    assert_eq!(
        tokio::time::timeout(PATIENCE, watch).await.unwrap(),
        tenure_core::WatchEvent::Lost
    );
    let seen = tokio::time::timeout(PATIENCE, seen).await.unwrap().unwrap();
    let t = seen.last().and_then(|st| st.session()).unwrap();
    assert_ne!(t, s);
    let expired = seen.iter().position(|st| *st == SessionState::Expired(s));
    assert!(expired.is_some(), "Expired({s}) never reported: {seen:?}");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(t))
        .await
        .unwrap();
    assert_eq!(
        observer
            .store
            .get(&e)
            .await
            .unwrap()
            .unwrap()
            .ephemeral_owner,
        Some(t)
    );
    assert!(c.store.session_deadline().is_some());
    eprintln!("restart_session: session ended in {took:?}, then {seen:?}");
    let _ = c.store.close().await;
    let _ = observer.store.delete_all(&root).await;
    let _ = observer.store.close().await;
}

use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Error, Op, SessionState, WatchEvent};
use tokio::time::Instant;

use super::{TIMEOUT, advance, connect, ephemeral, fired, p, session};
use crate::MemoryServer;

#[tokio::test(start_paused = true)]
async fn expire_deletes_ephemerals_fires_watches_and_renews_at_once() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    let s = session(&a);
    let (_, mut own) = a.get_and_watch(&p("/other")).await.unwrap();
    let (_, mut others) = b.get_and_watch(&p("/eph")).await.unwrap();

    a.expire_session();

    let t = session(&a);
    assert_ne!(s, t);
    assert_eq!(a.session_state(), SessionState::Connected(t));
    assert_eq!(fired(&mut own).await, Some(WatchEvent::Lost));
    assert_eq!(fired(&mut others).await, Some(WatchEvent::Deleted));
    assert!(b.get(&p("/eph")).await.unwrap().is_none());
    let err = a.create(&p("/again"), b"", CreateMode::Ephemeral(s)).await;
    assert!(matches!(err, Err(Error::SessionExpired { session }) if session == s.0));
}

#[tokio::test(start_paused = true)]
async fn expire_is_seen_as_expired_then_connected_by_a_state_observer() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let s = session(&a);
    let mut events = a.session_events();
    a.expire_session();
    events.changed().await.unwrap();
    let now = *events.borrow_and_update();
    assert!(
        matches!(now, SessionState::Connected(t) if t != s),
        "{now:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn suspended_client_fails_requests_and_resume_keeps_the_session() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    b.create(&p("/n"), b"1", CreateMode::Persistent)
        .await
        .unwrap();
    let s = session(&a);
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();

    a.suspend();
    assert_eq!(a.session_state(), SessionState::Suspended(s));
    assert!(matches!(
        a.get(&p("/n")).await,
        Err(Error::ConnectionLost { .. })
    ));
    b.set(&p("/n"), b"2", None).await.unwrap();
    advance(TIMEOUT - Duration::from_millis(1)).await;
    assert_eq!(fired(&mut w).await, None, "held while suspended");
    assert!(b.get(&p("/eph")).await.unwrap().is_some());

    a.resume();
    assert_eq!(a.session_state(), SessionState::Connected(s));
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Changed));
    advance(TIMEOUT * 3).await;
    assert!(
        b.get(&p("/eph")).await.unwrap().is_some(),
        "resume cancelled expiry"
    );
}

#[tokio::test(start_paused = true)]
async fn suspension_past_the_timeout_expires_the_session_on_tokio_time() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    let s = session(&a);
    let (_, mut w) = a.get_and_watch(&p("/eph")).await.unwrap();
    let cut = Instant::now();
    a.suspend();
    assert_eq!(a.session_deadline(), Some(cut + TIMEOUT));

    advance(TIMEOUT - Duration::from_millis(1)).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_some());
    advance(Duration::from_millis(2)).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_none());
    assert_eq!(server.session_count(), 1);
    assert_eq!(
        a.session_state(),
        SessionState::Suspended(s),
        "the client does not know yet"
    );
    assert_eq!(fired(&mut w).await, None);

    let events = a.session_events();
    a.resume();
    let t = session(&a);
    assert_ne!(s, t);
    assert!(events.has_changed().unwrap());
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Lost));
    a.create(&p("/eph"), b"", CreateMode::Ephemeral(t))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_second_cut_is_timed_from_its_own_start() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    a.suspend();
    advance(TIMEOUT / 2).await;
    a.resume();
    a.suspend();
    advance(TIMEOUT * 3 / 4).await;
    assert!(
        b.get(&p("/eph")).await.unwrap().is_some(),
        "the first cut's timer must not end the session"
    );
    advance(TIMEOUT / 2).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn expire_while_suspended_is_learnt_on_resume() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let s = session(&a);
    a.suspend();
    let at = Instant::now();
    a.expire_session();
    assert_eq!(a.session_state(), SessionState::Suspended(s));
    assert_eq!(a.session_deadline(), Some(at));
    a.resume();
    assert!(matches!(a.session_state(), SessionState::Connected(t) if t != s));
}

#[tokio::test(start_paused = true)]
async fn delayed_watch_events_arrive_after_the_delay() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    b.create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    a.delay_watches(Duration::from_millis(300));
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();
    let (_, mut unaffected) = b.get_and_watch(&p("/n")).await.unwrap();
    b.set(&p("/n"), b"x", None).await.unwrap();
    assert_eq!(fired(&mut unaffected).await, Some(WatchEvent::Changed));
    advance(Duration::from_millis(299)).await;
    assert_eq!(fired(&mut w).await, None);
    advance(Duration::from_millis(2)).await;
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Changed));

    a.delay_watches(Duration::ZERO);
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();
    b.delete(&p("/n"), None).await.unwrap();
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Deleted));
}

#[tokio::test(start_paused = true)]
async fn dropped_watch_events_never_arrive_but_lost_does_at_session_end() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    b.create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    a.drop_watches(true);
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();
    b.set(&p("/n"), b"x", None).await.unwrap();
    advance(Duration::from_secs(60)).await;
    assert_eq!(fired(&mut w).await, None);

    a.drop_watches(false);
    let (_, mut kept) = a.children_and_watch(&p("/n")).await.unwrap();
    b.create(&p("/n/c"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(fired(&mut kept).await, Some(WatchEvent::ChildrenChanged));

    a.expire_session();
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Lost));
}

#[tokio::test(start_paused = true)]
async fn requests_are_counted_per_client_and_for_the_server() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    a.create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    a.set(&p("/n"), b"", Some(tenure_core::Version(999)))
        .await
        .unwrap_err();
    a.get(&p("/n")).await.unwrap();
    let _ = a.children_and_watch(&p("/n")).await.unwrap();
    b.multi(&[]).await.unwrap();
    a.suspend();
    a.get(&p("/n")).await.unwrap_err();
    let big = vec![0; server.config().max_payload + 1];
    b.create(&p("/big"), &big, CreateMode::Persistent)
        .await
        .unwrap_err();

    let ca = a.op_counts();
    assert_eq!((ca.reads, ca.writes, ca.multis), (2, 2, 0));
    assert_eq!(b.op_counts().multis, 1);
    assert_eq!(server.op_counts().total(), 5);
    assert_eq!((server.op_counts() - ca).mutations(), 1);
}

#[tokio::test(start_paused = true)]
async fn lost_answers_apply_the_write_and_fail_only_the_matching_ones() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let s = session(&a);
    for path in ["/o", "/x"] {
        a.create(&p(path), b"", CreateMode::Persistent)
            .await
            .unwrap();
    }
    let (_, mut w) = a.children_and_watch(&p("/o")).await.unwrap();

    a.lose_answers(&p("/o"), 2);
    // Reads and writes elsewhere are answered.
    assert!(a.get(&p("/o")).await.unwrap().is_some());
    a.create(&p("/x/1"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    // A create under the path: applied, answer lost.
    let lost = a.create(&p("/o/1"), b"e", CreateMode::Ephemeral(s)).await;
    assert!(
        matches!(lost, Err(Error::ConnectionLost { .. })),
        "{lost:?}"
    );
    let node = a.get(&p("/o/1")).await.unwrap().expect("applied");
    assert_eq!(node.ephemeral_owner, Some(s));
    assert_eq!(fired(&mut w).await, Some(WatchEvent::ChildrenChanged));
    // A multi writing under it (checking elsewhere): applied, answer lost.
    let ops = [
        Op::Check {
            path: p("/x"),
            version: None,
        },
        Op::Set {
            path: p("/o/1"),
            data: b"f".to_vec(),
            version: None,
        },
    ];
    let lost = a.multi(&ops).await;
    assert!(
        matches!(lost, Err(Error::ConnectionLost { .. })),
        "{lost:?}"
    );
    assert_eq!(a.get(&p("/o/1")).await.unwrap().unwrap().data, b"f");
    // Two answers lost: the next write is answered, and nothing else
    // changed about the client.
    a.delete(&p("/o/1"), None).await.unwrap();
    assert_eq!(a.session_state(), SessionState::Connected(s));
    // Zero switches it off.
    a.lose_answers(&p("/o"), 1);
    a.lose_answers(&p("/o"), 0);
    a.create(&p("/o/2"), b"", CreateMode::Persistent)
        .await
        .unwrap();
}

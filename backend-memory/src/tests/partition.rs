//! The silent partition: requests wait, nothing is reported, the server
//! times the session out.

use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Error, SessionState, WatchEvent};
use tokio::time::Instant;

use super::{TIMEOUT, advance, connect, ephemeral, fired, p, session};
use crate::MemoryServer;

#[tokio::test(start_paused = true)]
async fn partition_holds_requests_and_events_and_reports_nothing_until_healed() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    b.create(&p("/n"), b"1", CreateMode::Persistent)
        .await
        .unwrap();
    let s = session(&a);
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();
    let before = a.op_counts();

    a.partition();
    assert_eq!(a.session_state(), SessionState::Connected(s));
    let pending = {
        let a = a.clone();
        tokio::spawn(async move { a.get(&p("/eph")).await })
    };
    b.set(&p("/n"), b"2", None).await.unwrap();
    advance(TIMEOUT / 2).await;
    assert!(
        !pending.is_finished(),
        "a partitioned request is not answered"
    );
    assert_eq!(a.op_counts(), before, "nothing reached the server");
    assert_eq!(a.session_state(), SessionState::Connected(s));
    assert_eq!(
        a.session_deadline(),
        Some(Instant::now() + TIMEOUT),
        "the client has not noticed"
    );
    assert_eq!(fired(&mut w).await, None, "events are held");

    a.resume();
    let node = pending.await.unwrap().unwrap();
    assert!(node.is_some(), "healed within the session: answered");
    assert_eq!(a.session_state(), SessionState::Connected(s));
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Changed));
    advance(TIMEOUT * 2).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_some(), "session kept");
}

#[tokio::test(start_paused = true)]
async fn partition_past_the_timeout_ends_the_session_and_fails_waiting_requests() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    let s = session(&a);
    a.partition();
    let pending = {
        let a = a.clone();
        tokio::spawn(async move { a.get(&p("/eph")).await })
    };
    advance(TIMEOUT - Duration::from_millis(1)).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_some());
    advance(Duration::from_millis(2)).await;
    assert!(
        b.get(&p("/eph")).await.unwrap().is_none(),
        "the server timed the session out"
    );
    assert_eq!(
        a.session_state(),
        SessionState::Connected(s),
        "the client still knows nothing"
    );
    assert!(!pending.is_finished());

    a.resume();
    assert!(matches!(
        pending.await.unwrap(),
        Err(Error::ConnectionLost { .. })
    ));
    let t = session(&a);
    assert_ne!(s, t);
    a.get(&p("/eph")).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn closing_a_partitioned_client_fails_its_waiting_requests() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    a.partition();
    let pending = {
        let a = a.clone();
        tokio::spawn(async move { a.get(&p("/x")).await })
    };
    advance(Duration::from_millis(10)).await;
    a.close().await.unwrap();
    assert!(pending.await.unwrap().is_err());
}

use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Error, SessionState, WatchEvent};

use super::{TIMEOUT, advance, connect, ephemeral, fired, p, session};
use crate::{MemoryConfig, MemoryServer};

#[tokio::test(start_paused = true)]
async fn close_deletes_ephemerals_fires_lost_and_refuses_requests() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    let (_, mut own) = a.get_and_watch(&p("/x")).await.unwrap();
    let (_, mut other) = b.get_and_watch(&p("/eph")).await.unwrap();
    a.close().await.unwrap();
    assert_eq!(a.session_state(), SessionState::Closed);
    assert_eq!(fired(&mut own).await, Some(WatchEvent::Lost));
    assert_eq!(fired(&mut other).await, Some(WatchEvent::Deleted));
    assert!(matches!(a.get(&p("/eph")).await, Err(Error::Closed)));
    assert_eq!(a.session_deadline(), None);
    a.close().await.unwrap();
    a.expire_session();
    a.suspend();
    a.resume();
    assert_eq!(a.session_state(), SessionState::Closed);
    assert_eq!(server.session_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn close_while_suspended_leaves_the_session_to_time_out() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    let (_, mut w) = a.get_and_watch(&p("/eph")).await.unwrap();
    a.suspend();
    a.close().await.unwrap();
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Lost));
    assert!(b.get(&p("/eph")).await.unwrap().is_some());
    advance(TIMEOUT + Duration::from_millis(1)).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_none());
    assert_eq!(server.session_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_is_a_crash_the_server_times_out() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    ephemeral(&a, "/eph").await;
    let clone = a.clone();
    drop(a);
    assert!(clone.session_state().is_connected());
    drop(clone);
    advance(TIMEOUT - Duration::from_millis(1)).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_some());
    advance(Duration::from_millis(2)).await;
    assert!(b.get(&p("/eph")).await.unwrap().is_none());
    assert_eq!(server.session_count(), 1);
    assert_eq!(
        server.lock().clients.len(),
        1,
        "the dropped client is forgotten"
    );
}

#[tokio::test(start_paused = true)]
async fn session_timeouts_are_negotiated_and_sessions_limited() {
    let server = MemoryServer::with_config(MemoryConfig {
        min_session_timeout: Duration::from_millis(100),
        max_session_timeout: Duration::from_secs(10),
        max_sessions: 2,
        ..MemoryConfig::default()
    });
    let short = server.connect(Duration::ZERO).await.unwrap();
    let long = server.connect(Duration::from_secs(60)).await.unwrap();
    assert_eq!(short.info().session_timeout, Duration::from_millis(100));
    assert_eq!(long.info().session_timeout, Duration::from_secs(10));
    let err = server.connect(TIMEOUT).await.unwrap_err();
    assert!(matches!(&err, Error::ConnectionLost { .. }), "{err}");
    assert!(err.to_string().contains("limit of 2"), "{err}");
    short.expire_session();
    assert!(
        server.connect(TIMEOUT).await.is_err(),
        "renewal keeps the count"
    );
    short.close().await.unwrap();
    server.connect(TIMEOUT).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn connected_deadline_is_now_plus_the_timeout() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let now = tokio::time::Instant::now();
    assert_eq!(a.session_deadline(), Some(now + TIMEOUT));
    advance(Duration::from_secs(5)).await;
    assert_eq!(
        a.session_deadline(),
        Some(now + Duration::from_secs(5) + TIMEOUT)
    );
}

#[tokio::test(start_paused = true)]
async fn display_and_debug_name_the_session() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let s = session(&a);
    assert!(a.to_string().contains(&s.to_string()), "{a}");
    assert!(format!("{a:?}").contains("Connected"), "{a:?}");
    assert!(server.to_string().contains("1 sessions"), "{server}");
    assert!(format!("{server:?}").contains("MemoryServer"));
    a.close().await.unwrap();
    assert!(a.to_string().contains("closed"), "{a}");
}

#[tokio::test(start_paused = true)]
async fn ephemeral_of_another_session_is_refused() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    let sb = session(&b);
    let err = a
        .create(&p("/x"), b"", CreateMode::Ephemeral(sb))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SessionExpired { session } if session == sb.0));
    assert!(b.get(&p("/x")).await.unwrap().is_none());
}

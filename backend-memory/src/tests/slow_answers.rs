//! Delayed answers: the server handles a request at once, its answer
//! reaches the client later.

use std::future::Future;
use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Error, Result, SessionState, WatchEvent};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{TIMEOUT, advance, connect, fired, p, session};
use crate::{MemoryServer, MemoryStore};

const DELAY: Duration = Duration::from_millis(1100);

/// Runs a request of (a clone of) `store` on its own task; yields its
/// result and when it came.
fn send<T, F>(
    store: &MemoryStore,
    request: impl FnOnce(MemoryStore) -> F,
) -> JoinHandle<(Result<T>, Instant)>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let request = request(store.clone());
    tokio::spawn(async move {
        let out = request.await;
        (out, Instant::now())
    })
}

#[tokio::test(start_paused = true)]
async fn a_delayed_answer_comes_exactly_the_delay_later_after_the_write_was_applied() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    let s = session(&a);
    a.delay_answers(DELAY);
    let sent = Instant::now();
    let pending = send(&a, |a| async move {
        a.create(&p("/n"), b"x", CreateMode::Ephemeral(s)).await
    });
    advance(Duration::from_millis(1)).await;
    let node = b.get(&p("/n")).await.unwrap().expect("applied at once");
    assert_eq!(node.ephemeral_owner, Some(s));
    assert_eq!(a.op_counts().writes, 1, "counted at once");
    advance(DELAY - Duration::from_millis(2)).await;
    assert!(!pending.is_finished(), "the answer is still on its way");
    assert_eq!(a.session_state(), SessionState::Connected(s));
    assert_eq!(a.session_deadline(), Some(Instant::now() + TIMEOUT));

    let (version, at) = pending.await.unwrap();
    assert_eq!(version.unwrap(), node.version);
    assert_eq!(at - sent, DELAY);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_read_arms_its_watch_when_sent() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let b = connect(&server).await;
    b.create(&p("/n"), b"1", CreateMode::Persistent)
        .await
        .unwrap();
    a.delay_answers(DELAY);
    let pending = send(&a, |a| async move { a.get_and_watch(&p("/n")).await });
    advance(Duration::from_millis(1)).await;
    b.set(&p("/n"), b"2", None).await.unwrap();
    let (out, _) = pending.await.unwrap();
    let (node, mut watch) = out.unwrap();
    assert_eq!(node.unwrap().data, b"1", "read when sent");
    assert_eq!(fired(&mut watch).await, Some(WatchEvent::Changed));
}

#[tokio::test(start_paused = true)]
async fn write_answers_alone_can_be_delayed() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    a.delay_answers(Duration::from_millis(100));
    a.delay_write_answers(DELAY);
    let sent = Instant::now();
    a.get(&p("/")).await.unwrap();
    assert_eq!(sent.elapsed(), Duration::from_millis(100));
    let sent = Instant::now();
    a.create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(sent.elapsed(), DELAY);
    // A multi that only checks is a read.
    let sent = Instant::now();
    a.multi(&[]).await.unwrap();
    assert_eq!(sent.elapsed(), Duration::from_millis(100));

    a.delay_write_answers(Duration::ZERO);
    let sent = Instant::now();
    a.delete(&p("/n"), None).await.unwrap();
    assert_eq!(sent.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn zero_switches_the_delay_off_and_answers_on_their_way_keep_theirs() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    a.delay_answers(DELAY);
    let sent = Instant::now();
    let pending = send(&a, |a| async move { a.get(&p("/")).await });
    advance(Duration::from_millis(1)).await;
    a.delay_answers(Duration::ZERO);
    let now = Instant::now();
    a.get(&p("/")).await.unwrap();
    assert_eq!(now.elapsed(), Duration::ZERO, "answered at once");
    let (out, at) = pending.await.unwrap();
    out.unwrap();
    assert_eq!(at - sent, DELAY);
}

#[tokio::test(start_paused = true)]
async fn an_answer_on_its_way_is_lost_when_the_connection_drops() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let s = session(&a);
    a.delay_answers(DELAY);
    let pending = send(&a, |a| async move {
        a.create(&p("/n"), b"", CreateMode::Persistent).await
    });
    advance(Duration::from_millis(100)).await;
    a.suspend();
    a.resume();
    let (out, _) = pending.await.unwrap();
    assert!(matches!(out, Err(Error::ConnectionLost { .. })), "{out:?}");
    assert_eq!(
        a.session_state(),
        SessionState::Connected(s),
        "same session"
    );
    a.delay_answers(Duration::ZERO);
    assert!(a.get(&p("/n")).await.unwrap().is_some(), "still applied");

    // Likewise when the session ends.
    a.delay_answers(DELAY);
    let pending = send(&a, |a| async move { a.get(&p("/n")).await });
    advance(Duration::from_millis(100)).await;
    a.expire_session();
    let (out, _) = pending.await.unwrap();
    assert!(matches!(out, Err(Error::ConnectionLost { .. })), "{out:?}");

    // A request refused by a cut connection fails at once.
    a.delay_answers(DELAY);
    a.suspend();
    let sent = Instant::now();
    let refused = a.get(&p("/n")).await;
    assert!(matches!(refused, Err(Error::ConnectionLost { .. })));
    assert_eq!(sent.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn an_answer_on_its_way_waits_out_a_partition() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let delay = TIMEOUT / 4;
    a.delay_answers(delay);
    let sent = Instant::now();
    let pending = send(&a, |a| async move { a.get(&p("/")).await });
    advance(delay / 2).await;
    a.partition();
    advance(delay).await;
    assert!(!pending.is_finished(), "held by the partition");
    a.resume();
    let (out, at) = pending.await.unwrap();
    out.unwrap();
    assert_eq!(at - sent, delay * 3 / 2, "answered when healed");
}

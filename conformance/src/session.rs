//! Clause: session state as a stream. Connected on connect; `Closed` after
//! close; after expiry or a session given up (`restart_session`) a new
//! session with a new id; when the backend can cut a connection:
//! `Suspended` with requests failing `ConnectionLost`, the same session
//! back if resumed in time, expiry if not. Renewal: `fit_renewal` keeps
//! within what was asked, and a store that renews on its own keeps its
//! deadline within its renewal period.

use std::time::Duration;

use tenure_core::{CreateMode, Error, Op, SessionState, StoreExt};

use super::{
    LONG_SESSION, PATIENCE, at, connect, eventually, session_of, setup, teardown, wait_state,
};
use crate::backend::{Backend, skipped};

/// The shortest session timeout the suite asks for.
fn short_session(backend: &dyn Backend) -> Duration {
    backend
        .capabilities()
        .min_session_timeout
        .max(Duration::from_millis(200))
}

/// A new client is connected with a session, on every view of the state.
pub async fn new_client_is_connected_with_a_session(backend: &dyn Backend) {
    let c = connect(backend, LONG_SESSION).await;
    let s = session_of(&c);
    assert_eq!(c.store.session_state(), SessionState::Connected(s));
    assert_eq!(
        *c.store.session_events().borrow(),
        SessionState::Connected(s)
    );
    assert_eq!(c.store.wait_connected(PATIENCE).await.unwrap(), s);
    let other = connect(backend, LONG_SESSION).await;
    assert_ne!(session_of(&other), s, "two clients share a session");
    let info = c.store.info();
    assert!(info.max_payload >= 1024, "{info:?}");
    assert!(info.session_timeout > Duration::ZERO, "{info:?}");
    let _ = other.store.close().await;
    let _ = c.store.close().await;
}

/// While connected, a known session deadline lies ahead, within the
/// session timeout.
pub async fn session_deadline_when_known_lies_within_the_timeout(backend: &dyn Backend) {
    let c = connect(backend, LONG_SESSION).await;
    c.store.get(&tenure_core::Path::root()).await.unwrap();
    if let Some(deadline) = c.store.session_deadline() {
        let now = tokio::time::Instant::now();
        let timeout = c.store.info().session_timeout;
        assert!(
            deadline > now,
            "deadline {deadline:?} already passed at {now:?}"
        );
        assert!(
            deadline <= now + timeout,
            "deadline beyond the session timeout"
        );
    }
    let _ = c.store.close().await;
}

/// Closing makes the state `Closed`; every later request fails with
/// `Closed`; closing again is harmless.
pub async fn close_makes_state_closed_and_requests_fail_with_closed(backend: &dyn Backend) {
    let (keeper, root) = setup(backend).await;
    let c = connect(backend, LONG_SESSION).await;
    let mut events = c.store.session_events();
    c.store.close().await.unwrap();
    assert_eq!(c.store.session_state(), SessionState::Closed);
    assert_eq!(*events.borrow_and_update(), SessionState::Closed);
    let n = at(&root, "n");
    let closed = |r: Result<(), Error>, what: &str| {
        assert!(matches!(r, Err(Error::Closed)), "{what} after close: {r:?}");
    };
    closed(c.store.get(&n).await.map(drop), "get");
    closed(
        c.store.get_many(std::slice::from_ref(&n)).await.map(drop),
        "get_many",
    );
    closed(c.store.get_and_watch(&n).await.map(drop), "get_and_watch");
    closed(
        c.store
            .create(&n, b"", CreateMode::Persistent)
            .await
            .map(drop),
        "create",
    );
    closed(c.store.set(&root, b"", None).await.map(drop), "set");
    closed(c.store.delete(&root, None).await, "delete");
    closed(c.store.children(&root).await.map(drop), "children");
    closed(
        c.store.children_and_watch(&root).await.map(drop),
        "children_and_watch",
    );
    closed(
        c.store
            .multi(&[Op::Check {
                path: root.clone(),
                version: None,
            }])
            .await
            .map(drop),
        "multi",
    );
    c.store.close().await.unwrap();
    assert_eq!(keeper.store.get(&n).await.unwrap(), None);
    teardown(&keeper, &root).await;
}

/// After the server ends a session: the ephemeral nodes are gone, and the
/// client reports a new connected session with a different id, under which
/// it works normally.
pub async fn expiry_ends_ephemerals_then_a_new_session_connects(backend: &dyn Backend) {
    if !backend.capabilities().expire {
        return skipped(
            backend,
            "expiry_ends_ephemerals_then_a_new_session_connects",
            "cannot expire a session on demand",
        );
    }
    let (keeper, root) = setup(backend).await;
    let c = connect(backend, LONG_SESSION).await;
    let s = session_of(&c);
    let e = at(&root, "e");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    c.control.expire().await.unwrap();
    let state = wait_state(
        &c,
        PATIENCE,
        "a new session after expiry",
        |st| matches!(st, SessionState::Connected(t) if t != s),
    )
    .await;
    assert_eq!(
        keeper.store.get(&e).await.unwrap(),
        None,
        "ephemeral survived expiry"
    );
    let t = state.session().unwrap();
    c.store
        .create(&e, b"", CreateMode::Ephemeral(t))
        .await
        .unwrap();
    assert_eq!(
        keeper.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(t)
    );
    let _ = c.store.close().await;
    teardown(&keeper, &root).await;
}

/// A cut connection: the state becomes `Suspended` with the same session
/// and requests fail with `ConnectionLost`. Resumed within the timeout, the
/// same session is back and its ephemeral nodes were never gone.
pub async fn resume_within_timeout_keeps_session_and_ephemerals(backend: &dyn Backend) {
    if !backend.capabilities().suspend {
        return skipped(
            backend,
            "resume_within_timeout_keeps_session_and_ephemerals",
            "cannot cut a connection on demand",
        );
    }
    let (keeper, root) = setup(backend).await;
    let c = connect(backend, LONG_SESSION).await;
    let s = session_of(&c);
    let e = at(&root, "e");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    c.control.suspend().await.unwrap();
    wait_state(&c, PATIENCE, "suspended", |st| {
        st == SessionState::Suspended(s)
    })
    .await;
    let err = tokio::time::timeout(PATIENCE, c.store.get(&e))
        .await
        .expect("a request while suspended fails in time")
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert_eq!(
        keeper.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(s)
    );

    c.control.resume().await.unwrap();
    wait_state(&c, PATIENCE, "the same session back", |st| {
        st == SessionState::Connected(s)
    })
    .await;
    assert_eq!(
        c.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(s)
    );
    let _ = c.store.close().await;
    teardown(&keeper, &root).await;
}

/// A connection cut for longer than the session timeout: the server ends
/// the session (its ephemeral nodes go) and, once resumed, the client
/// reports a new session.
pub async fn suspension_past_timeout_expires_the_session(backend: &dyn Backend) {
    if !backend.capabilities().suspend {
        return skipped(
            backend,
            "suspension_past_timeout_expires_the_session",
            "cannot cut a connection on demand",
        );
    }
    let (keeper, root) = setup(backend).await;
    let timeout = short_session(backend);
    let c = connect(backend, timeout).await;
    let s = session_of(&c);
    let e = at(&root, "e");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let cut = tokio::time::Instant::now();
    c.control.suspend().await.unwrap();
    let granted = c.store.info().session_timeout;
    eventually(
        granted + PATIENCE,
        "ephemeral gone after the timeout",
        async || keeper.store.get(&e).await.unwrap().is_none(),
    )
    .await;
    let gone_after = cut.elapsed();
    // The server counts the timeout from the last request it heard, which
    // may precede the cut by a heartbeat interval (a third of the timeout).
    assert!(
        gone_after >= granted / 2,
        "ephemeral gone {gone_after:?} after the cut, well before the session timeout {granted:?}"
    );
    c.control.resume().await.unwrap();
    let state = wait_state(
        &c,
        granted + PATIENCE,
        "a new session after resume",
        |st| matches!(st, SessionState::Connected(t) if t != s),
    )
    .await;
    let t = state.session().unwrap();
    c.store
        .create(&e, b"", CreateMode::Ephemeral(t))
        .await
        .unwrap();
    let _ = c.store.close().await;
    teardown(&keeper, &root).await;
}

/// Giving the session up: the session is over when `restart_session`
/// returns (its ephemeral nodes are gone for every client), a new session
/// with a different id connects, and the store works under it.
pub async fn restart_session_ends_ephemerals_then_a_new_session_connects(backend: &dyn Backend) {
    let (keeper, root) = setup(backend).await;
    let c = connect(backend, LONG_SESSION).await;
    let s = session_of(&c);
    let e = at(&root, "e");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    c.store.restart_session().await.unwrap();
    assert_eq!(
        keeper.store.get(&e).await.unwrap(),
        None,
        "ephemeral outlived restart_session"
    );
    let state = wait_state(
        &c,
        PATIENCE,
        "a new session after restart",
        |st| matches!(st, SessionState::Connected(t) if t != s),
    )
    .await;
    let t = state.session().unwrap();
    let stale = c.store.create(&e, b"", CreateMode::Ephemeral(s)).await;
    assert!(
        matches!(stale, Err(Error::SessionExpired { .. })),
        "an ephemeral of the given-up session: {stale:?}"
    );
    c.store
        .create(&e, b"", CreateMode::Ephemeral(t))
        .await
        .unwrap();
    assert_eq!(
        keeper.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(t)
    );
    let _ = c.store.close().await;
    teardown(&keeper, &root).await;
}

/// `fit_renewal` returns the renewal period in effect, never longer than
/// what was asked unless that is below the store's floor (what asking for
/// nothing at all gives); the shortest request wins; `info()` reports the
/// period in effect.
pub async fn fit_renewal_keeps_within_what_was_asked_and_info_reports_it(backend: &dyn Backend) {
    let c = connect(backend, LONG_SESSION).await;
    let timeout = c.store.info().session_timeout;
    let roomy = c.store.fit_renewal(timeout);
    assert!(roomy <= timeout, "asked {timeout:?}, got {roomy:?}");
    assert_eq!(c.store.info().renewal_period, roomy);

    let other = connect(backend, LONG_SESSION).await;
    let floor = other.store.fit_renewal(Duration::from_nanos(1));
    assert!(floor <= roomy, "floor {floor:?} above {roomy:?}");
    assert_eq!(other.store.info().renewal_period, floor);
    assert_eq!(other.store.fit_renewal(timeout), floor, "a longer ask won");
    assert_eq!(other.store.info().renewal_period, floor);

    let between = floor + (roomy - floor) / 2;
    let fitted = c.store.fit_renewal(between);
    assert!(
        fitted <= between,
        "asked {between:?} (floor {floor:?}), got {fitted:?}"
    );
    assert_eq!(c.store.info().renewal_period, fitted);
    let _ = other.store.close().await;
    let _ = c.store.close().await;
}

/// A store that renews its session on its own (a positive renewal period)
/// keeps the deadline of an idle, connected session no further behind
/// now + session timeout than that period plus a tenth of the timeout and
/// 100 ms (answer latencies, scheduling on a busy machine), and never
/// beyond it. For the first renewal period the deadline may also be as old
/// as the connect took (it counts from the start of the connect).
pub async fn an_idle_store_keeps_its_deadline_within_its_renewal_period(backend: &dyn Backend) {
    let asked = tokio::time::Instant::now();
    let c = connect(backend, short_session(backend)).await;
    let start = tokio::time::Instant::now();
    let connecting = start - asked;
    let info = c.store.info();
    if info.renewal_period.is_zero() || c.store.session_deadline().is_none() {
        let _ = c.store.close().await;
        return skipped(
            backend,
            "an_idle_store_keeps_its_deadline_within_its_renewal_period",
            "renews with every request",
        );
    }
    let timeout = info.session_timeout;
    let slack = timeout / 10 + Duration::from_millis(100);
    let span = (timeout * 2).max(Duration::from_secs(1));
    while start.elapsed() < span {
        let now = tokio::time::Instant::now();
        let deadline = c
            .store
            .session_deadline()
            .expect("a deadline while connected");
        assert!(
            deadline <= now + timeout,
            "deadline {:?} beyond now + timeout",
            deadline - now
        );
        let behind = (now + timeout).saturating_duration_since(deadline);
        let settling = if now - start < info.renewal_period {
            connecting
        } else {
            Duration::ZERO
        };
        assert!(
            behind <= info.renewal_period + slack + settling,
            "deadline {behind:?} behind now + timeout {:?} after connecting (which took {connecting:?}), \
             over renewal period {:?} + {slack:?}",
            now - start,
            info.renewal_period,
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = c.store.close().await;
}

//! Clause: ephemeral nodes belong to one session, are visible to everyone
//! with their owner, vanish when that session ends, and have no children.

use tenure_core::{CreateMode, Error, SessionState};

use super::{
    LONG_SESSION, PATIENCE, at, connect, eventually, session_of, setup, teardown, wait_state,
};
use crate::backend::{Backend, skipped};

/// Another client sees an ephemeral node with its owning session; a
/// persistent node has no owner.
pub async fn ephemeral_is_visible_to_other_clients_with_its_owner(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let s = session_of(&a);
    let e = at(&root, "e");
    let v = a
        .store
        .create(&e, b"mine", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let seen = b
        .store
        .get(&e)
        .await
        .unwrap()
        .expect("visible to another client");
    assert_eq!(seen.ephemeral_owner, Some(s));
    assert_eq!((seen.data.as_slice(), seen.version), (&b"mine"[..], v));
    let own = a.store.get(&e).await.unwrap().unwrap();
    assert_eq!(own.ephemeral_owner, Some(s));
    assert_eq!(
        b.store.get(&root).await.unwrap().unwrap().ephemeral_owner,
        None
    );
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// Closing a client deletes its ephemeral nodes; its persistent nodes stay.
pub async fn ephemeral_vanishes_when_its_client_closes(backend: &dyn Backend) {
    let (observer, root) = setup(backend).await;
    let owner = connect(backend, LONG_SESSION).await;
    let s = session_of(&owner);
    let e = at(&root, "e");
    let kept = at(&root, "kept");
    owner
        .store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    owner
        .store
        .create(&kept, b"", CreateMode::Persistent)
        .await
        .unwrap();
    owner.store.close().await.unwrap();
    eventually(PATIENCE, "ephemeral node gone after close", async || {
        observer.store.get(&e).await.unwrap().is_none()
    })
    .await;
    assert!(observer.store.get(&kept).await.unwrap().is_some());
    teardown(&observer, &root).await;
}

/// When the server ends a session, its ephemeral nodes are deleted and its
/// persistent nodes stay.
pub async fn ephemeral_vanishes_when_its_session_expires(backend: &dyn Backend) {
    if !backend.capabilities().expire {
        return skipped(
            backend,
            "ephemeral_vanishes_when_its_session_expires",
            "cannot expire a session on demand",
        );
    }
    let (observer, root) = setup(backend).await;
    let owner = connect(backend, LONG_SESSION).await;
    let s = session_of(&owner);
    let e = at(&root, "e");
    let kept = at(&root, "kept");
    owner
        .store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    owner
        .store
        .create(&kept, b"", CreateMode::Persistent)
        .await
        .unwrap();
    owner.control.expire().await.unwrap();
    eventually(PATIENCE, "ephemeral node gone after expiry", async || {
        observer.store.get(&e).await.unwrap().is_none()
    })
    .await;
    assert!(observer.store.get(&kept).await.unwrap().is_some());
    let _ = owner.store.close().await;
    teardown(&observer, &root).await;
}

/// An ephemeral node can only be created under the client's live session:
/// an ended session or another client's session is refused with
/// `SessionExpired`, and nothing is created.
pub async fn ephemeral_under_a_stale_session_is_refused(backend: &dyn Backend) {
    if !backend.capabilities().expire {
        return skipped(
            backend,
            "ephemeral_under_a_stale_session_is_refused",
            "cannot expire a session on demand",
        );
    }
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let old = session_of(&a);
    a.control.expire().await.unwrap();
    let state = wait_state(
        &a,
        PATIENCE,
        "a new session",
        |st| matches!(st, SessionState::Connected(t) if t != old),
    )
    .await;
    let e = at(&root, "e");
    let err = a
        .store
        .create(&e, b"", CreateMode::Ephemeral(old))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SessionExpired { .. }),
        "ended session: {err:?}"
    );
    let theirs = session_of(&b);
    let err = a
        .store
        .create(&e, b"", CreateMode::Ephemeral(theirs))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SessionExpired { .. }),
        "other's session: {err:?}"
    );
    assert_eq!(a.store.get(&e).await.unwrap(), None);
    let live = state.session().unwrap();
    a.store
        .create(&e, b"", CreateMode::Ephemeral(live))
        .await
        .unwrap();
    assert_eq!(
        b.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(live)
    );
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// An ephemeral node cannot have children: `EphemeralParent`, naming the
/// child, for persistent and ephemeral children alike.
pub async fn child_of_ephemeral_is_refused_with_ephemeral_parent(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let s = session_of(&c);
    let e = at(&root, "e");
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let kid = at(&root, "e/kid");
    for mode in [CreateMode::Persistent, CreateMode::Ephemeral(s)] {
        let err = c.store.create(&kid, b"", mode).await.unwrap_err();
        assert!(
            matches!(&err, Error::EphemeralParent { path } if *path == kid),
            "{mode:?}: {err:?}"
        );
    }
    assert!(c.store.children(&e).await.unwrap().is_empty());
    teardown(&c, &root).await;
}

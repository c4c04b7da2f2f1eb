//! Clause: one-shot watches armed with a read fire at the next change of
//! what was read, with no gap between the read and the watch, and resolve
//! when the session ends.

use tenure_core::{CreateMode, StoreExt, WatchEvent};

use super::{LONG_SESSION, PATIENCE, at, connect, fires, setup, stays_quiet, teardown};
use crate::backend::{Backend, WatchDelivery, skipped};

const ROUNDS: usize = 20;

/// A node watch fires `Changed` when another client writes the node.
pub async fn node_watch_fires_changed_on_set(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let n = at(&root, "n");
    a.store
        .create(&n, b"1", CreateMode::Persistent)
        .await
        .unwrap();
    let (node, watch) = a.store.get_and_watch(&n).await.unwrap();
    assert_eq!(node.unwrap().data, b"1");
    b.store.set(&n, b"2", None).await.unwrap();
    assert_eq!(fires(watch, "set").await, WatchEvent::Changed);
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// A node watch fires `Deleted` when the node is deleted.
pub async fn node_watch_fires_deleted_on_delete(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let n = at(&root, "n");
    a.store
        .create(&n, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, watch) = a.store.get_and_watch(&n).await.unwrap();
    b.store.delete(&n, None).await.unwrap();
    assert_eq!(fires(watch, "delete").await, WatchEvent::Deleted);
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// A watch armed on a missing node fires `Created` when it is created.
pub async fn node_watch_on_missing_node_fires_created(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let n = at(&root, "later");
    let (node, watch) = a.store.get_and_watch(&n).await.unwrap();
    assert_eq!(node, None);
    b.store
        .create(&n, b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(fires(watch, "create").await, WatchEvent::Created);
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// A node watch on `/x/a` is not fired by writes to `/x/ab` (a sibling that
/// shares the prefix) or to a child `/x/a/c`; it still fires for `/x/a`.
pub async fn node_watch_ignores_siblings_and_children(backend: &dyn Backend) {
    if backend.capabilities().watch_delivery != WatchDelivery::Exact {
        return skipped(
            backend,
            "node_watch_ignores_siblings_and_children",
            "may fire a watch early",
        );
    }
    let (a, root) = setup(backend).await;
    let target = at(&root, "a");
    a.store
        .create(&target, b"", CreateMode::Persistent)
        .await
        .unwrap();
    a.store
        .create(&at(&root, "ab"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, mut watch) = a.store.get_and_watch(&target).await.unwrap();
    a.store.set(&at(&root, "ab"), b"x", None).await.unwrap();
    a.store
        .create(&at(&root, "a/c"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert!(
        stays_quiet(&mut watch).await,
        "fired by a sibling or a child"
    );
    a.store.set(&target, b"x", None).await.unwrap();
    assert_eq!(fires(watch, "own set").await, WatchEvent::Changed);
    teardown(&a, &root).await;
}

/// A children watch fires `ChildrenChanged` when a child is created.
pub async fn children_watch_fires_on_child_create(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let (kids, watch) = a.store.children_and_watch(&root).await.unwrap();
    assert!(kids.is_empty());
    b.store
        .create(&at(&root, "kid"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        fires(watch, "child create").await,
        WatchEvent::ChildrenChanged
    );
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// A children watch fires `ChildrenChanged` when a child is deleted,
/// including an ephemeral child that goes with its session.
pub async fn children_watch_fires_on_child_delete(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let kid = at(&root, "kid");
    a.store
        .create(&kid, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, watch) = a.store.children_and_watch(&root).await.unwrap();
    b.store.delete(&kid, None).await.unwrap();
    assert_eq!(
        fires(watch, "child delete").await,
        WatchEvent::ChildrenChanged
    );

    let s = super::session_of(&b);
    b.store
        .create(&kid, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (kids, watch) = a.store.children_and_watch(&root).await.unwrap();
    assert_eq!(kids.len(), 1);
    b.store.close().await.unwrap();
    assert_eq!(
        fires(watch, "ephemeral child gone").await,
        WatchEvent::ChildrenChanged
    );
    teardown(&a, &root).await;
}

/// A children watch fires when the watched node itself is deleted.
pub async fn children_watch_fires_when_the_node_is_deleted(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let n = at(&root, "n");
    a.store
        .create(&n, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, watch) = a.store.children_and_watch(&n).await.unwrap();
    a.store.delete(&n, None).await.unwrap();
    let event = fires(watch, "node delete").await;
    assert!(
        matches!(event, WatchEvent::Deleted | WatchEvent::ChildrenChanged),
        "{event:?}"
    );
    teardown(&a, &root).await;
}

/// A children watch on `/x/a` is not fired by children of `/x/ab`, nor by a
/// change of a child's data.
pub async fn children_watch_ignores_prefix_siblings_and_data(backend: &dyn Backend) {
    if backend.capabilities().watch_delivery != WatchDelivery::Exact {
        return skipped(
            backend,
            "children_watch_ignores_prefix_siblings_and_data",
            "may fire a watch early",
        );
    }
    let (a, root) = setup(backend).await;
    let dir = at(&root, "a");
    a.store.create_all(&at(&root, "a/kid")).await.unwrap();
    a.store
        .create(&at(&root, "ab"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, mut watch) = a.store.children_and_watch(&dir).await.unwrap();
    a.store
        .create(&at(&root, "ab/x"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    a.store
        .set(&at(&root, "a/kid"), b"data", None)
        .await
        .unwrap();
    assert!(stays_quiet(&mut watch).await, "fired by a non-child change");
    a.store
        .create(&at(&root, "a/kid2"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        fires(watch, "child create").await,
        WatchEvent::ChildrenChanged
    );
    teardown(&a, &root).await;
}

/// No gap between read and watch: a change another client makes right
/// after the read always fires the watch (repeated to catch races).
pub async fn change_right_after_the_read_always_fires(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let n = at(&root, "n");
    a.store
        .create(&n, b"", CreateMode::Persistent)
        .await
        .unwrap();
    for round in 0..ROUNDS {
        let (node, watch) = a.store.get_and_watch(&n).await.unwrap();
        let (_, kids) = a.store.children_and_watch(&root).await.unwrap();
        let v = node.unwrap().version;
        b.store
            .set(&n, round.to_string().as_bytes(), Some(v))
            .await
            .unwrap();
        b.store
            .create(
                &at(&root, &format!("k{round}")),
                b"",
                CreateMode::Persistent,
            )
            .await
            .unwrap();
        assert_eq!(fires(watch, "set after read").await, WatchEvent::Changed);
        assert_eq!(
            fires(kids, "create after list").await,
            WatchEvent::ChildrenChanged
        );
    }
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// When a client's session is ended by the server, its pending watches
/// resolve (with `Lost`, or with an event), so no watcher waits forever.
pub async fn pending_watches_resolve_when_the_session_expires(backend: &dyn Backend) {
    if !backend.capabilities().expire {
        return skipped(
            backend,
            "pending_watches_resolve_when_the_session_expires",
            "cannot expire a session on demand",
        );
    }
    let (keeper, root) = setup(backend).await;
    let a = connect(backend, LONG_SESSION).await;
    let n = at(&root, "n");
    keeper
        .store
        .create(&n, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, node_watch) = a.store.get_and_watch(&n).await.unwrap();
    let (_, kids_watch) = a.store.children_and_watch(&root).await.unwrap();
    a.control.expire().await.unwrap();
    fires(node_watch, "node watch at session expiry").await;
    fires(kids_watch, "children watch at session expiry").await;
    let _ = a.store.close().await;
    teardown(&keeper, &root).await;
}

/// Closing a client fires `Lost` on its pending watches at once.
pub async fn pending_watches_fire_lost_on_close(backend: &dyn Backend) {
    let (keeper, root) = setup(backend).await;
    let a = connect(backend, LONG_SESSION).await;
    let n = at(&root, "n");
    keeper
        .store
        .create(&n, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, node_watch) = a.store.get_and_watch(&n).await.unwrap();
    let (_, kids_watch) = a.store.children_and_watch(&root).await.unwrap();
    a.store.close().await.unwrap();
    let within = tokio::time::timeout(PATIENCE, async { (node_watch.await, kids_watch.await) });
    let events = within.await.expect("watches resolve after close");
    assert_eq!(events, (WatchEvent::Lost, WatchEvent::Lost));
    teardown(&keeper, &root).await;
}

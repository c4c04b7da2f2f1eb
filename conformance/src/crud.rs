//! Clause: create, read, write, delete and list nodes, with ZooKeeper's
//! rules for parents and children.

use tenure_core::{CreateMode, Error, Name, StoreExt};

use super::{at, setup, teardown};
use crate::backend::Backend;

/// A node can be created, read with its version, written, and deleted.
pub async fn create_get_set_delete_round_trip(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let n = at(&root, "n");
    let v1 = c
        .store
        .create(&n, b"one", CreateMode::Persistent)
        .await
        .unwrap();
    let got = c
        .store
        .get(&n)
        .await
        .unwrap()
        .expect("created node is readable");
    assert_eq!(got.data, b"one");
    assert_eq!(got.version, v1);
    assert_eq!(got.ephemeral_owner, None);

    let v2 = c.store.set(&n, b"two", Some(v1)).await.unwrap();
    assert_ne!(v1, v2);
    let got = c.store.get(&n).await.unwrap().unwrap();
    assert_eq!((got.data.as_slice(), got.version), (&b"two"[..], v2));

    let v3 = c.store.set(&n, b"three", None).await.unwrap();
    assert_eq!(c.store.get(&n).await.unwrap().unwrap().version, v3);
    c.store.delete(&n, Some(v3)).await.unwrap();
    assert_eq!(c.store.get(&n).await.unwrap(), None);
    teardown(&c, &root).await;
}

/// Empty data and arbitrary bytes (zero bytes, invalid UTF-8) come back
/// exactly as written.
pub async fn empty_and_binary_payloads_round_trip(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let empty = at(&root, "empty");
    let binary = at(&root, "binary");
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 0xff, 0xfe]).collect();
    c.store
        .create(&empty, b"", CreateMode::Persistent)
        .await
        .unwrap();
    c.store
        .create(&binary, &bytes, CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(c.store.get(&empty).await.unwrap().unwrap().data, b"");
    assert_eq!(c.store.get(&binary).await.unwrap().unwrap().data, bytes);
    c.store.set(&binary, b"", None).await.unwrap();
    assert_eq!(c.store.get(&binary).await.unwrap().unwrap().data, b"");
    teardown(&c, &root).await;
}

/// Creating a node whose parent does not exist fails with `NoParent`
/// naming the node, and creates nothing.
pub async fn create_without_parent_fails_with_no_parent(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let orphan = at(&root, "missing/orphan");
    let err = c
        .store
        .create(&orphan, b"", CreateMode::Persistent)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NoParent { path } if *path == orphan),
        "{err:?}"
    );
    assert!(c.store.children(&root).await.unwrap().is_empty());
    teardown(&c, &root).await;
}

/// Creating an existing node fails with `AlreadyExists` and leaves it as it
/// was.
pub async fn create_existing_fails_with_already_exists(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let n = at(&root, "n");
    let v = c
        .store
        .create(&n, b"first", CreateMode::Persistent)
        .await
        .unwrap();
    let err = c
        .store
        .create(&n, b"second", CreateMode::Persistent)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { path } if *path == n),
        "{err:?}"
    );
    let got = c.store.get(&n).await.unwrap().unwrap();
    assert_eq!((got.data.as_slice(), got.version), (&b"first"[..], v));
    teardown(&c, &root).await;
}

/// Deleting a node that has children fails with `NotEmpty`; nothing goes.
pub async fn delete_with_children_fails_with_not_empty(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let parent = at(&root, "p");
    c.store.create_all(&at(&root, "p/kid")).await.unwrap();
    for expected in [
        None,
        Some(c.store.get(&parent).await.unwrap().unwrap().version),
    ] {
        let err = c.store.delete(&parent, expected).await.unwrap_err();
        assert!(
            matches!(&err, Error::NotEmpty { path } if *path == parent),
            "{err:?}"
        );
    }
    assert!(c.store.get(&at(&root, "p/kid")).await.unwrap().is_some());
    teardown(&c, &root).await;
}

/// A missing node reads as `None`; writing, deleting or listing it fails
/// with `NotFound` naming it.
pub async fn missing_node_reads_none_and_writes_fail_not_found(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let ghost = at(&root, "ghost");
    let version = c.store.get(&root).await.unwrap().unwrap().version;
    assert_eq!(c.store.get(&ghost).await.unwrap(), None);
    let (node, _watch) = c.store.get_and_watch(&ghost).await.unwrap();
    assert_eq!(node, None);
    let named = |e: &Error| matches!(e, Error::NotFound { path } if *path == ghost);
    for expected in [None, Some(version)] {
        let e = c.store.set(&ghost, b"x", expected).await.unwrap_err();
        assert!(named(&e), "set: {e:?}");
        let e = c.store.delete(&ghost, expected).await.unwrap_err();
        assert!(named(&e), "delete: {e:?}");
    }
    let e = c.store.children(&ghost).await.unwrap_err();
    assert!(named(&e), "children: {e:?}");
    let e = c.store.children_and_watch(&ghost).await.unwrap_err();
    assert!(named(&e), "children_and_watch: {e:?}");
    assert_eq!(
        c.store.get(&ghost).await.unwrap(),
        None,
        "nothing was created"
    );
    teardown(&c, &root).await;
}

/// Children are listed sorted, and only direct children: `/a/b` and
/// `/a/bc` are children of `/a`, `/a/b/c` is not.
pub async fn children_are_sorted_and_direct_only(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    for rel in ["a/bc", "a/b/c", "a/b-1", "a/B", "a/a", "ab/x"] {
        c.store.create_all(&at(&root, rel)).await.unwrap();
    }
    let names = |v: Vec<Name>| v.into_iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let kids = names(c.store.children(&at(&root, "a")).await.unwrap());
    assert_eq!(kids, ["B", "a", "b", "b-1", "bc"]);
    let (kids, _watch) = c.store.children_and_watch(&at(&root, "a")).await.unwrap();
    assert_eq!(names(kids), ["B", "a", "b", "b-1", "bc"]);
    assert_eq!(
        names(c.store.children(&at(&root, "a/b")).await.unwrap()),
        ["c"]
    );
    assert!(
        c.store
            .children(&at(&root, "a/b/c"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(names(c.store.children(&root).await.unwrap()), ["a", "ab"]);
    teardown(&c, &root).await;
}

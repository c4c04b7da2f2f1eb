//! Clause: compare-and-set. A stale version fails with a typed conflict and
//! never overwrites; of racers holding the same version exactly one wins.
//! A node's incarnation tells a re-created node from the one before it,
//! whose versions it may repeat.

use std::collections::HashSet;

use tenure_core::{CreateMode, Error, StoreExt, Version};

use super::{LONG_SESSION, at, connect, setup, teardown};
use crate::backend::Backend;

const ROUNDS: usize = 20;

/// A set with a stale version fails with `VersionConflict` naming the node,
/// and the data and version stay as they were.
pub async fn set_with_stale_version_fails_with_conflict(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let n = at(&root, "n");
    let stale = c
        .store
        .create(&n, b"v1", CreateMode::Persistent)
        .await
        .unwrap();
    let current = c.store.set(&n, b"v2", Some(stale)).await.unwrap();
    let err = c.store.set(&n, b"lost", Some(stale)).await.unwrap_err();
    assert!(
        matches!(&err, Error::VersionConflict { path } if *path == n),
        "{err:?}"
    );
    assert!(err.is_conflict());
    let got = c.store.get(&n).await.unwrap().unwrap();
    assert_eq!((got.data.as_slice(), got.version), (&b"v2"[..], current));
    teardown(&c, &root).await;
}

/// A delete with a stale version fails with `VersionConflict`; the node
/// stays. With the current version it succeeds.
pub async fn delete_with_stale_version_fails_with_conflict(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let n = at(&root, "n");
    let stale = c
        .store
        .create(&n, b"v1", CreateMode::Persistent)
        .await
        .unwrap();
    let current = c.store.set(&n, b"v2", None).await.unwrap();
    let err = c.store.delete(&n, Some(stale)).await.unwrap_err();
    assert!(
        matches!(&err, Error::VersionConflict { path } if *path == n),
        "{err:?}"
    );
    assert_eq!(c.store.get(&n).await.unwrap().unwrap().data, b"v2");
    c.store.delete(&n, Some(current)).await.unwrap();
    assert_eq!(c.store.get(&n).await.unwrap(), None);
    teardown(&c, &root).await;
}

/// Two clients setting the same node with the same expected version at the
/// same time: exactly one succeeds, the other gets `VersionConflict`, and
/// the node holds the winner's data under the winner's version.
pub async fn concurrent_sets_with_same_version_have_exactly_one_winner(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    let n = at(&root, "contested");
    let mut version = a
        .store
        .create(&n, b"start", CreateMode::Persistent)
        .await
        .unwrap();
    for round in 0..ROUNDS {
        let racers = [(&a, b"a"), (&b, b"b")].map(|(client, me)| {
            let (store, path) = (client.store.clone(), n.clone());
            tokio::spawn(async move { (me, store.set(&path, me, Some(version)).await) })
        });
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                (me, Ok(v)) => winners.push((me, v)),
                (_, Err(Error::VersionConflict { .. })) => {}
                (me, Err(e)) => panic!("round {round}: racer {me:?} failed with {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let (me, v) = winners[0];
        let got = a.store.get(&n).await.unwrap().unwrap();
        assert_eq!(
            (got.data.as_slice(), got.version),
            (&me[..], v),
            "round {round}"
        );
        version = v;
    }
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// Two clients creating the same node at the same time: exactly one
/// succeeds, the other gets `AlreadyExists`.
pub async fn concurrent_creates_of_one_node_have_exactly_one_winner(backend: &dyn Backend) {
    let (a, root) = setup(backend).await;
    let b = connect(backend, LONG_SESSION).await;
    for round in 0..ROUNDS {
        let n = at(&root, &format!("claim-{round}"));
        let racers = [(&a, b"a"), (&b, b"b")].map(|(client, me)| {
            let (store, path) = (client.store.clone(), n.clone());
            tokio::spawn(async move { (me, store.create(&path, me, CreateMode::Persistent).await) })
        });
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                (me, Ok(v)) => winners.push((me, v)),
                (_, Err(Error::AlreadyExists { .. })) => {}
                (me, Err(e)) => panic!("round {round}: racer {me:?} failed with {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let got = a.store.get(&n).await.unwrap().unwrap();
        assert_eq!(
            (got.data.as_slice(), got.version),
            (&winners[0].0[..], winners[0].1)
        );
    }
    let _ = b.store.close().await;
    teardown(&a, &root).await;
}

/// Every write of a node gives it a version it never had before, and the
/// version a write returns is the one a read then reports.
pub async fn versions_never_repeat_across_writes(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let n = at(&root, "n");
    let mut seen: HashSet<Version> = HashSet::new();
    let mut v = c
        .store
        .create(&n, b"0", CreateMode::Persistent)
        .await
        .unwrap();
    seen.insert(v);
    for i in 1..=ROUNDS {
        // Alternate conditional and unconditional writes, same data or not.
        let data = if i % 3 == 0 {
            b"same".to_vec()
        } else {
            i.to_string().into_bytes()
        };
        let expected = (i % 2 == 0).then_some(v);
        v = c.store.set(&n, &data, expected).await.unwrap();
        assert!(seen.insert(v), "version {v:?} repeated at write {i}");
        assert_eq!(c.store.get(&n).await.unwrap().unwrap().version, v);
    }
    teardown(&c, &root).await;
}

/// A node keeps its incarnation through every write, reads report the same
/// one with or without a watch, and a node deleted and created again (by
/// any client, persistent or ephemeral) never has an incarnation of a node
/// before it at that path, whatever its version.
pub async fn a_recreated_node_has_a_new_incarnation(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let n = at(&root, "n");
    let mut seen = HashSet::new();
    for round in 0..ROUNDS {
        let mode = if round % 2 == 0 {
            CreateMode::Persistent
        } else {
            CreateMode::Ephemeral(c.store.live_session().unwrap())
        };
        c.store.create(&n, b"new", mode).await.unwrap();
        let created = c.store.get(&n).await.unwrap().unwrap();
        assert!(
            seen.insert(created.incarnation),
            "round {round}: incarnation {:?} repeated (version {:?})",
            created.incarnation,
            created.version
        );
        let v = c
            .store
            .set(&n, b"changed", Some(created.version))
            .await
            .unwrap();
        let (node, _watch) = c.store.get_and_watch(&n).await.unwrap();
        let node = node.unwrap();
        assert_eq!((node.version, node.incarnation), (v, created.incarnation));
        c.store.delete(&n, Some(v)).await.unwrap();
    }
    teardown(&c, &root).await;
}

//! Clause: atomic multi-operations. All apply or none does; results come in
//! order; the error is the first failing operation's, naming its path.

use tenure_core::{CreateMode, Error, Op, OpResult, Path, StoreExt, Version, WatchEvent};

use super::{LONG_SESSION, at, connect, fires, session_of, setup, stays_quiet, teardown};
use crate::backend::{Backend, TestClient, WatchDelivery, skipped};

fn create(path: &Path, data: &[u8]) -> Op {
    Op::Create {
        path: path.clone(),
        data: data.to_vec(),
        mode: CreateMode::Persistent,
    }
}

fn set(path: &Path, data: &[u8], version: Option<Version>) -> Op {
    Op::Set {
        path: path.clone(),
        data: data.to_vec(),
        version,
    }
}

async fn version(c: &TestClient, path: &Path) -> Version {
    c.store
        .get(path)
        .await
        .unwrap()
        .expect("node exists")
        .version
}

/// A multi whose last operation fails applies none of the earlier ones:
/// creates, sets and deletes before the failing check are all undone.
pub async fn multi_is_all_or_nothing(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let (x, y, z, w) = (
        at(&root, "x"),
        at(&root, "y"),
        at(&root, "z"),
        at(&root, "w"),
    );
    let vy = c
        .store
        .create(&y, b"old", CreateMode::Persistent)
        .await
        .unwrap();
    c.store
        .create(&z, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let stale = c
        .store
        .create(&w, b"", CreateMode::Persistent)
        .await
        .unwrap();
    c.store.set(&w, b"moved on", None).await.unwrap();
    let err = c
        .store
        .multi(&[
            create(&x, b"new"),
            set(&y, b"new", Some(vy)),
            Op::Delete {
                path: z.clone(),
                version: None,
            },
            Op::Check {
                path: w.clone(),
                version: Some(stale),
            },
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::VersionConflict { path } if *path == w),
        "{err:?}"
    );
    assert_eq!(c.store.get(&x).await.unwrap(), None, "create was applied");
    let got = c.store.get(&y).await.unwrap().unwrap();
    assert_eq!(
        (got.data.as_slice(), got.version),
        (&b"old"[..], vy),
        "set was applied"
    );
    assert!(
        c.store.get(&z).await.unwrap().is_some(),
        "delete was applied"
    );
    teardown(&c, &root).await;
}

/// A successful multi applies every operation and returns one result per
/// operation, in order, with the versions reads then report. An empty
/// multi succeeds with no results.
pub async fn multi_applies_every_op_and_returns_results_in_order(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let (a, b, d) = (at(&root, "a"), at(&root, "b"), at(&root, "d"));
    let va = c
        .store
        .create(&a, b"", CreateMode::Persistent)
        .await
        .unwrap();
    c.store
        .create(&d, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let results = c
        .store
        .multi(&[
            Op::Check {
                path: a.clone(),
                version: Some(va),
            },
            create(&b, b"born"),
            set(&a, b"written", Some(va)),
            Op::Delete {
                path: d.clone(),
                version: None,
            },
        ])
        .await
        .unwrap();
    let [
        OpResult::Checked,
        OpResult::Created(vb),
        OpResult::Set(va2),
        OpResult::Deleted,
    ] = results.as_slice()
    else {
        panic!("unexpected results {results:?}");
    };
    assert_ne!(*va2, va);
    assert_eq!(version(&c, &b).await, *vb);
    assert_eq!(version(&c, &a).await, *va2);
    assert_eq!(c.store.get(&a).await.unwrap().unwrap().data, b"written");
    assert_eq!(c.store.get(&d).await.unwrap(), None);
    assert!(c.store.multi(&[]).await.unwrap().is_empty());
    teardown(&c, &root).await;
}

/// The runtime's claim: check node A's version, create ephemeral B, set C
/// with its version. Two clients racing the same claim: exactly one wins,
/// the loser gets a conflict, B belongs to the winner, C holds its data.
pub async fn multi_claims_race_with_exactly_one_winner(backend: &dyn Backend) {
    let (one, root) = setup(backend).await;
    let two = connect(backend, LONG_SESSION).await;
    let (a, c) = (at(&root, "assignment"), at(&root, "owner"));
    one.store
        .create(&a, b"", CreateMode::Persistent)
        .await
        .unwrap();
    one.store
        .create(&c, b"", CreateMode::Persistent)
        .await
        .unwrap();
    one.store
        .create(&at(&root, "claims"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    for round in 0..10 {
        let (va, vc) = (version(&one, &a).await, version(&one, &c).await);
        let b = at(&root, &format!("claims/{round}"));
        let racers = [(&one, b"1"), (&two, b"2")].map(|(client, me)| {
            let store = client.store.clone();
            let session = session_of(client);
            let ops = [
                Op::Check {
                    path: a.clone(),
                    version: Some(va),
                },
                Op::Create {
                    path: b.clone(),
                    data: me.to_vec(),
                    mode: CreateMode::Ephemeral(session),
                },
                set(&c, me, Some(vc)),
            ];
            tokio::spawn(async move { (me, session, store.multi(&ops).await) })
        });
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                (me, s, Ok(_)) => winners.push((me, s)),
                (_, _, Err(e)) if e.is_conflict() => {}
                (me, _, Err(e)) => panic!("round {round}: claimant {me:?} failed with {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let (me, s) = winners[0];
        let claim = one.store.get(&b).await.unwrap().unwrap();
        assert_eq!(
            (claim.data.as_slice(), claim.ephemeral_owner),
            (&me[..], Some(s))
        );
        assert_eq!(one.store.get(&c).await.unwrap().unwrap().data, me);
        // A claim holding the old versions of A and C can never apply again.
        one.store
            .set(&a, round.to_string().as_bytes(), None)
            .await
            .unwrap();
        let replay = one
            .store
            .multi(&[
                Op::Check {
                    path: a.clone(),
                    version: Some(va),
                },
                set(&c, b"late", Some(vc)),
            ])
            .await
            .unwrap_err();
        assert!(matches!(&replay, Error::VersionConflict { path } if *path == a));
    }
    let _ = two.store.close().await;
    teardown(&one, &root).await;
}

fn kind_and_path(e: &Error) -> Option<(&'static str, &str)> {
    match e {
        Error::NotFound { path } => Some(("NotFound", path.as_str())),
        Error::AlreadyExists { path } => Some(("AlreadyExists", path.as_str())),
        Error::NotEmpty { path } => Some(("NotEmpty", path.as_str())),
        Error::NoParent { path } => Some(("NoParent", path.as_str())),
        Error::VersionConflict { path } => Some(("VersionConflict", path.as_str())),
        _ => None,
    }
}

/// The error of a failed multi is the first failing operation's, with its
/// kind and its path, whatever comes before or after it.
pub async fn multi_error_names_the_failing_path(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let (ok, exists, full, ghost) = (
        at(&root, "ok"),
        at(&root, "exists"),
        at(&root, "full"),
        at(&root, "ghost"),
    );
    c.store
        .create(&exists, b"", CreateMode::Persistent)
        .await
        .unwrap();
    c.store.create_all(&at(&root, "full/kid")).await.unwrap();
    let orphan = at(&root, "ghost/kid");
    let cases = [
        (
            Op::Check {
                path: ghost.clone(),
                version: None,
            },
            "NotFound",
        ),
        (create(&exists, b""), "AlreadyExists"),
        (
            Op::Delete {
                path: full.clone(),
                version: None,
            },
            "NotEmpty",
        ),
        (create(&orphan, b""), "NoParent"),
        (set(&ghost, b"", None), "NotFound"),
    ];
    for (bad, kind) in cases {
        let failing = bad.path().to_string();
        let err = c
            .store
            .multi(&[create(&ok, b""), bad, set(&exists, b"after", None)])
            .await
            .unwrap_err();
        assert_eq!(
            kind_and_path(&err),
            Some((kind, failing.as_str())),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&failing),
            "message {err} names {failing}"
        );
        assert_eq!(c.store.get(&ok).await.unwrap(), None);
        assert_eq!(c.store.get(&exists).await.unwrap().unwrap().data, b"");
    }
    teardown(&c, &root).await;
}

/// A multi that fails fires no watch; one that applies does.
pub async fn failed_multi_fires_no_watch(backend: &dyn Backend) {
    if backend.capabilities().watch_delivery != WatchDelivery::Exact {
        return skipped(
            backend,
            "failed_multi_fires_no_watch",
            "may fire a watch early",
        );
    }
    let (c, root) = setup(backend).await;
    let watcher = connect(backend, LONG_SESSION).await;
    let (x, y) = (at(&root, "x"), at(&root, "y"));
    c.store
        .create(&y, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, mut on_x) = watcher.store.get_and_watch(&x).await.unwrap();
    let (_, mut on_y) = watcher.store.get_and_watch(&y).await.unwrap();
    let (_, mut kids) = watcher.store.children_and_watch(&root).await.unwrap();
    let failing = [create(&x, b""), set(&y, b"1", None), create(&y, b"")];
    c.store.multi(&failing).await.unwrap_err();
    let quiet = tokio::join!(
        stays_quiet(&mut on_x),
        stays_quiet(&mut on_y),
        stays_quiet(&mut kids)
    );
    assert_eq!(
        quiet,
        (true, true, true),
        "(create, set, children) of a failed multi fired"
    );
    c.store.multi(&failing[..2]).await.unwrap();
    assert_eq!(fires(on_x, "applied create").await, WatchEvent::Created);
    assert_eq!(fires(on_y, "applied set").await, WatchEvent::Changed);
    let _ = watcher.store.close().await;
    teardown(&c, &root).await;
}

use tenure_core::{CoordinationStore, CreateMode, Error, Op, OpResult, Version, WatchEvent};

use super::{connect, ephemeral, fired, p, session};
use crate::MemoryServer;

/// As in ZooKeeper: a new node starts at version 0 and every write adds 1,
/// so a re-created node repeats its versions (and a compare-and-set
/// holding a version from before the delete succeeds against it); only
/// its incarnation tells the two nodes apart.
#[tokio::test(start_paused = true)]
async fn a_recreated_node_restarts_its_versions_under_a_new_incarnation() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let v1 = a
        .create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let first = a.get(&p("/n")).await.unwrap().unwrap().incarnation;
    let v2 = a.set(&p("/n"), b"x", Some(v1)).await.unwrap();
    assert_eq!((v1, v2), (Version(0), Version(1)));
    assert_eq!(a.get(&p("/n")).await.unwrap().unwrap().incarnation, first);
    a.delete(&p("/n"), Some(v2)).await.unwrap();
    let v3 = a
        .create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(v3, v1);
    let again = a.get(&p("/n")).await.unwrap().unwrap().incarnation;
    assert_ne!(again, first);
    assert_eq!(a.set(&p("/n"), b"y", Some(v1)).await.unwrap(), Version(1));
}

#[tokio::test(start_paused = true)]
async fn tree_rules_follow_zookeeper_order() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    a.create(&p("/a"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let missing = a.create(&p("/x/y"), b"", CreateMode::Persistent).await;
    assert!(matches!(missing, Err(Error::NoParent { path }) if path == "/x/y"));
    let dup = a.create(&p("/a"), b"", CreateMode::Persistent).await;
    assert!(matches!(dup, Err(Error::AlreadyExists { .. })));
    ephemeral(&a, "/a/e").await;
    let under = a.create(&p("/a/e/c"), b"", CreateMode::Persistent).await;
    assert!(matches!(under, Err(Error::EphemeralParent { .. })));
    let stale_nonempty = a.delete(&p("/a"), Some(Version(12345))).await;
    assert!(matches!(stale_nonempty, Err(Error::VersionConflict { .. })));
    assert!(matches!(
        a.delete(&p("/a"), None).await,
        Err(Error::NotEmpty { .. })
    ));
    assert!(matches!(
        a.delete(&p("/"), None).await,
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        a.create(&p("/"), b"", CreateMode::Persistent).await,
        Err(Error::AlreadyExists { .. })
    ));
    let root = a.get(&p("/")).await.unwrap().unwrap();
    assert_eq!(root.ephemeral_owner, None);
    assert_eq!(a.children(&p("/")).await.unwrap()[0].as_str(), "a");
}

#[tokio::test(start_paused = true)]
async fn failed_multi_changes_nothing_and_fires_nothing() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let v = a
        .create(&p("/n"), b"old", CreateMode::Persistent)
        .await
        .unwrap();
    a.create(&p("/gone"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();
    let (_, mut kids) = a.children_and_watch(&p("/")).await.unwrap();
    let err = a
        .multi(&[
            Op::Create {
                path: p("/m"),
                data: vec![],
                mode: CreateMode::Ephemeral(session(&a)),
            },
            Op::Set {
                path: p("/n"),
                data: b"new".to_vec(),
                version: Some(v),
            },
            Op::Delete {
                path: p("/gone"),
                version: None,
            },
            Op::Check {
                path: p("/n"),
                version: Some(v),
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VersionConflict { path } if path == "/n"));
    assert_eq!(a.get(&p("/n")).await.unwrap().unwrap().data, b"old");
    assert_eq!(a.get(&p("/n")).await.unwrap().unwrap().version, v);
    assert!(a.get(&p("/m")).await.unwrap().is_none());
    assert!(a.get(&p("/gone")).await.unwrap().is_some());
    assert_eq!(fired(&mut w).await, None);
    assert_eq!(fired(&mut kids).await, None);
    assert!(server.lock().tree.ephemerals_of(session(&a)).is_empty());
    let gone = a.get(&p("/gone")).await.unwrap().unwrap().incarnation;
    a.create(&p("/after"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let next = a.get(&p("/after")).await.unwrap().unwrap().incarnation;
    assert_eq!(next.0, gone.0 + 1, "the transaction counter was rewound");
}

#[tokio::test(start_paused = true)]
async fn applied_multi_fires_each_watch_once() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    let v = a
        .create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, mut w) = a.get_and_watch(&p("/n")).await.unwrap();
    let (_, mut kids) = a.children_and_watch(&p("/n")).await.unwrap();
    let out = a
        .multi(&[
            Op::Set {
                path: p("/n"),
                data: b"1".to_vec(),
                version: Some(v),
            },
            Op::Create {
                path: p("/n/c"),
                data: vec![],
                mode: CreateMode::Persistent,
            },
            Op::Set {
                path: p("/n"),
                data: b"2".to_vec(),
                version: None,
            },
        ])
        .await
        .unwrap();
    assert!(
        matches!(out.as_slice(), [OpResult::Set(a), OpResult::Created(_), OpResult::Set(b)] if a != b)
    );
    assert_eq!(fired(&mut w).await, Some(WatchEvent::Changed));
    assert_eq!(fired(&mut kids).await, Some(WatchEvent::ChildrenChanged));
}

#[tokio::test(start_paused = true)]
async fn deleting_a_watched_parent_fires_deleted_on_its_children_watch() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    a.create(&p("/n"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    let (_, mut kids) = a.children_and_watch(&p("/n")).await.unwrap();
    let (_, mut root) = a.children_and_watch(&p("/")).await.unwrap();
    let (_, mut missing) = a.get_and_watch(&p("/later")).await.unwrap();
    a.delete(&p("/n"), None).await.unwrap();
    assert_eq!(fired(&mut kids).await, Some(WatchEvent::Deleted));
    assert_eq!(fired(&mut root).await, Some(WatchEvent::ChildrenChanged));
    assert_eq!(fired(&mut missing).await, None);
    a.create(&p("/later"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(fired(&mut missing).await, Some(WatchEvent::Created));
}

#[tokio::test(start_paused = true)]
async fn abandoned_watches_are_pruned() {
    let server = MemoryServer::new();
    let a = connect(&server).await;
    for _ in 0..100 {
        let (_, w) = a.get_and_watch(&p("/n")).await.unwrap();
        drop(w);
    }
    assert_eq!(server.lock().watches.len(), 1);
}

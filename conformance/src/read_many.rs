//! Clause: several nodes read in one call (`get_many`), each answered as
//! `get` answers it, in the order asked.

use tenure_core::{CreateMode, Path, Watch, WatchEvent};

use super::{PATIENCE, at, session_of, setup, teardown};
use crate::backend::Backend;

/// Each path is answered as `get` answers it (data, version, incarnation,
/// owning session, `None` when missing), in the order of the paths, a path
/// asked twice answered twice.
pub async fn get_many_answers_each_path_in_order_as_get_does(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let (a, child, e, missing) = (
        at(&root, "a"),
        at(&root, "a/child"),
        at(&root, "e"),
        at(&root, "missing"),
    );
    c.store
        .create(&a, b"first", CreateMode::Persistent)
        .await
        .unwrap();
    c.store.set(&a, b"second", None).await.unwrap();
    c.store
        .create(&child, &[0, 0xff, 7], CreateMode::Persistent)
        .await
        .unwrap();
    c.store
        .create(&e, b"mine", CreateMode::Ephemeral(session_of(&c)))
        .await
        .unwrap();
    let paths = [missing.clone(), a.clone(), e, child, missing, a];
    let many = c.store.get_many(&paths).await.unwrap();
    let mut one_by_one = Vec::new();
    for p in &paths {
        one_by_one.push(c.store.get(p).await.unwrap());
    }
    assert_eq!(many, one_by_one);
    assert_eq!(many[0], None);
    assert_eq!(many[1].as_ref().unwrap().data, b"second");
    assert_eq!(
        many[2].as_ref().unwrap().ephemeral_owner,
        Some(session_of(&c))
    );
    teardown(&c, &root).await;
}

/// No paths: no answers, and no error.
pub async fn get_many_of_no_paths_answers_nothing(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    assert_eq!(c.store.get_many(&[]).await.unwrap(), Vec::new());
    teardown(&c, &root).await;
}

/// More paths than one transaction of the backend holds (etcd's default
/// `--max-txn-ops` is 128) are all answered, in order.
pub async fn get_many_answers_more_paths_than_one_transaction_holds(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let paths: Vec<Path> = (0..300).map(|i| at(&root, &format!("n{i:03}"))).collect();
    for p in paths.iter().step_by(3) {
        c.store
            .create(p, p.as_str().as_bytes(), CreateMode::Persistent)
            .await
            .unwrap();
    }
    let many = c.store.get_many(&paths).await.unwrap();
    assert_eq!(many.len(), paths.len());
    for (i, (p, node)) in paths.iter().zip(&many).enumerate() {
        match node {
            Some(n) => {
                assert_eq!(i % 3, 0, "{p} was not created");
                assert_eq!(n.data, p.as_str().as_bytes(), "{p}");
            }
            None => assert_ne!(i % 3, 0, "{p} was created"),
        }
    }
    teardown(&c, &root).await;
}

/// Nodes at the payload limit are answered all at once, however large the
/// answer: 16 of them, as many as the runtime reads in one request when
/// records may be that large (24 MiB at etcd's limit, six times gRPC's
/// default limit of one message).
pub async fn get_many_answers_nodes_at_the_payload_limit(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let limit = c.store.info().max_payload;
    let paths: Vec<Path> = (0..16).map(|i| at(&root, &format!("big{i}"))).collect();
    for (i, p) in paths.iter().enumerate() {
        let data = vec![b'a' + i as u8; limit];
        c.store
            .create(p, &data, CreateMode::Persistent)
            .await
            .unwrap();
    }
    let many = c.store.get_many(&paths).await.unwrap();
    assert_eq!(many.len(), paths.len());
    for (i, node) in many.iter().enumerate() {
        let node = node
            .as_ref()
            .unwrap_or_else(|| panic!("{} is missing", paths[i]));
        assert_eq!(node.data.len(), limit, "{}", paths[i]);
        assert!(
            node.data.iter().all(|&b| b == b'a' + i as u8),
            "{}",
            paths[i]
        );
    }
    teardown(&c, &root).await;
}

/// `get_many_and_watch` answers each path as `get_and_watch` does: the
/// node as read, and a watch that fires at its next creation, change or
/// deletion (a path asked twice has two watches).
pub async fn get_many_and_watch_answers_and_watches_as_get_and_watch_does(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let (a, b, missing) = (at(&root, "a"), at(&root, "b"), at(&root, "missing"));
    for p in [&a, &b] {
        c.store
            .create(p, p.as_str().as_bytes(), CreateMode::Persistent)
            .await
            .unwrap();
    }
    let paths = [a.clone(), b.clone(), missing.clone(), a.clone()];
    let answers = c.store.get_many_and_watch(&paths).await.unwrap();
    assert_eq!(answers.len(), paths.len());
    let mut watches = Vec::new();
    for (p, (node, watch)) in paths.iter().zip(answers) {
        assert_eq!(node, c.store.get(p).await.unwrap(), "{p}");
        watches.push(watch);
    }
    let [on_a, on_b, on_missing, on_a_again]: [Watch; 4] = watches.try_into().unwrap();
    c.store.set(&a, b"changed", None).await.unwrap();
    c.store.delete(&b, None).await.unwrap();
    c.store
        .create(&missing, b"", CreateMode::Persistent)
        .await
        .unwrap();
    let fired = tokio::time::timeout(PATIENCE, async {
        (on_a.await, on_b.await, on_missing.await, on_a_again.await)
    })
    .await
    .expect("every watch fires");
    assert_eq!(
        fired,
        (
            WatchEvent::Changed,
            WatchEvent::Deleted,
            WatchEvent::Created,
            WatchEvent::Changed
        )
    );
    teardown(&c, &root).await;
}

//! Clause: bad input is refused at the edge with a typed error naming the
//! rule or limit, and nothing stored changes.

use tenure_core::store::{MAX_NAME_LEN, MAX_PATH_LEN};
use tenure_core::{CreateMode, Error, Name, Op, Path, StoreExt};

use super::{at, setup, teardown};
use crate::backend::{Backend, TestClient, skipped};

fn refused_name(result: tenure_core::Result<Path>, rule: &str) -> Error {
    match result {
        Err(e @ Error::InvalidName { .. }) => {
            assert!(e.to_string().contains(rule), "message {e} names {rule:?}");
            e
        }
        other => panic!("expected InvalidName ({rule}), got {other:?}"),
    }
}

async fn nothing_created(c: &TestClient, root: &Path) {
    assert!(
        c.store.children(root).await.unwrap().is_empty(),
        "something was created"
    );
}

/// An empty name is refused.
pub async fn empty_name_is_refused(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    refused_name(root.child(""), "empty");
    assert!(Name::new("").is_err());
    assert!(matches!(
        Path::new(&format!("{root}//x")),
        Err(Error::InvalidPath { .. })
    ));
    nothing_created(&c, &root).await;
    teardown(&c, &root).await;
}

/// A `/` inside a name is refused.
pub async fn slash_inside_a_name_is_refused(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    refused_name(root.child("a/b"), "/");
    nothing_created(&c, &root).await;
    teardown(&c, &root).await;
}

/// `.` and `..` are refused as names and as path segments.
pub async fn dot_and_dot_dot_are_refused(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    for dots in [".", ".."] {
        refused_name(root.child(dots), "reserved");
        let err = Path::new(&format!("{root}/{dots}/x")).unwrap_err();
        assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
    }
    c.store
        .create(&at(&root, "..."), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        c.store.children(&root).await.unwrap().len(),
        1,
        "`...` is a fine name"
    );
    teardown(&c, &root).await;
}

/// Control characters are refused, and the message names the character.
pub async fn control_character_in_a_name_is_refused(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    refused_name(root.child("a\u{0}b"), "U+0000");
    refused_name(root.child("tab\there"), "U+0009");
    refused_name(root.child("del\u{7f}"), "U+007F");
    nothing_created(&c, &root).await;
    teardown(&c, &root).await;
}

/// A name over 255 bytes is refused naming the limit; one of exactly 255
/// bytes is stored and read back.
pub async fn over_long_name_is_refused_naming_the_limit(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    refused_name(
        root.child(&"n".repeat(MAX_NAME_LEN + 1)),
        &MAX_NAME_LEN.to_string(),
    );
    nothing_created(&c, &root).await;
    let longest = root.child(&"n".repeat(MAX_NAME_LEN)).unwrap();
    c.store
        .create(&longest, b"ok", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(c.store.get(&longest).await.unwrap().unwrap().data, b"ok");
    assert_eq!(
        c.store.children(&root).await.unwrap()[0].as_str().len(),
        MAX_NAME_LEN
    );
    teardown(&c, &root).await;
}

/// A path over 4096 bytes is refused naming the limit, whether parsed or
/// joined; a deep path just under the limit is stored.
pub async fn over_long_path_is_refused_naming_the_limit(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let segment = "s".repeat(200);
    let mut deep = root.clone();
    while deep.as_str().len() + 1 + segment.len() <= MAX_PATH_LEN {
        deep = deep.child(&segment).unwrap();
    }
    c.store.create_all(&deep).await.unwrap();
    assert!(c.store.get(&deep).await.unwrap().is_some());
    for err in [
        deep.child(&segment).unwrap_err(),
        Path::new(&format!("{deep}/{segment}")).unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidPath { .. }), "{err:?}");
        assert!(err.to_string().contains(&MAX_PATH_LEN.to_string()), "{err}");
    }
    teardown(&c, &root).await;
}

fn assert_too_large(err: &Error, size: usize, limit: usize) {
    assert!(
        matches!(err, Error::PayloadTooLarge { size: s, limit: l } if *s == size && *l == limit),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&limit.to_string()),
        "message {err} names the limit"
    );
}

/// A payload of exactly the backend's limit is accepted.
pub async fn payload_at_the_limit_is_accepted(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let limit = c.store.info().max_payload;
    let n = at(&root, "full");
    c.store
        .create(&n, &vec![7u8; limit], CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(c.store.get(&n).await.unwrap().unwrap().data.len(), limit);
    c.store.set(&n, &vec![8u8; limit], None).await.unwrap();
    teardown(&c, &root).await;
}

/// A create with a payload over the limit fails with `PayloadTooLarge`
/// naming the limit, and creates nothing.
pub async fn oversized_payload_on_create_is_refused(backend: &dyn Backend) {
    if !backend.capabilities().payload_limit_enforced {
        return skipped(
            backend,
            "oversized_payload_on_create_is_refused",
            "does not refuse payloads over its limit",
        );
    }
    let (c, root) = setup(backend).await;
    let limit = c.store.info().max_payload;
    let err = c
        .store
        .create(
            &at(&root, "big"),
            &vec![0u8; limit + 1],
            CreateMode::Persistent,
        )
        .await
        .unwrap_err();
    assert_too_large(&err, limit + 1, limit);
    nothing_created(&c, &root).await;
    teardown(&c, &root).await;
}

/// A set with a payload over the limit fails with `PayloadTooLarge`, and
/// the node keeps its data and version.
pub async fn oversized_payload_on_set_is_refused(backend: &dyn Backend) {
    if !backend.capabilities().payload_limit_enforced {
        return skipped(
            backend,
            "oversized_payload_on_set_is_refused",
            "does not refuse payloads over its limit",
        );
    }
    let (c, root) = setup(backend).await;
    let limit = c.store.info().max_payload;
    let n = at(&root, "n");
    let v = c
        .store
        .create(&n, b"small", CreateMode::Persistent)
        .await
        .unwrap();
    let err = c
        .store
        .set(&n, &vec![0u8; limit + 1], Some(v))
        .await
        .unwrap_err();
    assert_too_large(&err, limit + 1, limit);
    let got = c.store.get(&n).await.unwrap().unwrap();
    assert_eq!((got.data.as_slice(), got.version), (&b"small"[..], v));
    teardown(&c, &root).await;
}

/// A multi holding a payload over the limit fails with `PayloadTooLarge`,
/// and none of its operations applies.
pub async fn oversized_payload_inside_multi_is_refused(backend: &dyn Backend) {
    if !backend.capabilities().payload_limit_enforced {
        return skipped(
            backend,
            "oversized_payload_inside_multi_is_refused",
            "does not refuse payloads over its limit",
        );
    }
    let (c, root) = setup(backend).await;
    let limit = c.store.info().max_payload;
    let (small, n) = (at(&root, "small"), at(&root, "n"));
    c.store
        .create(&n, b"kept", CreateMode::Persistent)
        .await
        .unwrap();
    for big in [
        Op::Set {
            path: n.clone(),
            data: vec![0u8; limit + 1],
            version: None,
        },
        Op::Create {
            path: at(&root, "big"),
            data: vec![0u8; limit + 1],
            mode: CreateMode::Persistent,
        },
    ] {
        let ops = [
            Op::Create {
                path: small.clone(),
                data: b"x".to_vec(),
                mode: CreateMode::Persistent,
            },
            big,
        ];
        let err = c.store.multi(&ops).await.unwrap_err();
        assert_too_large(&err, limit + 1, limit);
        assert_eq!(
            c.store.get(&small).await.unwrap(),
            None,
            "an op of the multi applied"
        );
        assert_eq!(c.store.get(&n).await.unwrap().unwrap().data, b"kept");
    }
    assert_eq!(c.store.children(&root).await.unwrap().len(), 1);
    teardown(&c, &root).await;
}

/// A create under a missing parent is refused with `NoParent`, and the
/// message names the path.
pub async fn missing_parent_is_refused_naming_the_path(backend: &dyn Backend) {
    let (c, root) = setup(backend).await;
    let orphan = at(&root, "no/such/parent");
    let err = c
        .store
        .create(&orphan, b"", CreateMode::Persistent)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoParent { .. }), "{err:?}");
    assert!(err.is_not_found());
    assert!(err.to_string().contains(orphan.as_str()), "{err}");
    nothing_created(&c, &root).await;
    teardown(&c, &root).await;
}

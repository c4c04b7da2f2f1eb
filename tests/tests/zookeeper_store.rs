//! What only the ZooKeeper store does, against a real server: bounded
//! connects, digest ACLs and credentials, chroots, the payload limit.
//! Sessions are in `zookeeper_session.rs`.

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use tenure_core::{CoordinationStore, CreateMode, Error, Op, Path, SessionState, StoreExt};
use tenure_tests::backend::{Backend, unique_root};
use tenure_tests::server_util::free_port;
use tenure_tests::zookeeper::ZkBackend;
use tenure_zookeeper::zookeeper_client as zk;
use tenure_zookeeper::{Credentials, MAX_PAYLOAD, ZkConfig};

const LONG: Duration = Duration::from_secs(10);
const PATIENCE: Duration = Duration::from_secs(5);

async fn backend() -> ZkBackend {
    ZkBackend::shared().await
}

fn assert_unauthorized<T: std::fmt::Debug>(r: tenure_core::Result<T>, what: &str) {
    assert!(
        matches!(r, Err(Error::Unauthorized { .. })),
        "{what}: {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_times_out_naming_the_address_within_the_bound() {
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let bound = Duration::from_millis(800);
    let start = Instant::now();
    let err = ZkConfig::new(&addr)
        .with_connect_timeout(bound)
        .connect()
        .await
        .unwrap_err();
    let took = start.elapsed();
    eprintln!("silent server: {err} after {took:?}");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == bound),
        "{err:?}"
    );
    assert!(err.to_string().contains(&addr), "{err}");
    assert!(
        took >= bound && took < bound + Duration::from_millis(400),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_times_out_naming_the_address_and_the_refusal() {
    let addr = format!("127.0.0.1:{}", free_port());
    let bound = Duration::from_millis(600);
    let start = Instant::now();
    let err = ZkConfig::new(&addr)
        .with_connect_timeout(bound)
        .connect()
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(&addr) && shown.contains("refused"),
        "{shown}"
    );
    assert!(took < bound + Duration::from_millis(400), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_server_lists_are_refused_before_connecting() {
    for bad in [
        "",
        "localhost",
        "127.0.0.1:2181/chroot",
        "127.0.0.1:notaport",
    ] {
        let err = ZkConfig::new(bad).connect().await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{bad:?}: {err:?}");
    }
}

fn digest(user_password: &str) -> Credentials {
    Credentials::parse(user_password).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_acl_keeps_clients_without_the_credentials_out() {
    let zk = backend().await;
    let chroot = unique_root("zkacl1");
    let alice = zk
        .client_with(
            zk.config(LONG)
                .with_chroot(chroot.clone())
                .with_credentials(digest("alice:right")),
        )
        .await
        .unwrap();
    let a = Path::new("/a").unwrap();
    let v = alice
        .store
        .create(&a, b"secret", CreateMode::Persistent)
        .await
        .unwrap();
    alice.store.set(&a, b"mine", Some(v)).await.unwrap();

    // Without credentials: neither read nor write, anywhere in the tree.
    let anon = zk.connect(LONG).await.unwrap();
    let seen_a = chroot.child("a").unwrap();
    assert_unauthorized(anon.store.get(&seen_a).await, "get");
    assert_unauthorized(anon.store.set(&seen_a, b"x", None).await, "set");
    assert_unauthorized(anon.store.delete(&seen_a, None).await, "delete");
    assert_unauthorized(anon.store.children(&chroot).await, "children");
    let child = seen_a.child("kid").unwrap();
    assert_unauthorized(
        anon.store.create(&child, b"", CreateMode::Persistent).await,
        "create below",
    );
    assert_eq!(alice.store.get(&a).await.unwrap().unwrap().data, b"mine");

    // The ACL the server stored: all rights for alice's digest, nothing else.
    let raw = zk::Client::connector()
        .with_auth("digest", b"alice:right")
        .connect(&zk.upstream().to_string())
        .await
        .unwrap();
    let (acl, _) = raw.get_acl(seen_a.as_str()).await.unwrap();
    assert_eq!(acl.len(), 1, "{acl:?}");
    assert_eq!(acl[0].scheme(), "digest");
    assert!(acl[0].id().starts_with("alice:"), "{acl:?}");
    assert_eq!(acl[0].permission(), zk::Permission::ALL);

    alice.store.delete(&a, None).await.unwrap();
    let _ = anon.store.close().await;
    let _ = alice.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_on_a_protected_chroot_is_refused_at_connect() {
    let zk = backend().await;
    let chroot = unique_root("zkacl2");
    let owner = zk
        .client_with(
            zk.config(LONG)
                .with_chroot(chroot.clone())
                .with_credentials(digest("bob:right")),
        )
        .await
        .unwrap();
    for (who, config) in [
        (
            "wrong password",
            zk.config(LONG).with_credentials(digest("bob:wrong")),
        ),
        (
            "other user",
            zk.config(LONG).with_credentials(digest("eve:right")),
        ),
        ("no credentials", zk.config(LONG)),
    ] {
        let err = zk
            .connect_with(config.with_chroot(chroot.clone()))
            .await
            .map(drop)
            .unwrap_err();
        assert!(matches!(err, Error::Unauthorized { .. }), "{who}: {err:?}");
        assert!(err.to_string().contains(chroot.as_str()), "{who}: {err}");
    }
    // The right credentials still work on the existing chroot.
    let again = zk
        .client_with(
            zk.config(LONG)
                .with_chroot(chroot.clone())
                .with_credentials(digest("bob:right")),
        )
        .await
        .unwrap();
    assert!(
        again
            .store
            .children(&Path::root())
            .await
            .unwrap()
            .is_empty()
    );
    let _ = again.store.close().await;
    let _ = owner.store.close().await;
}

/// ZooKeeper accepts any digest credentials when a session starts: a wrong
/// password only shows as `NoAuth` on a protected node. An unknown scheme
/// is refused at once (`AuthFailed`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_without_chroot_is_refused_on_the_first_protected_request() {
    let zk = backend().await;
    let chroot = unique_root("zkacl3");
    let owner = zk
        .client_with(
            zk.config(LONG)
                .with_chroot(chroot.clone())
                .with_credentials(digest("carol:right")),
        )
        .await
        .unwrap();
    let wrong = zk
        .client_with(zk.config(LONG).with_credentials(digest("carol:wrong")))
        .await
        .expect("ZooKeeper accepts any digest at connect");
    assert_unauthorized(wrong.store.children(&chroot).await, "children");
    assert_unauthorized(
        wrong
            .store
            .create(&chroot.child("x").unwrap(), b"", CreateMode::Persistent)
            .await,
        "create",
    );
    // What the client library reports for each case.
    let server = zk.upstream().to_string();
    let raw = zk::Client::connector()
        .with_auth("digest", b"carol:wrong")
        .connect(&server)
        .await
        .unwrap();
    assert_eq!(
        raw.list_children(chroot.as_str()).await,
        Err(zk::Error::NoAuth)
    );
    let unknown = zk::Client::connector()
        .with_auth("nosuchscheme", b"x")
        .connect(&server)
        .await;
    assert_eq!(unknown.map(drop), Err(zk::Error::AuthFailed));
    let _ = wrong.store.close().await;
    let _ = owner.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limit_leaves_room_for_the_longest_path_under_a_long_chroot() {
    let zk = backend().await;
    // A chroot and a path each close to the 4096-byte path limit.
    let segment = "c".repeat(250);
    let mut chroot = unique_root("zkbig");
    while chroot.as_str().len() + 251 <= 4000 {
        chroot = chroot.child(&segment).unwrap();
    }
    let c = zk
        .client_with(
            zk.config(LONG)
                .with_chroot(chroot.clone())
                .with_credentials(digest("dave:pw")),
        )
        .await
        .unwrap();
    let mut deep = Path::root();
    while deep.as_str().len() + 251 <= 4096 {
        deep = deep.child(&segment).unwrap();
    }
    c.store.create_all(&deep.parent().unwrap()).await.unwrap();
    let before = c.store.live_session().unwrap();
    c.store
        .create(&deep, &vec![1u8; MAX_PAYLOAD], CreateMode::Persistent)
        .await
        .unwrap();
    c.store
        .set(&deep, &vec![2u8; MAX_PAYLOAD], None)
        .await
        .unwrap();
    assert_eq!(
        c.store.get(&deep).await.unwrap().unwrap().data.len(),
        MAX_PAYLOAD
    );

    // Two payloads that fit alone but not together: refused before sending.
    let half = vec![3u8; MAX_PAYLOAD / 2 + 1];
    let sibling = deep.parent().unwrap().child("s").unwrap();
    let err = c
        .store
        .multi(&[
            Op::Set {
                path: deep.clone(),
                data: half.clone(),
                version: None,
            },
            Op::Create {
                path: sibling.clone(),
                data: half,
                mode: CreateMode::Persistent,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PayloadTooLarge { .. }), "{err:?}");
    // Nothing went out that could have cost the connection.
    assert_eq!(c.store.session_state(), SessionState::Connected(before));
    assert_eq!(c.store.get(&sibling).await.unwrap(), None);
    let _ = c.store.delete_all(&Path::root()).await;
    let _ = c.store.close().await;
}

/// The measurement behind the limit: with the default `jute.maxbuffer`, a
/// create of `/…/x` with an open ACL carries at most 1,048,524 bytes; one
/// byte more and the server drops the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_drops_the_connection_for_a_packet_over_jute_maxbuffer() {
    let zk = backend().await;
    let root = unique_root("zkjute");
    let c = zk.connect(LONG).await.unwrap();
    c.store.create_all(&root).await.unwrap();
    let raw = zk::Client::connector()
        .connect(&zk.upstream().to_string())
        .await
        .unwrap();
    let open = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    // Packet: header 8, path 4 + len, data 4 + n, ACL 27, flags 4.
    let path = format!("{root}/x");
    let largest = tenure_zookeeper::limits::JUTE_MAX_BUFFER - (8 + 4 + path.len() + 4 + 27 + 4);
    let too_big = raw.create(&path, &vec![0u8; largest + 1], &open).await;
    assert_eq!(too_big.map(drop), Err(zk::Error::ConnectionLoss));
    raw.create(&path, &vec![0u8; largest], &open).await.unwrap();
    assert!(largest > MAX_PAYLOAD);
    let _ = c.store.delete_all(&root).await;
    let _ = c.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chroot_confines_the_store_below_its_node() {
    let zk = backend().await;
    let chroot = unique_root("zkchroot");
    let inside = zk
        .client_with(zk.config(LONG).with_chroot(chroot.clone()))
        .await
        .unwrap();
    let outside = zk.connect(LONG).await.unwrap();
    let s = inside.store.live_session().unwrap();
    let x = Path::new("/x").unwrap();
    inside
        .store
        .create(&x, b"in", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let (_, watch) = inside
        .store
        .children_and_watch(&Path::root())
        .await
        .unwrap();
    let seen = outside
        .store
        .get(&chroot.child("x").unwrap())
        .await
        .unwrap();
    assert_eq!(seen.unwrap().ephemeral_owner, Some(s));
    outside
        .store
        .create(&chroot.child("y").unwrap(), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        tokio::time::timeout(PATIENCE, watch).await.unwrap(),
        tenure_core::WatchEvent::ChildrenChanged
    );
    let names: Vec<String> = inside
        .store
        .children(&Path::root())
        .await
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ["x", "y"]);
    assert!(inside.store.to_string().ends_with(chroot.as_str()));
    let _ = inside.store.close().await;
    let _ = outside.store.delete_all(&chroot).await;
    let _ = outside.store.close().await;
}

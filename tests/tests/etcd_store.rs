//! etcd-specific store behaviour against a real etcd 3.4: the key layout,
//! authentication, bounded connects, the payload limit measured against
//! the server, compaction, watch stream sharing and transaction limits.

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use tenure_core::{CoordinationStore, CreateMode, Error, Op, Path, StoreExt, WatchEvent};
use tenure_etcd::etcd_client::{GetOptions, Permission};
use tenure_etcd::{Credentials, EtcdConfig, EtcdStore, MAX_PAYLOAD};
use tenure_tests::backend::unique_root;
use tenure_tests::etcd::{EtcdBackend, EtcdServer, NAMESPACE, start_with_users};
use tenure_tests::server_util::{free_port, tcp_request};

const LONG: Duration = Duration::from_secs(10);

async fn shared() -> EtcdBackend {
    EtcdBackend::shared().await
}

async fn store(backend: &EtcdBackend) -> EtcdStore {
    backend.config(LONG).connect().await.unwrap()
}

fn at(root: &Path, rel: &str) -> Path {
    Path::new(&format!("{root}/{rel}")).unwrap()
}

fn raw_key(path: &Path) -> Vec<u8> {
    let depth = path.segments().count();
    format!("{NAMESPACE}/{depth:04}{path}").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_range_excludes_grandchildren_and_prefix_siblings() {
    let backend = shared().await;
    let s = store(&backend).await;
    let root = unique_root("etcd");
    for rel in ["a/b/c", "a/bc/x", "a/b-1", "a/b0", "ab/c"] {
        s.create_all(&at(&root, rel)).await.unwrap();
    }
    let b = at(&root, "a/b");
    assert_eq!(s.key_of(&b), raw_key(&b), "documented layout");
    // The children of /a/b are one prefix range holding /a/b/c only.
    let depth = b.segments().count() + 1;
    let prefix = format!("{NAMESPACE}/{depth:04}{b}/");
    let mut admin = backend.admin().await.unwrap();
    let listed = admin
        .get(
            prefix,
            Some(GetOptions::new().with_prefix().with_keys_only()),
        )
        .await
        .unwrap();
    let keys: Vec<Vec<u8>> = listed.kvs().iter().map(|kv| kv.key().to_vec()).collect();
    assert_eq!(keys, [raw_key(&at(&root, "a/b/c"))]);
    let names: Vec<String> = s
        .children(&at(&root, "a"))
        .await
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ["b", "b-1", "b0", "bc"]);
    s.delete_all(&root).await.unwrap();
    s.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_exists_and_cannot_be_deleted() {
    let s = store(&shared().await).await;
    let node = s.get(&Path::root()).await.unwrap().expect("root exists");
    assert_eq!(node.ephemeral_owner, None);
    let err = s.delete(&Path::root(), None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err:?}");
    let err = s
        .create(&Path::root(), b"", CreateMode::Persistent)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    s.close().await.unwrap();
}

/// A private server with authentication on: `root`/`rootpw`, and `tenure`
/// (password `good`) with read-write rights on the test namespace only.
async fn server_with_auth() -> EtcdServer {
    let rights = Permission::read_write(NAMESPACE).with_prefix();
    start_with_users(&[
        ("tenure", "good", Some(("tenure", rights))),
        ("stranger", "pw", None),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_checked_and_wrong_ones_refused() {
    let server = server_with_auth().await;
    let backend = EtcdBackend::on(server.addr());
    let with = |user: &str, pw: &str| {
        backend
            .config(LONG)
            .with_credentials(Credentials::new(user, pw).unwrap())
    };
    let started = Instant::now();
    let err = with("tenure", "bad").connect().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    let err = backend.config(LONG).connect().await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { .. }),
        "no credentials: {err:?}"
    );
    let err = with("stranger", "pw").connect().await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { .. }),
        "no rights on the namespace: {err:?}"
    );
    let s = with("tenure", "good").connect().await.unwrap();
    let root = unique_root("etcd");
    s.create_all(&root).await.unwrap();
    let session = s.live_session().unwrap();
    let e = at(&root, "e");
    s.create(&e, b"x", CreateMode::Ephemeral(session))
        .await
        .unwrap();
    let (_, watch) = s.get_and_watch(&e).await.unwrap();
    s.set(&e, b"y", None).await.unwrap();
    assert_eq!(watch.await, WatchEvent::Changed);
    s.close().await.unwrap();
}

async fn assert_connect_times_out(endpoint: String) {
    let bound = Duration::from_secs(1);
    let started = Instant::now();
    let err = EtcdConfig::new([endpoint.clone()])
        .with_connect_timeout(bound)
        .connect()
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("connect to {endpoint}: {err} after {took:?}");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains(&endpoint), "{err}");
    assert!(
        took >= bound && took < bound + Duration::from_millis(500),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_times_out_naming_it() {
    // Nothing listens: connections are refused.
    assert_connect_times_out(format!("127.0.0.1:{}", free_port())).await;
    // Something accepts connections but never speaks.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_connect_times_out(silent.local_addr().unwrap().to_string()).await;
}

/// The largest value etcd accepts in one put under a short key.
async fn largest_accepted_put(backend: &EtcdBackend) -> usize {
    let mut admin = backend.admin().await.unwrap();
    let key = format!("{NAMESPACE}-limit/{}", std::process::id());
    let (mut ok, mut refused) = (1024 * 1024, 2 * 1024 * 1024);
    while refused - ok > 1 {
        let mid = (ok + refused) / 2;
        match admin.put(key.clone(), vec![1u8; mid], None).await {
            Ok(_) => ok = mid,
            Err(_) => refused = mid,
        }
    }
    admin.delete(key, None).await.unwrap();
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_limit_leaves_room_under_the_servers_request_limit() {
    let backend = shared().await;
    let largest = largest_accepted_put(&backend).await;
    eprintln!(
        "etcd accepts puts of up to {largest} value bytes (request limit 1572864); \
         store limit {MAX_PAYLOAD}, {} bytes of margin",
        largest - MAX_PAYLOAD
    );
    assert!(
        largest > MAX_PAYLOAD + 16 * 1024,
        "margin too thin: {largest}"
    );

    let s = store(&backend).await;
    assert_eq!(s.info().max_payload, MAX_PAYLOAD);
    // The longest path, with a payload at the limit, goes through.
    let root = unique_root("etcd");
    let segment = "s".repeat(200);
    let mut deep = root.clone();
    while deep.as_str().len() + 1 + segment.len() <= tenure_core::store::MAX_PATH_LEN {
        deep = deep.child(&segment).unwrap();
    }
    s.create_all(&deep.parent().unwrap()).await.unwrap();
    s.create(&deep, &vec![7u8; MAX_PAYLOAD], CreateMode::Persistent)
        .await
        .unwrap();
    s.set(&deep, &vec![8u8; MAX_PAYLOAD], None).await.unwrap();
    let err = s
        .set(&deep, &vec![9u8; MAX_PAYLOAD + 1], None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PayloadTooLarge { size, limit } if size == MAX_PAYLOAD + 1 && limit == MAX_PAYLOAD),
        "{err:?}"
    );
    // Two payloads that fit alone but not together in one transaction.
    let half = MAX_PAYLOAD / 2 + 1;
    let err = s
        .multi(&[
            Op::Set {
                path: deep.clone(),
                data: vec![1; half],
                version: None,
            },
            Op::Create {
                path: at(&root, "other"),
                data: vec![2; half],
                mode: CreateMode::Persistent,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PayloadTooLarge { .. }), "{err:?}");
    s.delete_all(&root).await.unwrap();
    s.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacted_watch_start_fires_the_watch() {
    let backend = shared().await;
    let (s, proxy) = backend.connect_with(backend.config(LONG)).await.unwrap();
    let root = unique_root("etcd");
    s.create_all(&root).await.unwrap();
    let n = at(&root, "n");
    s.create(&n, b"", CreateMode::Persistent).await.unwrap();
    let (_, mut watch) = s.get_and_watch(&n).await.unwrap();
    let (_, mut kids) = s.children_and_watch(&root).await.unwrap();
    // Unrelated writes, then a compaction past the watches' start.
    let mut admin = backend.admin().await.unwrap();
    let mut revision = 0;
    for i in 0..3 {
        let put = admin
            .put(format!("{NAMESPACE}-unrelated/{i}"), "x", None)
            .await
            .unwrap();
        revision = put.header().unwrap().revision();
    }
    admin.compact(revision, None).await.unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), &mut watch).await;
    assert!(quiet.is_err(), "fired before its stream broke");
    // The stream breaks: re-created from the old start, the watches meet
    // the compaction and fire so their owner re-reads.
    proxy.cut();
    let fired = tokio::time::timeout(Duration::from_secs(10), async {
        ((&mut watch).await, (&mut kids).await)
    })
    .await
    .expect("watches fire after meeting the compaction");
    assert_eq!(fired, (WatchEvent::Changed, WatchEvent::ChildrenChanged));
    // Re-reading and re-arming works as usual.
    let (_, watch) = s.get_and_watch(&n).await.unwrap();
    s.set(&n, b"x", None).await.unwrap();
    assert_eq!(watch.await, WatchEvent::Changed);
    s.delete_all(&root).await.unwrap();
    s.close().await.unwrap();
}

/// The value of a gauge from etcd's `/metrics`.
fn gauge(server: &EtcdServer, name: &str) -> f64 {
    let request = b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let metrics = tcp_request(server.addr(), request, Duration::from_secs(2)).unwrap();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_of_one_store_share_one_stream() {
    let server = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .unwrap();
    let backend = EtcdBackend::on(server.addr());
    let s = store(&backend).await;
    let root = unique_root("etcd");
    s.create_all(&root).await.unwrap();
    let streams = gauge(&server, "etcd_debugging_mvcc_watch_stream_total");
    let watchers = gauge(&server, "etcd_debugging_mvcc_watcher_total");
    let mut watches = Vec::new();
    for i in 0..50 {
        watches.push(
            s.get_and_watch(&at(&root, &format!("n{i}")))
                .await
                .unwrap()
                .1,
        );
        watches.push(s.children_and_watch(&root).await.unwrap().1);
    }
    // 50 node watches and 50 children watches (two etcd watches each).
    let want = watchers + 150.0;
    let counted = tenure_tests::server_util::wait_until(Duration::from_secs(5), || {
        gauge(&server, "etcd_debugging_mvcc_watcher_total") >= want
    });
    assert!(counted.is_some(), "watchers not registered");
    let now_streams = gauge(&server, "etcd_debugging_mvcc_watch_stream_total");
    assert_eq!(now_streams - streams, 1.0, "one stream for every watch");
    s.create(&at(&root, "n0"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    for w in watches.drain(..2) {
        let event = tokio::time::timeout(Duration::from_secs(5), w)
            .await
            .unwrap();
        assert!(matches!(
            event,
            WatchEvent::Created | WatchEvent::ChildrenChanged
        ));
    }
    // Fired watches are cancelled on the server.
    let fired_gone = tenure_tests::server_util::wait_until(Duration::from_secs(5), || {
        gauge(&server, "etcd_debugging_mvcc_watcher_total") <= want - 50.0
    });
    assert!(fired_gone.is_some(), "fired watches left on the server");
    s.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_node_watches_of_one_folder_share_one_etcd_watch() {
    let server = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .unwrap();
    let backend = EtcdBackend::on(server.addr());
    let (s, proxy) = backend.connect_with(backend.config(LONG)).await.unwrap();
    let root = unique_root("etcd");
    s.create_all(&root).await.unwrap();
    for i in 0..200 {
        s.create(&at(&root, &format!("n{i}")), b"", CreateMode::Persistent)
            .await
            .unwrap();
    }
    let watchers = gauge(&server, "etcd_debugging_mvcc_watcher_total");
    // 200 watches on nodes that exist, 10 on nodes that do not yet.
    let mut nodes = Vec::new();
    for i in 0..200 {
        nodes.push(Some(
            s.get_and_watch(&at(&root, &format!("n{i}")))
                .await
                .unwrap()
                .1,
        ));
    }
    let mut missing = Vec::new();
    for i in 0..10 {
        let (node, watch) = s.get_and_watch(&at(&root, &format!("m{i}"))).await.unwrap();
        assert!(node.is_none());
        missing.push(Some(watch));
    }
    // 63 watches of their own, then one watch of the folder's range for
    // the other 147: 64 etcd watchers, not 210.
    let want = watchers + 64.0;
    let counted = tenure_tests::server_util::wait_until(Duration::from_secs(5), || {
        gauge(&server, "etcd_debugging_mvcc_watcher_total") >= want
    });
    assert!(counted.is_some(), "watchers not registered");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        gauge(&server, "etcd_debugging_mvcc_watcher_total"),
        want,
        "210 node watches on 64 etcd watchers"
    );

    async fn fires(watch: &mut Option<tenure_core::Watch>) -> WatchEvent {
        let w = watch.as_mut().unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), w)
            .await
            .expect("the watch fires");
        *watch = None;
        event
    }
    async fn quiet(watch: &mut Option<tenure_core::Watch>) -> bool {
        let w = watch.as_mut().unwrap();
        tokio::time::timeout(Duration::from_millis(200), w)
            .await
            .is_err()
    }
    // Each change fires the watch of its node only, shared or not.
    for i in [5, 150] {
        s.set(&at(&root, &format!("n{i}")), b"x", None)
            .await
            .unwrap();
        assert_eq!(fires(&mut nodes[i]).await, WatchEvent::Changed, "n{i}");
    }
    s.delete(&at(&root, "n170"), None).await.unwrap();
    assert_eq!(fires(&mut nodes[170]).await, WatchEvent::Deleted);
    s.create(&at(&root, "m3"), b"", CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(fires(&mut missing[3]).await, WatchEvent::Created);
    for i in [4, 6, 149, 151, 169, 171] {
        assert!(quiet(&mut nodes[i]).await, "n{i} fired for another node");
    }
    assert!(quiet(&mut missing[4]).await, "m4 fired for m3");
    // Changes while the stream is broken reach the shared watch once it
    // is created again from where it was.
    proxy.cut();
    let mut admin = backend.admin().await.unwrap();
    let key = s.key_of(&at(&root, "n160"));
    admin.put(key, "y", None).await.unwrap();
    assert_eq!(fires(&mut nodes[160]).await, WatchEvent::Changed);
    assert!(quiet(&mut nodes[161]).await, "n161 fired for n160");
    s.delete_all(&root).await.unwrap();
    s.close().await.unwrap();
}

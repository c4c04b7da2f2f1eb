//! Core's observing store layer: every request is told before and after,
//! with its operation, path, session and error; the store beneath is
//! unchanged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure_core::store::{Completed, Observed, Operation, Request, StoreObserver};
use tenure_core::{CoordinationStore, CreateMode, DynStore, Error, Op, Path};
use tenure_memory::MemoryServer;

/// What the observer saw: `before`/`after`, operation, path, error.
type Seen = Vec<(&'static str, Operation, Option<String>, Option<String>)>;

#[derive(Default)]
struct Log(Mutex<Seen>);

impl Log {
    fn push(&self, when: &'static str, request: &Request<'_>, error: Option<&Error>) {
        let path = request.path.map(|p| p.as_str().to_owned());
        let error = error.map(|e| e.to_string());
        let mut seen = self.0.lock().expect("log poisoned");
        seen.push((when, request.operation, path, error));
    }
}

impl StoreObserver for Log {
    fn before(&self, request: &Request<'_>) {
        assert!(request.session.is_some(), "requests carry their session");
        self.push("before", request, None);
    }
    fn after(&self, completed: &Completed<'_>) {
        assert!(completed.returned >= completed.request.sent);
        assert!(completed.answered());
        self.push("after", &completed.request, completed.error);
    }
}

fn path(s: &str) -> Path {
    Path::new(s).expect("valid path")
}

#[tokio::test]
async fn every_request_is_told_before_and_after_with_its_outcome() {
    let server = MemoryServer::new();
    let raw: DynStore = Arc::new(
        server
            .connect(Duration::from_secs(5))
            .await
            .expect("connect"),
    );
    let log = Arc::new(Log::default());
    let store = Observed::new(raw.clone(), log.clone());
    assert_eq!(store.to_string(), raw.to_string());

    let a = path("/a");
    store
        .create(&a, b"1", CreateMode::Persistent)
        .await
        .expect("create");
    let conflict = store.create(&a, b"2", CreateMode::Persistent).await;
    assert!(matches!(conflict, Err(Error::AlreadyExists { .. })));
    let node = store.get(&a).await.expect("get").expect("node");
    assert_eq!(node.data, b"1");
    let ops = [
        Op::Check {
            path: a.clone(),
            version: Some(node.version),
        },
        Op::Delete {
            path: a.clone(),
            version: None,
        },
    ];
    store.multi(&ops).await.expect("multi");
    assert!(
        raw.get(&a).await.expect("get").is_none(),
        "the layer forwards"
    );

    let seen = log.0.lock().expect("log poisoned").clone();
    let a = Some("/a".to_owned());
    let outcomes: Vec<_> = seen.iter().filter(|s| s.0 == "after").collect();
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(
        outcomes
            .iter()
            .map(|s| (s.1, s.2.clone()))
            .collect::<Vec<_>>(),
        vec![
            (Operation::Create, a.clone()),
            (Operation::Create, a.clone()),
            (Operation::Get, a.clone()),
            (Operation::Multi, a.clone()),
        ]
    );
    assert!(outcomes[1].3.is_some(), "the conflict is told as an error");
    assert!(
        outcomes
            .iter()
            .enumerate()
            .all(|(i, s)| i == 1 || s.3.is_none())
    );
    assert_eq!(Operation::GetAndWatch.as_str(), "get_and_watch");
}

/// The requests an observer of `tenure_tests::observed` counts.
#[derive(Default)]
struct Requests(Mutex<Vec<(tenure_tests::observed::Kind, u64)>>);

impl tenure_tests::observed::Observer for Requests {
    fn answered(&self, request: &tenure_tests::observed::Request<'_>) {
        let mut seen = self.0.lock().expect("poisoned");
        seen.push((request.kind, request.requests));
    }
}

#[tokio::test]
async fn reads_of_several_nodes_count_the_requests_the_backend_sends() {
    // The memory backend reads and watches one node per request: a
    // get_many_and_watch of 3 paths is 3 requests, a get_many one.
    let server = MemoryServer::new();
    let store: DynStore = Arc::new(server.connect(Duration::from_secs(10)).await.unwrap());
    let requests = Arc::new(Requests::default());
    let observed = tenure_tests::observed::observe(store, requests.clone());
    let paths = [path("/a"), path("/b"), path("/c")];
    observed.get_many_and_watch(&paths).await.unwrap();
    observed.get_many(&paths).await.unwrap();
    let seen = requests.0.lock().expect("poisoned").clone();
    use tenure_tests::observed::Kind;
    assert_eq!(seen, [(Kind::Get, 3), (Kind::Get, 1)]);
}

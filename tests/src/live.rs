//! A small cluster of in-process workers over a real server (any
//! [`Backend`]: ZooKeeper, etcd), in real time, for runtime tests that
//! must see a real backend's numbering of versions and revisions: workers
//! joined by name, a handler that records every start and stop with its
//! token and payload, bounded waits, and a teardown that removes the
//! cluster's root.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tenure_core::{Admin, Layout, Path, StoreExt, TaskId, Worker, WorkerEvent, WorkerId};

use crate::backend::{Backend, TestClient, unique_root};
use crate::runs::Runs;

/// How often [`LiveCluster::wait_until`] looks.
pub const POLL: Duration = Duration::from_millis(10);

/// One running worker.
pub struct LiveMember {
    /// Its client (store and fault controls).
    pub client: TestClient,
    /// The worker.
    pub worker: Worker,
    run: tokio::task::JoinHandle<tenure_core::Result<()>>,
}

/// A cluster at a root of its own on a real server.
pub struct LiveCluster {
    backend: Arc<dyn Backend>,
    session: Duration,
    /// An admin handle on its own client.
    pub admin: Admin,
    admin_client: TestClient,
    /// The cluster's root.
    pub root: Path,
    /// Every handler run.
    pub runs: Runs,
    members: BTreeMap<String, LiveMember>,
}

impl LiveCluster {
    /// An empty cluster at a fresh root; every client asks for `session`.
    ///
    /// # Panics
    /// If the server cannot be reached.
    pub async fn new(backend: Arc<dyn Backend>, session: Duration) -> Self {
        let admin_client = backend.connect(session).await.unwrap();
        let root = unique_root("live");
        let layout = Layout::at(root.clone()).unwrap();
        let admin = Admin::at(admin_client.store.clone(), layout).await.unwrap();
        LiveCluster {
            backend,
            session,
            admin,
            admin_client,
            root,
            runs: Runs::new(),
            members: BTreeMap::new(),
        }
    }

    /// The admin's client.
    pub fn admin_client(&self) -> &TestClient {
        &self.admin_client
    }

    /// Starts a worker named `name` on a client of its own.
    ///
    /// # Panics
    /// If the server cannot be reached or the worker cannot be built.
    pub async fn join(&mut self, name: &str) {
        let client = self.backend.connect(self.session).await.unwrap();
        self.start(name, client);
    }

    /// Starts workers named `names`, as a fleet of processes starting
    /// together: their clients connect at once, then the workers start one
    /// after the other, `gap` apart.
    ///
    /// # Panics
    /// If the server cannot be reached or a worker cannot be built.
    pub async fn join_many(&mut self, names: &[String], gap: Duration) {
        let connects = names.iter().map(|_| self.backend.connect(self.session));
        let clients = futures::future::join_all(connects).await;
        for (name, client) in names.iter().zip(clients) {
            self.start(name, client.unwrap());
            tokio::time::sleep(gap).await;
        }
    }

    fn start(&mut self, name: &str, client: TestClient) {
        let worker = Worker::builder(client.store.clone(), "live")
            .root(self.root.clone())
            .id(name)
            .handler(self.runs.handler())
            .build()
            .unwrap();
        let run = worker.spawn();
        self.members.insert(
            name.to_owned(),
            LiveMember {
                client,
                worker,
                run,
            },
        );
    }

    /// A running member.
    ///
    /// # Panics
    /// If no member has that name.
    pub fn member(&self, name: &str) -> &LiveMember {
        &self.members[name]
    }

    /// The events of a member from now on.
    pub fn events(&self, name: &str) -> tokio::sync::broadcast::Receiver<WorkerEvent> {
        self.member(name).worker.events()
    }

    /// Who runs what now by the handlers' history: task → (worker, token).
    ///
    /// # Panics
    /// If anything went wrong so far (two runners, a token not above the
    /// last one) or a task runs twice.
    pub fn running(&self) -> BTreeMap<TaskId, (WorkerId, u64)> {
        self.runs.running()
    }

    /// The payload of the handler of `task` running now, if one runs.
    pub fn running_payload(&self, task: &TaskId) -> Option<Vec<u8>> {
        let (_, token) = self.running().get(task)?.clone();
        self.runs.payload(task, token)
    }

    /// Polls every [`POLL`] until `done` holds; panics after `limit`.
    /// Returns how long it took.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Duration {
        self.runs.wait_until(what, limit, POLL, || done(self)).await
    }

    /// Shuts every worker down, removes the cluster's root and closes the
    /// clients (best effort).
    pub async fn stop(mut self) {
        for (_, m) in std::mem::take(&mut self.members) {
            m.worker.shutdown().await;
            let _ = m.run.await;
            let _ = m.client.store.close().await;
        }
        let _ = self.admin_client.store.delete_all(&self.root).await;
        let _ = self.admin_client.store.close().await;
    }
}

/// A fencing counter that does not decode stops the claims of its task and
/// of no other, writes nothing, is told once as a worker event naming the
/// node; repaired, the task runs with the token after the one written.
/// Against any real backend.
///
/// # Panics
/// When any of that does not hold.
pub async fn malformed_epoch_stops_only_its_task(backend: Arc<dyn Backend>) {
    const SESSION: Duration = Duration::from_secs(2);
    const BOUND: Duration = Duration::from_secs(10);
    let mut c = LiveCluster::new(backend, SESSION).await;
    let (t0, t1) = (TaskId::new("T0").unwrap(), TaskId::new("T1").unwrap());
    for t in [&t0, &t1] {
        c.admin
            .add_task(tenure_core::TaskSpec::new(t.as_str()).unwrap())
            .await
            .unwrap();
    }
    let store = c.admin.store().clone();
    let epoch = c.admin.layout().epoch(&t0);
    crate::runtime::write_by_hand(&*store, &epoch, b"not a token").await;
    c.join("W1").await;
    let mut events = c.events("W1");
    c.wait_until("T1 runs", BOUND, |c| c.running().contains_key(&t1))
        .await;
    // Several passes of the worker (a heartbeat is a sixth of the session).
    tokio::time::sleep(SESSION).await;
    assert!(!c.running().contains_key(&t0), "{:?}", c.running());
    assert_eq!(
        crate::runtime::malformed(&mut events),
        [(epoch.clone(), "epoch")]
    );
    let node = store.get(&epoch).await.unwrap().unwrap();
    assert_eq!(node.data, b"not a token");
    let owner = store.get(&c.admin.layout().owner(&t0)).await.unwrap();
    assert!(owner.is_none(), "no ownership record: {owner:?}");

    crate::runtime::write_by_hand(&*store, &epoch, b"41").await;
    c.wait_until("T0 runs with token 42", BOUND, |c| {
        c.running().get(&t0).is_some_and(|(_, t)| *t == 42)
    })
    .await;
    c.stop().await;
}

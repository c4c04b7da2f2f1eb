//! A cluster on the memory backend whose workers each run a given
//! strategy, with the check that every task runs exactly once where the
//! strategy puts it (`tests/strategies_runtime.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tenure_core::strategy::{Assignment, Strategy, StrategyInput, TaskInfo, WorkerInfo};
use tenure_core::{Admin, DynStore, Layout, Path, TaskId, TaskSpec, Worker, WorkerId};
use tenure_memory::{MemoryServer, MemoryStore};

use crate::sim::{History, SESSION, SETTLE};

/// Tasks in every cluster: `T0` … `T8`.
pub const TASKS: usize = 9;

/// One worker of the cluster, with its own client.
struct Member {
    store: MemoryStore,
    worker: Worker,
    run: tokio::task::JoinHandle<tenure_core::Result<()>>,
}

/// A cluster whose workers each get a strategy from `make`.
pub struct Cluster {
    server: MemoryServer,
    /// The cluster's admin handle.
    pub admin: Admin,
    root: Path,
    history: History,
    members: BTreeMap<WorkerId, Member>,
    make: Box<dyn Fn() -> Box<dyn Strategy>>,
}

impl Cluster {
    /// A memory server with the tasks added; no worker yet.
    pub async fn new(make: impl Fn() -> Box<dyn Strategy> + 'static) -> Self {
        let server = MemoryServer::new();
        let store = server.connect(SESSION).await.unwrap();
        let root = Path::new("/strategies").unwrap();
        let admin = Admin::at(as_dyn(&store), Layout::at(root.clone()).unwrap())
            .await
            .unwrap();
        for i in 0..TASKS {
            admin
                .add_task(TaskSpec::new(format!("T{i}")).unwrap())
                .await
                .unwrap();
        }
        Cluster {
            server,
            admin,
            root,
            history: History::new(),
            members: BTreeMap::new(),
            make: Box::new(make),
        }
    }

    /// Starts worker `name` with a strategy from `make`.
    pub async fn join(&mut self, name: &str) {
        let store = self.server.connect(SESSION).await.unwrap();
        let worker = Worker::builder(as_dyn(&store), "strategies")
            .root(self.root.clone())
            .id(name)
            .strategy((self.make)())
            .handler(self.history.handler())
            .build()
            .unwrap();
        let run = worker.spawn();
        let id = WorkerId::new(name).unwrap();
        self.members.insert(id, Member { store, worker, run });
    }

    /// The process dies; its session ends when the server's timeout runs out.
    pub async fn crash(&mut self, name: &str) {
        let m = self.members.remove(&WorkerId::new(name).unwrap()).unwrap();
        m.store.suspend();
        m.worker.kill().await;
        let _ = m.run.await;
    }

    /// The worker that leads now.
    pub async fn leader(&self) -> WorkerId {
        self.admin.leader().await.unwrap().unwrap().worker
    }

    /// Who runs what, by the handlers' own history; panics on a task that
    /// runs twice or on a dead worker, or on any violation so far.
    pub fn running(&self) -> Assignment {
        let v = self.history.violations();
        assert!(v.is_empty(), "{v:?}");
        self.history
            .running()
            .into_iter()
            .map(|(t, runners)| {
                assert_eq!(runners.len(), 1, "{t} runs on {runners:?}");
                let w = runners[0].0.clone();
                assert!(self.members.contains_key(&w), "{t} runs on dead {w}");
                (t, w)
            })
            .collect()
    }

    /// The workers running now.
    pub fn workers(&self) -> Vec<WorkerId> {
        self.members.keys().cloned().collect()
    }

    /// How many tasks `worker` runs now.
    pub fn on(&self, worker: &str) -> usize {
        self.running()
            .values()
            .filter(|w| w.as_str() == worker)
            .count()
    }

    /// Every task runs exactly once, and where `strategy` (with every
    /// worker settled) puts it given who runs what now; the published
    /// targets say the same.
    pub async fn check_settled(&self, strategy: &dyn Strategy) {
        let running = self.running();
        assert_eq!(running.len(), TASKS, "{} runs {running:?}", strategy.name());
        // The workers as registered, every one settled.
        let workers: Vec<WorkerInfo> = self
            .admin
            .workers()
            .await
            .unwrap()
            .into_iter()
            .map(|w| {
                assert!(
                    self.members.contains_key(&w.worker),
                    "{} registered",
                    w.worker
                );
                let (id, capacity, tags) = (w.worker, w.capacity, w.tags);
                let age = Duration::from_secs(3600);
                WorkerInfo {
                    id,
                    capacity,
                    tags,
                    age,
                }
            })
            .collect();
        assert_eq!(workers.len(), self.members.len());
        let tasks = tasks();
        let target = strategy.assign(&StrategyInput {
            workers: &workers,
            tasks: &tasks,
            current: &running,
        });
        assert_eq!(target.placements, running, "{}", strategy.name());
        assert!(target.open.is_empty(), "{}", strategy.name());
        assert_eq!(
            self.admin.targets().await.unwrap(),
            running,
            "{}",
            strategy.name()
        );
    }

    /// Stops every worker.
    pub async fn shutdown(mut self) {
        let names: Vec<WorkerId> = self.members.keys().cloned().collect();
        for name in names {
            self.crash(name.as_str()).await;
        }
    }
}

/// The store as the runtime holds it.
pub fn as_dyn(store: &MemoryStore) -> DynStore {
    Arc::new(store.clone())
}

/// The tasks as a strategy sees them.
pub fn tasks() -> Vec<TaskInfo> {
    (0..TASKS)
        .map(|i| TaskInfo {
            id: TaskId::new(format!("T{i}")).unwrap(),
            weight: std::num::NonZeroU32::MIN,
            tags: Default::default(),
            pinned: None,
        })
        .collect()
}

/// Waits (paused time) until the cluster has settled.
pub async fn settle() {
    tokio::time::sleep(SETTLE).await;
}

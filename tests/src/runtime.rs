//! A small cluster of real workers on the memory backend for focused
//! runtime tests under paused tokio time: workers joined, crashed, cut off
//! or shut down by name; a handler that records every start and stop with
//! its token and payload; bounded waits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tenure_core::{
    Admin, CoordinationStore, DynStore, Layout, Path, StoreExt, TaskId, TaskSpec, Timing, Worker,
    WorkerBuilder, WorkerEvent, WorkerEventKind, WorkerId,
};
use tenure_memory::{MemoryServer, MemoryStore};
use tokio::time::Instant;

use crate::answers::AnswerLog;
use crate::runs::Runs;
use crate::sim::History;
pub use crate::sim::SESSION;
pub use crate::sim::history::Entry;
use crate::sim::stop_instants::{self, Run};

/// How often [`Cluster::wait_until`] looks (tokio time).
pub const POLL: Duration = Duration::from_millis(5);

/// One running worker.
pub struct Member {
    /// Its client of the server (fault hooks).
    pub store: MemoryStore,
    /// The worker.
    pub worker: Worker,
    run: tokio::task::JoinHandle<tenure_core::Result<()>>,
}

/// A cluster at its own root on one memory server.
pub struct Cluster {
    /// The server.
    pub server: MemoryServer,
    /// An admin handle on its own client.
    pub admin: Admin,
    /// The admin's client.
    pub admin_store: MemoryStore,
    /// The cluster's root.
    pub root: Path,
    /// Every handler start and stop, self-checked (one runner, rising tokens).
    pub history: History,
    origin: Instant,
    runs: Runs,
    members: BTreeMap<String, Member>,
}

impl Cluster {
    /// An empty cluster on a new server.
    pub async fn new() -> Self {
        Self::on_server(MemoryServer::new()).await
    }

    /// An empty cluster on `server`.
    pub async fn on_server(server: MemoryServer) -> Self {
        let (runs, origin) = (Runs::new(), Instant::now());
        let admin_store = server.connect(SESSION).await.unwrap();
        let root = Path::new("/rt").unwrap();
        let admin = Admin::at(as_dyn(&admin_store), Layout::at(root.clone()).unwrap())
            .await
            .unwrap();
        Cluster {
            server,
            admin,
            admin_store,
            root,
            history: runs.history.clone(),
            origin,
            runs,
            members: BTreeMap::new(),
        }
    }

    /// A new cluster where worker `name` runs `T0`, alone.
    pub async fn with_t0_on(name: &str) -> Self {
        let mut c = Self::new().await;
        c.join(name).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.add_tasks(1).await;
        c.wait_all_running(1, SESSION).await;
        c
    }

    /// Adds tasks `T0`..`T{n-1}` with empty payloads.
    pub async fn add_tasks(&self, n: usize) {
        for i in 0..n {
            self.admin
                .add_task(TaskSpec::new(task_name(i)).unwrap())
                .await
                .unwrap();
        }
    }

    /// Starts a worker with the default configuration.
    pub async fn join(&mut self, name: &str) {
        self.join_with(name, |b| b).await;
    }

    /// Starts a worker, configured further by `configure`.
    pub async fn join_with(
        &mut self,
        name: &str,
        configure: impl FnOnce(WorkerBuilder) -> WorkerBuilder,
    ) {
        self.join_through(name, |s| s, configure).await;
    }

    /// Starts a worker whose requests' answers are written down, for
    /// [`Cluster::runs_of`].
    pub async fn join_logged(&mut self, name: &str) -> AnswerLog {
        let log = AnswerLog::new();
        self.join_through(name, |s| log.wrap(s), |b| b).await;
        log
    }

    /// Starts a worker on its client wrapped by `wrap`.
    async fn join_through(
        &mut self,
        name: &str,
        wrap: impl FnOnce(DynStore) -> DynStore,
        configure: impl FnOnce(WorkerBuilder) -> WorkerBuilder,
    ) {
        let store = self.server.connect(SESSION).await.unwrap();
        let builder = Worker::builder(wrap(as_dyn(&store)), "rt")
            .root(self.root.clone())
            .id(name)
            .handler(self.runs.handler());
        let worker = configure(builder).build().unwrap();
        let run = worker.spawn();
        self.members
            .insert(name.to_owned(), Member { store, worker, run });
    }

    /// A running member.
    pub fn member(&self, name: &str) -> &Member {
        &self.members[name]
    }

    /// The process dies: handlers dropped at once, its connection drops, and
    /// its session ends when the server's timeout runs out.
    pub async fn crash(&mut self, name: &str) {
        let m = self.members.remove(name).unwrap();
        m.store.suspend();
        m.worker.kill().await;
        let _ = m.run.await;
    }

    /// The worker's run future is dropped (its task aborted) while its
    /// process lives on: the connection stays up. Returns its client.
    pub async fn abandon(&mut self, name: &str) -> MemoryStore {
        let m = self.members.remove(name).unwrap();
        m.run.abort();
        let _ = m.run.await;
        m.store
    }

    /// A graceful shutdown. Returns the worker's client with its session
    /// still open: the caller closes it.
    pub async fn shutdown(&mut self, name: &str) -> MemoryStore {
        let m = self.members.remove(name).unwrap();
        m.worker.shutdown().await;
        let _ = m.run.await;
        m.store
    }

    /// Crashes every worker left.
    pub async fn stop(mut self) {
        let names: Vec<String> = self.members.keys().cloned().collect();
        for n in names {
            self.crash(&n).await;
        }
    }

    /// Who runs what now by the handlers' history; panics if anything went
    /// wrong so far (two runners, a token not above the last one) or a task
    /// runs twice.
    pub fn running(&self) -> BTreeMap<TaskId, (WorkerId, u64)> {
        self.runs.running()
    }

    /// The tasks running on `worker`.
    pub fn on(&self, worker: &str) -> Vec<TaskId> {
        self.running()
            .into_iter()
            .filter(|(_, (w, _))| w.as_str() == worker)
            .map(|(t, _)| t)
            .collect()
    }

    /// The handler runs of `worker` (a member or not any more), each
    /// checked against its stop instant by the answers in `log`, for the
    /// default timing and handlers that stop at once when cancelled.
    pub fn runs_of(&self, worker: &str, log: &AnswerLog) -> Vec<Run> {
        let reach = stop_instants::reach(&Timing::for_session(SESSION), Duration::ZERO);
        let worker = WorkerId::new(worker).unwrap();
        stop_instants::runs_of(&self.history, &worker, &log.answers(), reach)
    }

    /// Now, in the history's milliseconds.
    pub fn now_ms(&self) -> u64 {
        ms(self.origin.elapsed())
    }

    /// The payload a handler was started with.
    pub fn payload(&self, task: &TaskId, token: u64) -> Option<Vec<u8>> {
        self.runs.payload(task, token)
    }

    /// Lets tokio time pass in steps of [`POLL`] until `done` holds; panics
    /// after `limit`. Returns how long it took.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Duration {
        self.runs.wait_until(what, limit, POLL, || done(self)).await
    }

    /// Waits until every one of `tasks` tasks runs once (on any worker).
    pub async fn wait_all_running(&self, tasks: usize, limit: Duration) -> Duration {
        self.wait_until("every task runs", limit, |c| c.running().len() == tasks)
            .await
    }
}

/// Every node under `root` with its data and version, depth first: to
/// show that a refused request changed nothing.
pub async fn snapshot(store: &dyn CoordinationStore, root: &Path) -> Vec<(String, Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(path) = stack.pop() {
        if let Some(node) = store.get(&path).await.unwrap() {
            out.push((path.to_string(), node.data.clone(), node.version.0));
        }
        for name in store.children(&path).await.unwrap() {
            stack.push(path.join(&name).unwrap());
        }
    }
    out.sort();
    out
}

/// The name of the `i`th task.
pub fn task_name(i: usize) -> String {
    format!("T{i}")
}

/// The id of the `i`th task.
pub fn task(i: usize) -> TaskId {
    TaskId::new(task_name(i)).unwrap()
}

/// A client as the runtime takes it.
pub fn as_dyn(store: &MemoryStore) -> DynStore {
    Arc::new(store.clone())
}

/// Milliseconds of `d`, for comparing with history timestamps.
pub fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The history entries of one task.
pub fn entries_of(history: &History, task: &TaskId) -> Vec<Entry> {
    history
        .entries()
        .into_iter()
        .filter(|e| match e {
            Entry::Start { task: t, .. } | Entry::Stop { task: t, .. } => t == task,
        })
        .collect()
}

/// When the handler of `task` with `token` stopped, by the history.
pub fn stopped_at(history: &History, task: &TaskId, token: u64) -> Option<u64> {
    entries_of(history, task).into_iter().find_map(|e| match e {
        Entry::Stop {
            at_ms, token: t, ..
        } if t == token => Some(at_ms),
        _ => None,
    })
}

/// When the handler of `task` with `token` started, by the history.
pub fn started_at(history: &History, task: &TaskId, token: u64) -> Option<u64> {
    entries_of(history, task).into_iter().find_map(|e| match e {
        Entry::Start {
            at_ms, token: t, ..
        } if t == token => Some(at_ms),
        _ => None,
    })
}

/// The handler of `task` with token `old` had stopped before the one with
/// the strictly larger token `new` started.
pub fn assert_handed_over(history: &History, task: &TaskId, old: u64, new: u64) {
    assert!(new > old, "{task}: token {new} not above {old}");
    let stop = stopped_at(history, task, old).unwrap();
    let start = started_at(history, task, new).unwrap();
    assert!(
        stop <= start,
        "{task}: {old} stopped at {stop} ms, {new} started at {start} ms"
    );
}

/// The malformed records told by the events available now, as (node,
/// record kind), in order.
pub fn malformed(
    events: &mut tokio::sync::broadcast::Receiver<WorkerEvent>,
) -> Vec<(Path, &'static str)> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let WorkerEventKind::MalformedRecord { path, record, .. } = e.kind {
            out.push((path, record));
        }
    }
    out
}

/// Writes `data` into the node at `path` as an operator's tool would,
/// creating it (and its parents) if needed.
pub async fn write_by_hand(store: &dyn CoordinationStore, path: &Path, data: &[u8]) {
    match store.set(path, data, None).await {
        Ok(_) => {}
        Err(tenure_core::Error::NotFound { .. }) => {
            if let Some(parent) = path.parent() {
                store.create_all(&parent).await.unwrap();
            }
            store
                .create(path, data, tenure_core::CreateMode::Persistent)
                .await
                .unwrap();
        }
        Err(e) => panic!("writing {path}: {e}"),
    }
}

//! One benchmark cluster: its tasks, its in-process workers (each with its
//! own client and session, each client's requests counted), and a history
//! of every handler start and stop that checks, as it is written, that no
//! task ever runs on two workers at once and that tokens rise.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tenure_core::{Admin, TaskSpec, Watch, Worker, WorkerId};

use crate::counting::{Counts, RequestCounter};
use crate::placement::Placement;
use crate::servers::{Connection, Server};
use tenure_tests::sim::History;
use tenure_tests::sim::history::Entry;

/// How often [`BenchCluster::wait_for`] looks at the history.
const POLL: Duration = Duration::from_millis(5);

/// How long one admin request may take.
const ADMIN_LIMIT: Duration = Duration::from_secs(5);

/// A worker and its client.
struct Member {
    worker: Worker,
    connection: Connection,
    run: tokio::task::JoinHandle<tenure_core::Result<()>>,
}

/// A worker connected but not started yet.
pub struct Joining {
    id: String,
    worker: Worker,
    connection: Connection,
    counter: RequestCounter,
}

impl Joining {
    /// The session timeout the server granted its client.
    pub fn session_timeout(&self) -> Duration {
        self.connection.store.info().session_timeout
    }
}

/// A cluster of in-process workers on one server.
pub struct BenchCluster {
    cluster: String,
    session: Duration,
    admin: Admin,
    admin_connection: Connection,
    history: History,
    members: BTreeMap<String, Member>,
    /// Every worker's request counter, by worker name; a worker that
    /// returned has one per life.
    counters: Vec<(String, RequestCounter)>,
    /// Whether clients connect as `tenure` does ([`Server::connect_direct`]).
    direct: bool,
}

impl BenchCluster {
    /// A new cluster named `cluster` on `server` with tasks `T0`…, added
    /// one after the other through the admin API.
    ///
    /// # Errors
    /// Store errors, as text.
    pub async fn create(
        server: &Server,
        cluster: &str,
        tasks: usize,
        session: Duration,
    ) -> Result<BenchCluster, String> {
        Self::create_as(server, cluster, tasks, session, false).await
    }

    /// As [`BenchCluster::create`], with every client connected as
    /// `tenure` connects ([`Server::connect_direct`]): `tenure` processes
    /// can join the cluster, and no worker can be cut off.
    ///
    /// # Errors
    /// Store errors, as text.
    pub async fn create_for_cli(
        server: &Server,
        cluster: &str,
        tasks: usize,
        session: Duration,
    ) -> Result<BenchCluster, String> {
        Self::create_as(server, cluster, tasks, session, true).await
    }

    async fn create_as(
        server: &Server,
        cluster: &str,
        tasks: usize,
        session: Duration,
        direct: bool,
    ) -> Result<BenchCluster, String> {
        let admin_connection = client(server, session, direct).await?;
        let admin = Admin::new(admin_connection.store.clone(), cluster)
            .await
            .map_err(text)?;
        for i in 0..tasks {
            let spec = TaskSpec::new(format!("T{i}")).map_err(text)?;
            let added = tokio::time::timeout(ADMIN_LIMIT, admin.add_task(spec));
            added.await.map_err(text)?.map_err(text)?;
        }
        Ok(BenchCluster {
            cluster: cluster.to_owned(),
            session,
            admin,
            admin_connection,
            history: History::new(),
            members: BTreeMap::new(),
            counters: Vec::new(),
            direct,
        })
    }

    /// The admin of the cluster.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// Connects a worker named `id` (not started yet).
    ///
    /// # Errors
    /// When its client cannot connect or the worker cannot be built.
    pub async fn connect(&self, server: &Server, id: &str) -> Result<Joining, String> {
        let connection = client(server, self.session, self.direct).await?;
        let counter = RequestCounter::new();
        let worker = Worker::builder(counter.wrap(connection.store.clone()), &self.cluster)
            .id(id)
            .handler(self.history.handler())
            .build()
            .map_err(text)?;
        Ok(Joining {
            id: id.to_owned(),
            worker,
            connection,
            counter,
        })
    }

    /// Starts a connected worker.
    pub fn start(&mut self, joining: Joining) {
        let run = joining.worker.spawn();
        self.counters.push((joining.id.clone(), joining.counter));
        let member = Member {
            worker: joining.worker,
            connection: joining.connection,
            run,
        };
        self.members.insert(joining.id, member);
    }

    /// The names of the workers started and not removed.
    pub fn workers(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }

    /// Partitions `id` from the server (it keeps running, cut off).
    pub fn cut(&mut self, id: &str) {
        if let Some(m) = self.members.get_mut(id) {
            m.connection.cut();
        }
    }

    /// Kills worker `id` (as a crash) and closes or drops its client.
    pub async fn remove(&mut self, id: &str) {
        if let Some(m) = self.members.remove(id) {
            m.worker.kill().await;
            let _ = m.run.await;
            m.connection.close().await;
        }
    }

    /// Kills every worker at once (so no survivor campaigns in between)
    /// and closes every client.
    pub async fn stop(mut self) {
        let members = std::mem::take(&mut self.members);
        futures::future::join_all(members.values().map(|m| m.worker.kill())).await;
        for m in members.into_values() {
            let _ = m.run.await;
            m.connection.close().await;
        }
        self.admin_connection.close().await;
    }

    /// Who runs what now.
    ///
    /// # Errors
    /// When the history saw a task run twice at once or a token that did
    /// not rise.
    pub fn placement(&self) -> Result<Placement, String> {
        self.check()?;
        Placement::from_running(self.history.running())
    }

    /// Fails if anything went wrong so far: two runners of one task at
    /// once, a token not above the task's last one.
    ///
    /// # Errors
    /// The history's violations.
    pub fn check(&self) -> Result<(), String> {
        let violations = self.history.violations();
        match violations.is_empty() {
            true => Ok(()),
            false => Err(format!("the history broke: {violations:?}")),
        }
    }

    /// A watch on the registration of worker `id`: an ephemeral node of
    /// its session, so the watch fires when the server deletes what that
    /// session owned (nothing else changes a registration).
    ///
    /// # Errors
    /// Store errors, or no registration, as text.
    pub async fn registration_watch(&self, id: &str) -> Result<Watch, String> {
        let path = self
            .admin
            .layout()
            .worker(&WorkerId::new(id).map_err(text)?);
        let read = tokio::time::timeout(ADMIN_LIMIT, self.admin.store().get_and_watch(&path));
        let (node, watch) = read.await.map_err(text)?.map_err(text)?;
        node.map(|_| watch)
            .ok_or_else(|| format!("{id} is not registered"))
    }

    /// The name of the leader now, if any.
    pub async fn leader(&self) -> Option<String> {
        let leader = tokio::time::timeout(ADMIN_LIMIT, self.admin.leader());
        let leader = leader.await.ok()?.ok()??;
        Some(leader.worker.as_str().to_owned())
    }

    /// The requests counted so far, by worker name (every life of a worker
    /// summed).
    pub fn counts(&self) -> BTreeMap<String, Counts> {
        let mut out: BTreeMap<String, Counts> = BTreeMap::new();
        for (id, counter) in &self.counters {
            let sum = [out.remove(id).unwrap_or_default(), counter.snapshot()];
            out.insert(id.clone(), sum.into_iter().sum());
        }
        out
    }

    /// Handler starts and stops recorded from `since` on.
    pub fn entries_since(&self, since: Instant) -> Vec<Entry> {
        let from = self.history_ms(since);
        self.history
            .entries()
            .into_iter()
            .filter(|e| entry_ms(e) >= from)
            .collect()
    }

    /// How long after `since` the last handler of `worker` stopped, if one
    /// stopped since.
    pub fn last_stop_of(&self, worker: &str, since: Instant) -> Option<Duration> {
        let from = self.history_ms(since);
        let last = self
            .entries_since(since)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Stop {
                    at_ms, worker: w, ..
                } if w.as_str() == worker => Some(at_ms),
                _ => None,
            })
            .max()?;
        Some(Duration::from_millis(last.saturating_sub(from)))
    }

    /// Polls the history until `goal` holds for the placement, for at most
    /// `limit`; returns how long after `since` the last handler start or
    /// stop before that moment came (millisecond resolution), i.e. when
    /// the goal was reached.
    ///
    /// # Errors
    /// When the goal is not reached in time, or the history broke.
    pub async fn wait_for(
        &self,
        what: &str,
        since: Instant,
        limit: Duration,
        goal: impl Fn(&Placement) -> bool,
    ) -> Result<Duration, String> {
        loop {
            let placement = self.placement()?;
            if goal(&placement) {
                let last = self.history.entries().last().map(entry_ms).unwrap_or(0);
                let since_ms = self.history_ms(since);
                return Ok(Duration::from_millis(last.saturating_sub(since_ms)));
            }
            if since.elapsed() > limit {
                let per_worker: BTreeMap<String, usize> = self
                    .workers()
                    .into_iter()
                    .map(|w| {
                        let n = placement.count_on(&w);
                        (w, n)
                    })
                    .collect();
                return Err(format!(
                    "not within {limit:?}: {what}; {} tasks run: {per_worker:?}",
                    placement.runs.len()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `at` in the history's milliseconds (the history counts on tokio's
    /// clock, which runs in real time here).
    /// Every handler start and stop so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.history.entries()
    }

    /// `at` on the history's clock (ms since the cluster was created).
    pub fn history_ms(&self, at: Instant) -> u64 {
        self.history.ms_at(tokio::time::Instant::from_std(at))
    }
}

fn entry_ms(entry: &Entry) -> u64 {
    match entry {
        Entry::Start { at_ms, .. } | Entry::Stop { at_ms, .. } => *at_ms,
    }
}

/// A client of `server`: as `tenure` connects if `direct`
/// ([`Server::connect_direct`]), else through a proxy that can be cut.
async fn client(server: &Server, session: Duration, direct: bool) -> Result<Connection, String> {
    match direct {
        true => server.connect_direct(session).await,
        false => server.connect(session).await,
    }
    .map_err(text)
}

/// An error as text.
pub fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

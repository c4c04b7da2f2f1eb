//! A worker: joins a cluster, runs the tasks it owns, takes over the tasks
//! of workers that die, hands tasks off gracefully.

mod batch_claims;
mod beat;
mod builder;
mod clock;
mod converge;
mod fired;
mod guard;
mod handoff;
mod health;
mod holds;
mod inner;
mod reconcile;
mod registration;
mod restarts;
mod run_state;
mod runner;
mod startup;
mod unsure;
mod wait;
mod wanted;
mod window;

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info_span};

pub use builder::WorkerBuilder;

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::runtime::events::WorkerEvent;
use crate::runtime::handler::TaskHandler;
use crate::runtime::health::{Health, Marks};
use crate::runtime::layout::Layout;
use crate::runtime::member::Member;
use crate::runtime::timing::Timing;
use crate::store::DynStore;
use crate::strategy::Strategy;

use clock::SessionClock;
use inner::{Inner, RunState};
use run_state::{Begun, Dropped, Finished};
use runner::Runner;
use startup::create_layout;

/// A member of a cluster that runs tasks.
///
/// Cheap to clone: clones are handles to the same worker. Start it with
/// [`Worker::run`] (or [`Worker::spawn`]); stop it with
/// [`Worker::shutdown`], which hands every task off first.
///
/// The store comes from a backend crate (`tenure_memory::MemoryServer`,
/// `tenure_zookeeper::ZkConfig`, `tenure_etcd::EtcdConfig`, or through the
/// `tenure` facade); every worker of a cluster uses the same cluster name:
///
/// ```
/// use tenure_core::{DynStore, Result, TaskContext, Worker};
///
/// async fn serve(store: DynStore) -> Result<()> {
///     let worker = Worker::builder(store, "ecas")
///         .id("ECAS_1")
///         .handler(|ctx: TaskContext| async move {
///             println!("{} runs {} (token {})", ctx.worker(), ctx.task(), ctx.token());
///             ctx.cancelled().await; // ownership ended: stop
///             Ok(())
///         })
///         .build()?;
///     let running = worker.spawn();
///     // ... until the service is asked to stop:
///     worker.shutdown().await; // hands every task off first
///     running.await.expect("the worker's task panicked")
/// }
/// # let _ = serve;
/// ```
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.inner.member.id)
            .field("root", &self.inner.member.layout.root())
            .field("store", &self.inner.member.store.to_string())
            .finish()
    }
}

impl Worker {
    /// Starts configuring a worker of `cluster` over `store`.
    pub fn builder(store: DynStore, cluster: &str) -> WorkerBuilder {
        WorkerBuilder::new(store, cluster)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: DynStore,
        layout: Layout,
        id: WorkerId,
        capacity: NonZeroU32,
        tags: BTreeSet<String>,
        strategy: Arc<dyn Strategy>,
        handler: Arc<dyn TaskHandler>,
        timing: Timing,
    ) -> Self {
        let (events, _) = broadcast::channel(1024);
        let clock = Arc::new(SessionClock::new(store.clone(), timing));
        let (runner, exits) = Runner::new(
            id.clone(),
            handler,
            timing.stop_timeout,
            clock.clone(),
            events.clone(),
        );
        let (run_state, _) = watch::channel(RunState::NotStarted);
        Worker {
            inner: Arc::new(Inner {
                member: Arc::new(Member {
                    store,
                    layout,
                    id,
                    timing,
                    events,
                }),
                capacity,
                tags,
                strategy,
                runner,
                clock,
                shutdown: CancellationToken::new(),
                kill: CancellationToken::new(),
                run_state,
                exits: Mutex::new(Some(exits)),
                health: watch::Sender::new(Health::initial()),
                health_marks: Mutex::new(Marks::default()),
            }),
        }
    }

    /// The worker's name.
    pub fn id(&self) -> &WorkerId {
        &self.inner.member.id
    }

    /// The worker's timing (derived from the session timeout).
    pub fn timing(&self) -> Timing {
        self.inner.member.timing
    }

    /// The tasks whose handlers run here now, with their fencing tokens.
    pub fn running(&self) -> BTreeMap<TaskId, u64> {
        self.inner.runner.running()
    }

    /// The worker's health now: session state, registration, leadership,
    /// handlers held, fence. For probes; see [`Health::is_ready`].
    pub fn health(&self) -> Health {
        self.inner.health_now()
    }

    /// The worker's health as it changes while the worker runs (each
    /// session change and worker event, and at least once a heartbeat).
    pub fn health_watch(&self) -> watch::Receiver<Health> {
        health::watch(&self.inner)
    }

    /// What this worker does, as it happens (handlers started and stopped,
    /// leadership).
    pub fn events(&self) -> broadcast::Receiver<WorkerEvent> {
        self.inner.member.events.subscribe()
    }

    /// Runs the worker until [`Worker::shutdown`] is called: registers it,
    /// takes part in leader election, claims the tasks the leader assigns
    /// to it, and keeps at most one handler per owned task running.
    /// Survives lost connections and expired sessions (it re-registers under
    /// the new session). Returns after the graceful handoff.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the worker is already running or has run;
    /// store errors while creating the cluster layout.
    ///
    /// # Cancel safety
    /// Dropping the future (or aborting the task of [`Worker::spawn`])
    /// stops the worker abruptly: its handlers are dropped at once (a
    /// handler blocking a thread in synchronous code cannot be), its guard
    /// and leader stop, and it gives its store's session up
    /// ([`CoordinationStore::restart_session`](crate::CoordinationStore::restart_session)),
    /// so its registration and ownership records go at once (or, if the
    /// server cannot be reached, when the session times out) and other
    /// workers take its tasks over. Nothing is handed off gracefully:
    /// prefer [`Worker::shutdown`].
    pub async fn run(&self) -> Result<()> {
        let begun = self.begin()?;
        self.run_begun(begun).await
    }

    /// Marks the run begun (so that `shutdown` and `kill` wait for it) and
    /// takes what only one run may have.
    fn begin(&self) -> Result<Begun> {
        let mut exits = self.inner.exits.lock().unwrap_or_else(|p| p.into_inner());
        let taken = exits.take().ok_or_else(|| {
            Error::InvalidInput(format!("worker {} already ran", self.inner.member.id))
        })?;
        self.inner.run_state.send_replace(RunState::Running);
        Ok(Begun {
            exits: taken,
            _finished: Finished(self.inner.clone()),
        })
    }

    async fn run_begun(&self, begun: Begun) -> Result<()> {
        // `begun` marks the run finished when dropped (also on a panic, or
        // if the future is dropped before it is first polled).
        let Begun { exits, _finished } = begun;
        let span = info_span!("worker", worker = %self.inner.member.id);
        let inner = self.inner.clone();
        if inner.shutdown.is_cancelled() || inner.kill.is_cancelled() {
            return Ok(()); // stopped before it started
        }
        async move {
            if !create_layout(&inner).await? {
                return Ok(()); // asked to stop before the layout could be made
            }
            let stop_background = CancellationToken::new();
            let guard =
                tokio::spawn(guard::run(inner.clone(), stop_background.clone()).in_current_span());
            tokio::spawn(health::follow(inner.clone(), stop_background.clone()).in_current_span());
            let leader = tokio::spawn(
                crate::runtime::leader::campaign(
                    inner.member.clone(),
                    inner.strategy.clone(),
                    stop_background.clone(),
                )
                .in_current_span(),
            );
            // Dropped with this future (the caller dropped `run`, or aborted
            // `spawn`): the worker must not leave its session to the guard
            // and the leader alone, holding tasks nobody runs.
            let dropped = Dropped::arm(&inner, [guard.abort_handle(), leader.abort_handle()]);
            // A kill is a crash: it does not wait for a store request in
            // flight (which may hang on a silently cut connection).
            let result = tokio::select! {
                r = reconcile::Reconciler::new(inner.clone(), exits).run() => r,
                _ = inner.kill.cancelled() => Ok(()),
            };
            stop_background.cancel();
            if inner.kill.is_cancelled() {
                inner.runner.abort_all();
                guard.abort();
                leader.abort();
            }
            let _ = guard.await;
            // The leader's requests are not timed: one may hang on a cut
            // connection. It gets one heartbeat to finish its round and
            // resign; if it is cut off, its `leader` node goes with the
            // session.
            let leader_abort = leader.abort_handle();
            if tokio::time::timeout(inner.member.timing.heartbeat, leader)
                .await
                .is_err()
            {
                debug!("the leader did not resign in time; its node goes with the session");
                leader_abort.abort();
            }
            inner
                .runner
                .stop_all(crate::runtime::events::StopReason::Shutdown)
                .await;
            dropped.disarm();
            result
        }
        .instrument(span)
        .await
    }

    /// Stops the worker abruptly, as if its process died: handlers are
    /// dropped at once, nothing is released or handed off, and the
    /// worker's records stay in the store until its session ends. For
    /// simulations and tests; use [`Worker::shutdown`] otherwise.
    ///
    /// Returns at once if the worker never ran (a later [`Worker::run`]
    /// then returns at once) or its run already ended.
    pub async fn kill(&self) {
        self.inner.kill.cancel();
        self.wait_not_running().await;
    }

    /// Runs the worker on a tokio task. The run counts as begun when this
    /// returns: a [`Worker::shutdown`] called right after waits for it.
    pub fn spawn(&self) -> tokio::task::JoinHandle<Result<()>> {
        let me = self.clone();
        match self.begin() {
            Ok(begun) => tokio::spawn(async move { me.run_begun(begun).await }),
            Err(e) => tokio::spawn(async move { Err(e) }),
        }
    }

    /// Shuts down gracefully: the worker leaves the cluster, waits for the
    /// leader to move its tasks elsewhere (at most the handoff timeout),
    /// stops its handlers, releases its tasks so the new owners can claim
    /// them, and resigns leadership. Waits until [`Worker::run`] returns.
    ///
    /// Bounded even if the store stops answering (a silent partition): it
    /// returns within [`Timing::shutdown_bound`] (handoff timeout + stop
    /// timeout + two heartbeats, plus scheduling delays). Tasks it could
    /// not release are taken over by other workers when its session ends;
    /// its handlers are stopped before that, as always.
    ///
    /// Returns at once if the worker never ran (a later [`Worker::run`]
    /// then returns at once) or its run already ended.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.wait_not_running().await;
    }

    async fn wait_not_running(&self) {
        let mut state = self.inner.run_state.subscribe();
        let _ = state.wait_for(|s| *s != RunState::Running).await;
    }
}

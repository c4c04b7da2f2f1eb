//! Deterministic simulation of a cluster on the memory backend under paused
//! tokio time: a schedule of steps (tasks added, paused, removed; workers
//! joining, crashing, leaving; connections suspended; watch events delayed
//! or dropped; answers of ownership writes lost; answers delayed; time
//! passing) applied to real workers, with the history of handler starts and
//! stops checked after every step, and every handler run checked against
//! its stop instant ([`stop_instants`]) by the answers its worker got.

pub mod history;
mod step;
pub mod stop_instants;

use std::collections::BTreeMap;
use std::time::Duration;

use tenure_core::strategy::{Assignment, Sticky, Strategy, StrategyInput, TaskInfo, WorkerInfo};
use tenure_core::{Admin, DynStore, Layout, Path, TaskId, TaskSpec, Worker, WorkerId};
use tenure_memory::{MemoryServer, MemoryStore};

use crate::answers::AnswerLog;
pub use history::History;
pub use step::{Schedule, SimTiming, Step, schedules, steps};

/// The session timeout of simulated workers.
pub const SESSION: Duration = Duration::from_secs(2);

/// How often simulated leaders re-read all their inputs without a watch
/// firing ([`WorkerBuilder::leader_resync`](tenure_core::WorkerBuilder::leader_resync)):
/// twice the session timeout, the workers' own re-read period, instead of
/// the default 60 s, so that [`SETTLE`] stays short. A lost watch event
/// delays a reassignment by up to this period.
pub const LEADER_RESYNC: Duration = Duration::from_secs(2 * SESSION.as_secs());

/// How long after the last fault heals everything must have settled. A
/// crashed worker's session ends within the session timeout; a watch event
/// lost before the heal (`DropWatches`) is healed by the periodic re-read,
/// every 12 heartbeats = twice the session timeout for workers, every
/// [`LEADER_RESYNC`] (as long) for the leader and for a worker waiting on
/// the `leader` node. Plus a bound for delayed events still in flight, the
/// leader round and the claims.
pub const SETTLE: Duration = Duration::from_secs(LEADER_RESYNC.as_secs() + 1);

struct Slot {
    id: WorkerId,
    running: Option<Live>,
    /// The answers of every worker this slot ran.
    answers: AnswerLog,
}

struct Live {
    store: MemoryStore,
    worker: Worker,
    run: tokio::task::JoinHandle<tenure_core::Result<()>>,
    cut: Option<Cut>,
}

/// How a worker's connection is cut.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// The client knows (state `Suspended`).
    Suspended,
    /// The client does not know (requests hang, state stays connected).
    Partitioned,
}

/// A simulated cluster.
pub struct Sim {
    server: MemoryServer,
    admin: Admin,
    root: Path,
    history: History,
    slots: Vec<Slot>,
    tasks: BTreeMap<TaskId, bool>,
    log: Vec<String>,
    timing: SimTiming,
    /// Task `T<n>`'s handlers take `stop_delays[n % len]` to stop.
    stop_delays: Vec<Duration>,
}

impl Sim {
    /// A cluster with `workers` worker slots (none started).
    pub async fn new(workers: usize) -> Self {
        Self::with_stop_delay(workers, Duration::ZERO).await
    }

    /// A cluster whose handlers take `stop_delay` to stop once cancelled.
    pub async fn with_stop_delay(workers: usize, stop_delay: Duration) -> Self {
        Self::with_timing(workers, SimTiming::default_2s(), vec![stop_delay]).await
    }

    /// A cluster whose workers run with `timing`, and whose task `T<n>`'s
    /// handlers take `stop_delays[n % len]` to stop once cancelled.
    pub async fn with_timing(
        workers: usize,
        timing: SimTiming,
        stop_delays: Vec<Duration>,
    ) -> Self {
        let server = MemoryServer::new();
        let store = server
            .connect(timing.timing().session_timeout)
            .await
            .expect("admin connects");
        let root = Path::new("/sim").unwrap();
        let admin = Admin::at(as_dyn(&store), Layout::at(root.clone()).unwrap())
            .await
            .expect("layout");
        Sim {
            server,
            admin,
            root,
            history: History::new(),
            slots: (0..workers)
                .map(|i| Slot {
                    id: WorkerId::new(format!("W{i}")).unwrap(),
                    running: None,
                    answers: AnswerLog::new(),
                })
                .collect(),
            tasks: BTreeMap::new(),
            log: Vec::new(),
            timing,
            stop_delays: if stop_delays.is_empty() {
                vec![Duration::ZERO]
            } else {
                stop_delays
            },
        }
    }

    fn session(&self) -> Duration {
        self.timing.timing().session_timeout
    }

    /// How long after the last fault heals everything must have settled:
    /// [`SETTLE`] for this session timeout.
    fn settle(&self) -> Duration {
        self.session() * 2 + Duration::from_secs(1)
    }

    /// The history of handler starts and stops.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// What was done, for failure messages.
    pub fn log(&self) -> &[String] {
        &self.log
    }

    async fn join(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if slot.running.is_some() {
            return;
        }
        let timing = self.timing.timing();
        let store = self
            .server
            .connect(timing.session_timeout)
            .await
            .expect("worker connects");
        let delays = self.stop_delays.clone();
        let handler = self.history.slow_handler_by(move |task| {
            let n: usize = task.as_str()[1..].parse().unwrap_or(0);
            delays[n % delays.len()]
        });
        let worker = Worker::builder(slot.answers.wrap(as_dyn(&store)), "sim")
            .root(self.root.clone())
            .id(slot.id.as_str())
            .handler(handler)
            .stop_timeout(timing.stop_timeout)
            .suspend_grace(timing.suspend_grace)
            .leader_resync(timing.session_timeout * 2)
            .build()
            .expect("valid worker");
        let run = worker.spawn();
        slot.running = Some(Live {
            store,
            worker,
            run,
            cut: None,
        });
    }

    /// A crash: the process dies (handlers gone at once) and its session
    /// ends when the server's timeout runs out.
    async fn crash(&mut self, i: usize) {
        if let Some(live) = self.slots[i].running.take() {
            live.store.suspend();
            live.worker.kill().await;
            let _ = live.run.await;
        }
    }

    /// A graceful shutdown. A suspended worker is resumed first; a silently
    /// partitioned one is not (its shutdown must return in bounded time
    /// anyway, its handlers stopped).
    async fn leave(&mut self, i: usize) {
        if let Some(live) = self.slots[i].running.take() {
            if live.cut == Some(Cut::Suspended) {
                live.store.resume();
            }
            live.worker.shutdown().await;
            let _ = live.run.await;
            let _ = tenure_core::CoordinationStore::close(&live.store).await;
        }
    }

    /// The server ends the worker's session as early as the runtime's
    /// safety argument allows. A real server ends a session only after it
    /// has not heard from the client for the session timeout, and the
    /// runtime stops its handlers before that (ARCHITECTURE.md, "Why two
    /// runners are impossible", 3); an instant expiry of a session whose
    /// handlers still run is outside that model. So: cut the connection
    /// (the worker is told and fences), wait until its handlers are gone
    /// (by the history, at most the suspend grace and a stop timeout), end the session, restore the
    /// connection as it was. A silently partitioned worker cannot be told,
    /// so its session ends only by timing out.
    async fn expire(&mut self, i: usize) {
        let id = self.slots[i].id.clone();
        let Some(live) = &self.slots[i].running else {
            return;
        };
        let cut = live.cut;
        match cut {
            Some(Cut::Partitioned) => return,
            Some(Cut::Suspended) => {}
            None => live.store.suspend(),
        }
        // A suspended worker's handlers are cancelled at most the suspend
        // grace after the cut, and gone a stop timeout later.
        let timing = self.timing.timing();
        let polls = (timing.suspend_grace + timing.stop_timeout).as_millis() / 10 + 50;
        for _ in 0..polls {
            if !self.history.runs_on(&id) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(live) = &self.slots[i].running {
            live.store.expire_session();
            if cut.is_none() {
                live.store.resume();
            }
        }
    }

    /// Applies one step.
    pub async fn apply(&mut self, step: &Step) {
        self.log.push(format!("{step:?}"));
        match *step {
            Step::AddTask(t) => {
                let spec = TaskSpec::new(format!("T{t}")).unwrap();
                if self.admin.add_task(spec).await.is_ok() {
                    self.tasks.insert(task(t), false);
                }
            }
            Step::RemoveTask(t) => {
                if self.admin.remove_task(&task(t)).await.is_ok() {
                    self.tasks.remove(&task(t));
                }
            }
            Step::PauseTask(t) => {
                if self.admin.pause_task(&task(t)).await.is_ok() {
                    self.tasks.insert(task(t), true);
                }
            }
            Step::ResumeTask(t) => {
                if self.admin.resume_task(&task(t)).await.is_ok() {
                    self.tasks.insert(task(t), false);
                }
            }
            Step::UpdateTask(t) => {
                let spec = TaskSpec::new(format!("T{t}")).unwrap().payload("v2");
                let _ = self.admin.update_task(spec).await;
            }
            Step::Join(w) => self.join(self.slot(w)).await,
            Step::Crash(w) => self.crash(self.slot(w)).await,
            Step::Leave(w) => self.leave(self.slot(w)).await,
            Step::Suspend(w) => {
                let i = self.slot(w);
                if let Some(live) = &mut self.slots[i].running
                    && live.cut.is_none()
                {
                    live.store.suspend();
                    live.cut = Some(Cut::Suspended);
                }
            }
            Step::Partition(w) => {
                let i = self.slot(w);
                if let Some(live) = &mut self.slots[i].running
                    && live.cut.is_none()
                {
                    live.store.partition();
                    live.cut = Some(Cut::Partitioned);
                }
            }
            Step::Resume(w) => {
                let i = self.slot(w);
                if let Some(live) = &mut self.slots[i].running {
                    live.store.resume();
                    live.cut = None;
                }
            }
            Step::Expire(w) => self.expire(self.slot(w)).await,
            Step::DelayWatches(w, ms) => {
                let i = self.slot(w);
                if let Some(live) = &self.slots[i].running {
                    live.store.delay_watches(millis(ms));
                }
            }
            Step::DropWatches(w, on) => {
                let i = self.slot(w);
                if let Some(live) = &self.slots[i].running {
                    live.store.drop_watches(on);
                }
            }
            Step::LoseAnswer(w) => {
                let i = self.slot(w);
                let owners = self.owners();
                if let Some(live) = &self.slots[i].running {
                    live.store.lose_answers(&owners, 1);
                }
            }
            Step::SlowAnswers(w, reads, writes) => {
                let i = self.slot(w);
                if let Some(live) = &self.slots[i].running {
                    live.store.delay_answers(millis(reads));
                    live.store.delay_write_answers(millis(writes));
                }
            }
            Step::Flap(w, ms) => {
                let i = self.slot(w);
                if let Some(live) = &mut self.slots[i].running {
                    live.store.resume();
                    live.cut = None;
                }
                tokio::time::sleep(millis(ms)).await;
                if let Some(live) = &mut self.slots[i].running {
                    live.store.partition();
                    live.cut = Some(Cut::Partitioned);
                }
            }
            Step::Advance(ms) => tokio::time::sleep(millis(ms)).await,
        }
    }

    fn owners(&self) -> Path {
        Layout::at(self.root.clone())
            .expect("valid root")
            .owners()
            .clone()
    }

    fn slot(&self, w: u8) -> usize {
        usize::from(w) % self.slots.len()
    }

    /// Heals every fault and lets the cluster settle.
    pub async fn heal(&mut self) {
        self.log.push("heal".into());
        let owners = self.owners();
        for slot in &mut self.slots {
            if let Some(live) = &mut slot.running {
                live.store.lose_answers(&owners, 0);
                live.store.resume();
                live.store.delay_watches(Duration::ZERO);
                live.store.delay_answers(Duration::ZERO);
                live.store.drop_watches(false);
                live.cut = None;
            }
        }
        tokio::time::sleep(self.settle()).await;
    }

    /// After [`Sim::heal`]: every unpaused task runs exactly once on a live
    /// worker, and the assignment is what the strategy wants.
    pub async fn check_settled(&self) -> Result<(), String> {
        let live: Vec<WorkerId> = self
            .slots
            .iter()
            .filter(|s| s.running.is_some())
            .map(|s| s.id.clone())
            .collect();
        let running = self.history.running();
        let wanted: Vec<&TaskId> = self
            .tasks
            .iter()
            .filter(|(_, p)| !**p)
            .map(|(t, _)| t)
            .collect();
        if live.is_empty() {
            if !running.is_empty() {
                return Err(format!("no live worker, yet running: {running:?}"));
            }
            return Ok(());
        }
        let mut current = Assignment::new();
        for t in &wanted {
            match running.get(*t).map(Vec::as_slice) {
                Some([(w, _)]) if live.contains(w) => {
                    current.insert((*t).clone(), w.clone());
                }
                other => return Err(format!("task {t} runs on {other:?}, live workers {live:?}")),
            }
        }
        for t in running.keys() {
            if !wanted.contains(&t) {
                return Err(format!("task {t} runs but is paused or removed"));
            }
        }
        let workers: Vec<WorkerInfo> = live
            .iter()
            .map(|id| WorkerInfo {
                id: id.clone(),
                capacity: std::num::NonZeroU32::MIN,
                tags: Default::default(),
                age: Duration::from_secs(3600),
            })
            .collect();
        let tasks: Vec<TaskInfo> = wanted
            .iter()
            .map(|t| TaskInfo {
                id: (*t).clone(),
                weight: std::num::NonZeroU32::MIN,
                tags: Default::default(),
                pinned: None,
            })
            .collect();
        let target = Sticky.assign(&StrategyInput {
            workers: &workers,
            tasks: &tasks,
            current: &current,
        });
        if target.placements != current {
            return Err(format!(
                "assignment {current:?} is not the strategy's fixed point {:?}",
                target.placements
            ));
        }
        Ok(())
    }

    /// The handler runs that went on at or past their stop instant, as
    /// the answers each worker got allow (a handler may take its stop delay
    /// once cancelled, up to the stop timeout).
    pub fn late_runs(&self) -> Vec<String> {
        let timing = self.timing.timing();
        let longest = self.stop_delays.iter().max().copied().unwrap_or_default();
        let reach = stop_instants::reach(&timing, longest.min(timing.stop_timeout));
        self.slots
            .iter()
            .flat_map(|slot| {
                stop_instants::runs_of(&self.history, &slot.id, &slot.answers.answers(), reach)
                    .into_iter()
                    .filter_map(|run| {
                        let late = run.late?;
                        Some(format!(
                            "{} {} token {}: {late}",
                            slot.id, run.task, run.token
                        ))
                    })
            })
            .collect()
    }

    /// Stops every worker.
    pub async fn shutdown(mut self) {
        for i in 0..self.slots.len() {
            self.crash(i).await;
        }
    }
}

fn millis(ms: u16) -> Duration {
    Duration::from_millis(u64::from(ms))
}

fn task(t: u8) -> TaskId {
    TaskId::new(format!("T{t}")).unwrap()
}

fn as_dyn(store: &MemoryStore) -> DynStore {
    std::sync::Arc::new(store.clone())
}

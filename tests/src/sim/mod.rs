//! Deterministic simulation of a cluster on the memory backend under paused
//! tokio time: a schedule of steps (tasks added, paused, removed; workers
//! joining, crashing, leaving; connections suspended; watch events delayed
//! or dropped; answers of ownership writes lost; answers delayed; time
//! passing) applied to real workers, with the history of handler starts and
//! stops checked after every step, and every handler run checked against
//! its stop instant ([`stop_instants`]) by the answers its worker got.

mod check;
pub mod history;
mod members;
mod step;
pub mod stop_instants;

use std::collections::BTreeMap;
use std::time::Duration;

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
    /// [`SETTLE`] for this session timeout, plus the stop timeout: a move
    /// the leader's re-read decides only starts once the handler on the old
    /// worker has stopped (a stop may take the whole stop timeout).
    fn settle(&self) -> Duration {
        self.session() * 2 + self.timing.timing().stop_timeout + Duration::from_secs(1)
    }

    /// The history of handler starts and stops.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// What was done, for failure messages.
    pub fn log(&self) -> &[String] {
        &self.log
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

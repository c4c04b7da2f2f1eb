//! The seeded schedule of faults: the same seed and options give the same
//! faults in the same order, with the same targets and durations (only
//! the timing of the real processes differs between runs).
//!
//! Kinds are drawn from a shuffled bag, refilled when empty, so that every
//! kind comes once before any comes twice (a short run still sees all of
//! them). The task set is modelled here, so task operations always name a
//! task that exists (remove, pause) or is paused (resume).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// The kinds of fault, as the summary groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// SIGKILL of a worker, started again later.
    SigKill,
    /// SIGTERM of a worker (graceful handoff), started again later.
    SigTerm,
    /// SIGSTOP of a worker, SIGCONT within the session timeout.
    FreezeShort,
    /// SIGSTOP of a worker, SIGCONT after more than the session timeout.
    FreezeLong,
    /// A worker's proxies hold every byte, shorter than the session.
    BlackholeShort,
    /// A worker's proxies hold every byte, longer than the session.
    BlackholeLong,
    /// `tenure tasks add`.
    TaskAdd,
    /// `tenure tasks rm`.
    TaskRemove,
    /// `tenure tasks pause`.
    TaskPause,
    /// `tenure tasks resume`.
    TaskResume,
    /// A server (a follower in an ensemble) crashes and starts again.
    ServerRestart,
    /// The ensemble's leader crashes and starts again.
    LeaderKill,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::SigKill,
        FaultKind::SigTerm,
        FaultKind::FreezeShort,
        FaultKind::FreezeLong,
        FaultKind::BlackholeShort,
        FaultKind::BlackholeLong,
        FaultKind::TaskAdd,
        FaultKind::TaskRemove,
        FaultKind::TaskPause,
        FaultKind::TaskResume,
        FaultKind::ServerRestart,
        FaultKind::LeaderKill,
    ];

    /// Whether it is a change of the task set (which may turn into
    /// another change when it cannot apply).
    pub fn is_task_change(self) -> bool {
        matches!(
            self,
            FaultKind::TaskAdd
                | FaultKind::TaskRemove
                | FaultKind::TaskPause
                | FaultKind::TaskResume
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultKind::SigKill => "sigkill",
            FaultKind::SigTerm => "sigterm",
            FaultKind::FreezeShort => "sigstop<session",
            FaultKind::FreezeLong => "sigstop>session",
            FaultKind::BlackholeShort => "blackhole<session",
            FaultKind::BlackholeLong => "blackhole>session",
            FaultKind::TaskAdd => "task add",
            FaultKind::TaskRemove => "task rm",
            FaultKind::TaskPause => "task pause",
            FaultKind::TaskResume => "task resume",
            FaultKind::ServerRestart => "server restart",
            FaultKind::LeaderKill => "leader kill",
        })
    }
}

/// One fault, fully drawn. Workers are named by index (`w1` is 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL a worker, start it again later.
    SigKill {
        /// The worker.
        worker: usize,
        /// How long it stays dead.
        restart_after: Duration,
    },
    /// SIGTERM a worker, wait for its exit, start it again later.
    SigTerm {
        /// The worker.
        worker: usize,
        /// How long after its exit it starts again.
        restart_after: Duration,
    },
    /// SIGSTOP a worker, SIGCONT it later.
    Freeze {
        /// The worker.
        worker: usize,
        /// How long it stays stopped.
        lasting: Duration,
        /// Shorter or longer than the session.
        kind: FaultKind,
    },
    /// Hold every byte of a worker's connections, then let them flow.
    Blackhole {
        /// The worker.
        worker: usize,
        /// How long the bytes are held.
        lasting: Duration,
        /// Shorter or longer than the session.
        kind: FaultKind,
    },
    /// Add this task.
    Add(String),
    /// Remove this task.
    Remove(String),
    /// Pause this task.
    Pause(String),
    /// Resume this task.
    Resume(String),
    /// Crash a server and start it again on its data.
    ServerRestart {
        /// In an ensemble, which follower (modulo their number).
        pick: usize,
        /// How long it stays down.
        down: Duration,
    },
    /// Crash the ensemble's leader and start it again.
    LeaderKill {
        /// How long it stays down.
        down: Duration,
    },
}

impl Fault {
    /// Its kind.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::SigKill { .. } => FaultKind::SigKill,
            Fault::SigTerm { .. } => FaultKind::SigTerm,
            Fault::Freeze { kind, .. } | Fault::Blackhole { kind, .. } => *kind,
            Fault::Add(_) => FaultKind::TaskAdd,
            Fault::Remove(_) => FaultKind::TaskRemove,
            Fault::Pause(_) => FaultKind::TaskPause,
            Fault::Resume(_) => FaultKind::TaskResume,
            Fault::ServerRestart { .. } => FaultKind::ServerRestart,
            Fault::LeaderKill { .. } => FaultKind::LeaderKill,
        }
    }
}

/// Draws faults from a seed.
#[derive(Debug)]
pub struct Schedule {
    rng: StdRng,
    bag: Vec<FaultKind>,
    kinds: Vec<FaultKind>,
    workers: usize,
    session: Duration,
    tasks: BTreeSet<String>,
    paused: BTreeSet<String>,
    added: usize,
}

/// The most tasks the schedule lets exist at once.
const MAX_TASKS: usize = 60;

impl Schedule {
    /// A schedule for `workers` workers, session `session`, the tasks
    /// `initial`, and leader kills if `ensemble`.
    pub fn new(
        seed: u64,
        workers: usize,
        session: Duration,
        initial: &[String],
        ensemble: bool,
    ) -> Schedule {
        let kinds = FaultKind::ALL
            .into_iter()
            .filter(|&k| ensemble || k != FaultKind::LeaderKill)
            .collect();
        Schedule {
            rng: StdRng::seed_from_u64(seed),
            bag: Vec::new(),
            kinds,
            workers,
            session,
            tasks: initial.iter().cloned().collect(),
            paused: BTreeSet::new(),
            added: 0,
        }
    }

    /// A duration between `low` and `high` times the session timeout.
    fn sessions(&mut self, low: f64, high: f64) -> Duration {
        self.session.mul_f64(self.rng.random_range(low..high))
    }

    fn pick(&mut self, from: &BTreeSet<String>) -> String {
        let i = self.rng.random_range(0..from.len());
        from.iter().nth(i).cloned().expect("an index in range")
    }

    /// The kind a task operation becomes when it cannot apply now: resume
    /// with nothing paused pauses, remove or pause of the last running
    /// task adds, add at the limit resumes (or removes, with nothing
    /// paused).
    fn applicable(&self, kind: FaultKind) -> FaultKind {
        let running = self.tasks.len() - self.paused.len();
        match kind {
            FaultKind::TaskResume if self.paused.is_empty() => {
                self.applicable(FaultKind::TaskPause)
            }
            FaultKind::TaskPause | FaultKind::TaskRemove if running <= 1 => FaultKind::TaskAdd,
            FaultKind::TaskAdd if self.tasks.len() >= MAX_TASKS && self.paused.is_empty() => {
                FaultKind::TaskRemove
            }
            FaultKind::TaskAdd if self.tasks.len() >= MAX_TASKS => FaultKind::TaskResume,
            other => other,
        }
    }

    /// The next fault, and how long to let the cluster run quietly after
    /// it settled.
    pub fn next_fault(&mut self) -> (Fault, Duration) {
        if self.bag.is_empty() {
            self.bag = self.kinds.clone();
            self.bag.shuffle(&mut self.rng);
        }
        let drawn = self.bag.pop().expect("a refilled bag");
        let kind = self.applicable(drawn);
        let worker = self.rng.random_range(0..self.workers);
        let fault = match kind {
            FaultKind::SigKill => Fault::SigKill {
                worker,
                restart_after: self.sessions(0.2, 1.5),
            },
            FaultKind::SigTerm => Fault::SigTerm {
                worker,
                restart_after: self.sessions(0.2, 1.0),
            },
            FaultKind::FreezeShort | FaultKind::BlackholeShort => {
                let lasting = self.sessions(0.2, 0.8);
                self.worker_fault(kind, worker, lasting)
            }
            FaultKind::FreezeLong | FaultKind::BlackholeLong => {
                let lasting = self.sessions(1.5, 2.5);
                self.worker_fault(kind, worker, lasting)
            }
            FaultKind::TaskAdd => {
                self.added += 1;
                let task = format!("new{}", self.added);
                self.tasks.insert(task.clone());
                Fault::Add(task)
            }
            FaultKind::TaskRemove => {
                let running = &self.tasks - &self.paused;
                let task = self.pick(&running);
                self.tasks.remove(&task);
                Fault::Remove(task)
            }
            FaultKind::TaskPause => {
                let running = &self.tasks - &self.paused;
                let task = self.pick(&running);
                self.paused.insert(task.clone());
                Fault::Pause(task)
            }
            FaultKind::TaskResume => {
                let paused = self.paused.clone();
                let task = self.pick(&paused);
                self.paused.remove(&task);
                Fault::Resume(task)
            }
            FaultKind::ServerRestart => Fault::ServerRestart {
                pick: self.rng.random_range(0..2),
                down: self.sessions(0.2, 1.5),
            },
            FaultKind::LeaderKill => Fault::LeaderKill {
                down: self.sessions(0.2, 1.5),
            },
        };
        let quiet = self.sessions(0.0, 0.5);
        (fault, quiet)
    }

    fn worker_fault(&self, kind: FaultKind, worker: usize, lasting: Duration) -> Fault {
        match kind {
            FaultKind::FreezeShort | FaultKind::FreezeLong => Fault::Freeze {
                worker,
                lasting,
                kind,
            },
            _ => Fault::Blackhole {
                worker,
                lasting,
                kind,
            },
        }
    }

    /// The tasks that exist now, by the schedule so far.
    pub fn tasks(&self) -> &BTreeSet<String> {
        &self.tasks
    }

    /// The tasks paused now, by the schedule so far.
    pub fn paused(&self) -> &BTreeSet<String> {
        &self.paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(seed: u64, n: usize) -> Vec<Fault> {
        let tasks: Vec<String> = (1..=4).map(|i| format!("t{i}")).collect();
        let mut schedule = Schedule::new(seed, 3, Duration::from_secs(1), &tasks, true);
        (0..n).map(|_| schedule.next_fault().0).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        assert_eq!(draw(7, 40), draw(7, 40));
        assert_ne!(draw(7, 40), draw(8, 40));
    }

    #[test]
    fn every_worker_and_server_fault_comes_once_per_bag() {
        let faults = draw(3, 12);
        let kinds: BTreeSet<FaultKind> = faults.iter().map(Fault::kind).collect();
        for kind in FaultKind::ALL.into_iter().filter(|k| !k.is_task_change()) {
            assert!(kinds.contains(&kind), "{kind} missing from {faults:?}");
        }
    }

    #[test]
    fn task_operations_name_tasks_in_the_right_state() {
        let tasks: Vec<String> = (1..=2).map(|i| format!("t{i}")).collect();
        let mut schedule = Schedule::new(11, 3, Duration::from_secs(1), &tasks, false);
        let mut exists: BTreeSet<String> = tasks.iter().cloned().collect();
        let mut paused = BTreeSet::new();
        for _ in 0..500 {
            match schedule.next_fault().0 {
                Fault::Add(t) => assert!(exists.insert(t)),
                Fault::Remove(t) => {
                    assert!(!paused.contains(&t) && exists.remove(&t));
                }
                Fault::Pause(t) => assert!(exists.contains(&t) && paused.insert(t)),
                Fault::Resume(t) => assert!(paused.remove(&t)),
                _ => {}
            }
            assert!(exists.len() > paused.len(), "nothing left to run");
        }
        assert_eq!(&exists, schedule.tasks());
    }
}

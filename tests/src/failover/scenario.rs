//! The failover scenarios, the same for every backend: worker processes
//! joined to one cluster, tasks added through [`Admin`], faults (SIGKILL
//! of a worker, a server crash), and the run log checked after each.
//!
//! Tests call these from a multi-threaded tokio runtime (waits on
//! processes use `block_in_place`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tenure_core::{Admin, DynStore, TaskSpec};

use super::process::{FailoverEnv, WorkerProcess};
use super::runlog::{Kill, RunLog, unix_nanos};
use crate::server_util::scratch_dir;

/// The task whose owner is killed.
pub const TASK_1: &str = "TASK_1";

/// How many tasks the scenarios add.
pub const TASKS: usize = 4;

/// How long a graceful exit (SIGTERM → handoff → exit 0) may take.
const EXIT_LIMIT: Duration = Duration::from_secs(20);

/// How long workers may take to place every task after a start or a heal.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

/// A cluster of worker processes over one run log.
pub struct Scenario {
    env: FailoverEnv,
    cluster: String,
    dir: tempfile::TempDir,
    log: RunLog,
    tasks: Vec<String>,
    admin: Admin,
    admin_store: DynStore,
    workers: BTreeMap<String, WorkerProcess>,
    kills: Vec<Kill>,
}

impl Scenario {
    /// A fresh cluster (a name no other test uses) with [`TASKS`] tasks
    /// `TASK_1…`, and no workers yet.
    pub async fn new(env: &FailoverEnv) -> Scenario {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let cluster = format!("failover-{}-{n}", std::process::id());
        let dir = scratch_dir("failover");
        let log = RunLog::at(&dir.path().join("runs.log"));
        let admin_store = env
            .kind
            .connect(&env.servers, env.session_timeout)
            .await
            .unwrap_or_else(|e| panic!("connecting the admin to {}: {e}", env.servers));
        let admin = Admin::new(admin_store.clone(), &cluster).await.unwrap();
        let tasks: Vec<String> = (1..=TASKS).map(|i| format!("TASK_{i}")).collect();
        for task in &tasks {
            admin.add_task(TaskSpec::new(task).unwrap()).await.unwrap();
        }
        Scenario {
            env: env.clone(),
            cluster,
            dir,
            log,
            tasks,
            admin,
            admin_store,
            workers: BTreeMap::new(),
            kills: Vec::new(),
        }
    }

    /// The run log.
    pub fn log(&self) -> &RunLog {
        &self.log
    }

    /// Starts worker `worker` (again, after a kill: same name, new process).
    pub fn start(&mut self, worker: &str) {
        let output = self.dir.path().join(format!("{worker}.out"));
        let process =
            WorkerProcess::start(&self.env, &self.cluster, worker, self.log.path(), &output);
        self.workers.insert(worker.to_string(), process);
    }

    /// Waits until every task runs exactly once on `live`, each worker
    /// running its even share (± 1); returns the placement and how long it
    /// took.
    pub async fn wait_balanced(&mut self, live: &[&str]) -> (BTreeMap<String, String>, Duration) {
        let start = Instant::now();
        loop {
            if let Some(placement) = self.log.placement(&self.tasks, live, &self.kills) {
                let load = self.log.load(live, &self.kills);
                let (min, max) = (load.values().min(), load.values().max());
                if max.zip(min).is_some_and(|(max, min)| max - min <= 1) {
                    return (placement, start.elapsed());
                }
            }
            if start.elapsed() > SETTLE_LIMIT {
                self.fail(&format!(
                    "tasks not placed evenly on {live:?} within {SETTLE_LIMIT:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The loopback ports each worker process is connected to.
    pub fn connected_ports(&self) -> BTreeMap<String, Vec<u16>> {
        self.workers
            .iter()
            .map(|(name, process)| (name.clone(), process.connected_ports()))
            .collect()
    }

    /// Kills `worker` with SIGKILL.
    pub fn sigkill(&mut self, worker: &str) -> Kill {
        let process = self.workers.get_mut(worker).expect("a started worker");
        let kill = process.sigkill();
        self.workers.remove(worker);
        self.kills.push(kill.clone());
        kill
    }

    /// Waits until `worker` starts `task` after `after` (Unix nanos), at
    /// most `limit`; returns the start.
    pub async fn wait_start(&self, task: &str, worker: &str, after: u128, limit: Duration) -> u128 {
        let start = Instant::now();
        loop {
            if let Some(at) = self.log.first_start(task, worker, after) {
                return at;
            }
            if start.elapsed() > limit {
                self.fail(&format!("{worker} did not start {task} within {limit:?}"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Checks the log; panics with every violation.
    pub fn check(&self, all_stopped: bool) -> usize {
        match self.log.check(&self.kills, all_stopped) {
            Ok(runs) => runs,
            Err(violations) => self.fail(&violations.join("\n")),
        }
    }

    /// Every task is still defined (nothing lost), read through the
    /// admin, retrying while its connection heals.
    pub async fn assert_tasks_defined(&self) {
        let start = Instant::now();
        loop {
            match self.admin.tasks().await {
                Ok(tasks) => {
                    let names: Vec<String> = tasks.iter().map(|t| t.task.to_string()).collect();
                    assert_eq!(names, self.tasks, "tasks lost or added");
                    return;
                }
                Err(e) if start.elapsed() < SETTLE_LIMIT => {
                    tracing::debug!(error = %e, "admin read failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("the admin cannot list tasks: {e}"),
            }
        }
    }

    /// SIGTERMs every worker at once and asserts each exits with 0 within
    /// the limit; then checks that every run stopped.
    pub async fn terminate_all(&mut self) -> usize {
        for process in self.workers.values() {
            process.sigterm();
        }
        let mut failures = Vec::new();
        tokio::task::block_in_place(|| {
            for (name, process) in &mut self.workers {
                match process.wait_exit(EXIT_LIMIT) {
                    Some(status) if status.success() => {}
                    other => failures.push(format!("{name} did not exit gracefully: {other:?}")),
                }
            }
        });
        if !failures.is_empty() {
            self.fail(&failures.join("\n"));
        }
        // The outputs stay readable (for a failed check) until here.
        let runs = self.check(true);
        self.workers.clear();
        let _ = self.admin_store.close().await;
        runs
    }

    /// Panics with `message`, the log and every worker's output tail.
    fn fail(&self, message: &str) -> ! {
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let mut outputs = String::new();
        for (name, process) in &self.workers {
            outputs.push_str(&format!(
                "--- {name} output:\n{}\n",
                process.output_tail(60)
            ));
        }
        panic!(
            "{message}\ncluster {} on {} {}\n--- run log:\n{log}{outputs}",
            self.cluster,
            self.env.kind.name(),
            self.env.servers
        );
    }
}

/// The owner of `task` in `placement`, and the other of two workers.
fn owner_and_other<'a>(
    placement: &BTreeMap<String, String>,
    task: &str,
    pair: [&'a str; 2],
) -> (&'a str, &'a str) {
    let owner = placement.get(task).expect("the task is placed");
    if owner == pair[0] {
        (pair[0], pair[1])
    } else {
        (pair[1], pair[0])
    }
}

/// Two workers settle, the owner of [`TASK_1`] is SIGKILLed, the survivor
/// takes it over; returns the takeover time (kill → survivor's start).
/// The survivor is left running with every task.
pub(super) async fn kill_owner_of_task_1(scenario: &mut Scenario) -> (Duration, String, String) {
    scenario.start("w1");
    scenario.start("w2");
    let (placement, _) = scenario.wait_balanced(&["w1", "w2"]).await;
    let (victim, survivor) = owner_and_other(&placement, TASK_1, ["w1", "w2"]);
    let kill = scenario.sigkill(victim);
    let limit = scenario.env.session_timeout + Duration::from_secs(5);
    let started = scenario.wait_start(TASK_1, survivor, kill.at, limit).await;
    let takeover = Duration::from_nanos((started - kill.at) as u64);
    (takeover, victim.to_string(), survivor.to_string())
}

/// The whole process-level failover story: two workers balance four tasks;
/// the owner of [`TASK_1`] is SIGKILLed and the survivor starts it within
/// session timeout + 1 s; the killed worker restarts and gets its share
/// back by handoff; SIGTERM ends both with exit code 0; the run log shows
/// no task ever ran twice and tokens always rose. Returns the takeover.
pub async fn sigkill_takeover_and_return(env: &FailoverEnv) -> Duration {
    let mut scenario = Scenario::new(env).await;
    let (takeover, victim, survivor) = kill_owner_of_task_1(&mut scenario).await;
    eprintln!(
        "{}: {survivor} started {TASK_1} {takeover:?} after {victim} was SIGKILLed (session timeout {:?})",
        env.kind.name(),
        env.session_timeout
    );
    let bound = env.session_timeout + Duration::from_secs(1);
    if takeover > bound {
        scenario.fail(&format!(
            "takeover took {takeover:?}, more than session timeout + 1 s = {bound:?}"
        ));
    }
    scenario.wait_balanced(&[survivor.as_str()]).await;
    scenario.check(false);

    let returned_at = unix_nanos();
    scenario.start(&victim);
    let (placement, took) = scenario.wait_balanced(&["w1", "w2"]).await;
    let back: Vec<&String> = placement
        .iter()
        .filter(|(_, w)| **w == victim)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        back.len(),
        TASKS / 2,
        "the returning worker's share: {placement:?}"
    );
    for task in &back {
        if scenario
            .log
            .first_start(task, &victim, returned_at)
            .is_none()
        {
            scenario.fail(&format!(
                "{victim} runs {task} without a start since its return"
            ));
        }
    }
    eprintln!(
        "{}: {victim} returned and got {back:?} back in {took:?}",
        env.kind.name()
    );
    scenario.check(false);
    let runs = scenario.terminate_all().await;
    eprintln!("{}: {runs} runs, none overlapping", env.kind.name());
    takeover
}

/// Two workers settle; `fault` runs (blocking: it may stop and restart
/// servers); afterwards every task runs exactly once again, stays so for a
/// session timeout, is still defined, and the log shows no overlap. SIGTERM
/// ends both workers with exit code 0.
pub async fn server_fault(env: &FailoverEnv, what: &str, fault: impl FnOnce() + Send + 'static) {
    let mut scenario = Scenario::new(env).await;
    scenario.start("w1");
    scenario.start("w2");
    scenario.wait_balanced(&["w1", "w2"]).await;
    let before = scenario.log().runs().len();
    eprintln!(
        "{}: before {what}, workers connected to ports {:?}",
        env.kind.name(),
        scenario.connected_ports()
    );
    let fault_at = unix_nanos();
    tokio::task::spawn_blocking(fault)
        .await
        .expect("the fault panicked");
    let fault_took = Duration::from_nanos((unix_nanos() - fault_at) as u64);
    scenario.wait_balanced(&["w1", "w2"]).await;
    scenario.check(false);
    // Whatever the fault set in motion (fencing, expiry, reclaims) has
    // played out one session timeout later.
    tokio::time::sleep(env.session_timeout).await;
    let (placement, _) = scenario.wait_balanced(&["w1", "w2"]).await;
    scenario.assert_tasks_defined().await;
    let runs = scenario.log().runs();
    let restarts: Vec<u128> = runs
        .iter()
        .filter(|r| r.start > fault_at)
        .map(|r| r.start)
        .collect();
    let last = restarts
        .iter()
        .max()
        .map(|at| Duration::from_nanos((at - fault_at) as u64));
    eprintln!(
        "{}: {what} took {fault_took:?}; {} handler starts since the fault ({before} before), the last {last:?} after it; placement {placement:?}",
        env.kind.name(),
        restarts.len()
    );
    scenario.terminate_all().await;
}

//! The soak's course: start servers, workers and tasks; apply the
//! schedule's faults one at a time, each healed and followed by a wait
//! until every wanted task runs exactly once; shut every worker down; then
//! check what the children recorded.
//!
//! Every wait is bounded; the servers, the workers and (through the
//! monitor's guard) every child die with the soak, panics included.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use super::check::{Verdict, check};
use super::children::{Role, command_script, helper_script};
use super::fleet::{Fleet, FleetSpec};
use super::history::{Change, Episode, Exit, History, TaskEvent};
use super::monitor::Monitor;
use super::options::SoakOptions;
use super::schedule::{Fault, Schedule};
use super::servers::Servers;
use crate::failover::unix_nanos;
use crate::server_util::scratch_dir;

/// How long the cluster may take to run every wanted task once after a
/// fault healed, beyond the session timeout, before the soak moves on
/// (the stranded check reports it).
const SETTLE_SLACK: Duration = Duration::from_secs(15);

/// What a finished soak reports.
#[derive(Debug)]
pub struct Outcome {
    /// The seed of the schedule.
    pub seed: u64,
    /// The record of what was done.
    pub history: History,
    /// What the checks found.
    pub verdict: Verdict,
    /// How long it all took.
    pub took: Duration,
}

/// The running pieces of a soak.
struct Soak {
    opts: SoakOptions,
    servers: Servers,
    fleet: Fleet,
    monitor: Monitor,
    schedule: Schedule,
    history: History,
}

/// Runs a soak with `opts` (validated) and schedule seed `seed`.
pub fn run(opts: &SoakOptions, seed: u64) -> Outcome {
    let began = Instant::now();
    let session = opts.session();
    let dir = scratch_dir("soak");
    let log = dir.path().join("children.log");
    // A child lives at most as long as the soak could.
    let lifetime = opts.duration_secs + 600;
    let helper = dir.path().join("helper.sh");
    std::fs::write(&helper, helper_script(&log, lifetime)).expect("writing the helper script");
    let script = dir.path().join("command.sh");
    let helper = opts.setsid_helper.then_some(helper.as_path());
    std::fs::write(&script, command_script(&log, helper, lifetime))
        .expect("writing the command script");
    let monitor = Monitor::start(&log, Duration::from_secs(lifetime));
    let servers = Servers::start(opts.backend, opts.members);
    let spec = FleetSpec {
        tenure: opts.tenure_program(),
        backend: opts.backend,
        cluster: format!("soak-{}-{seed}", std::process::id()),
        session,
        command: vec!["sh".into(), script.display().to_string()],
        dir: dir.path().to_path_buf(),
        servers: servers.connect_string(),
    };
    let fleet = Fleet::new(spec, opts.workers, &servers.addrs());
    let initial: Vec<String> = (1..=opts.tasks).map(|i| format!("t{i}")).collect();
    let schedule = Schedule::new(seed, opts.workers, session, &initial, servers.is_ensemble());
    let mut soak = Soak {
        opts: opts.clone(),
        servers,
        fleet,
        monitor,
        schedule,
        history: History {
            session,
            initial_tasks: initial.clone(),
            ..History::default()
        },
    };
    for task in &initial {
        if let Err(e) = soak.fleet.admin(&["add", task]) {
            panic!("adding the first tasks failed: {e}");
        }
    }
    for i in 0..soak.fleet.len() {
        soak.fleet.start(i);
    }
    if soak.settle().is_none() {
        soak.history
            .problems
            .push("the tasks were not all running before the first fault".into());
    }
    soak.history.start = unix_nanos();
    soak.faults(began);
    soak.shutdown();
    soak.monitor.stop(Duration::from_millis(300));
    let children = soak.monitor.children();
    let verdict = check(&soak.history, &children.all, &children.malformed);
    drop(children);
    soak.monitor.kill_leftovers();
    if let Some(to) = &opts.logs {
        keep_logs(dir.path(), to);
    }
    Outcome {
        seed,
        history: soak.history,
        verdict,
        took: began.elapsed(),
    }
}

impl Soak {
    fn faults(&mut self, began: Instant) {
        let duration = Duration::from_secs(self.opts.duration_secs);
        let mut applied = 0;
        while applied < self.opts.faults && began.elapsed() < duration {
            let (fault, quiet) = self.schedule.next_fault();
            eprintln!(
                "soak fault #{} at {}: {fault:?}",
                self.history.episodes.len() + 1,
                self.history.rel(unix_nanos())
            );
            let episode = self.apply(fault);
            let index = self.history.episodes.len();
            self.history.episodes.push(episode);
            self.history.episodes[index].settled = self.settle();
            std::thread::sleep(quiet);
            applied += 1;
        }
    }

    /// Applies one fault and heals it.
    fn apply(&mut self, fault: Fault) -> Episode {
        let session = self.opts.session();
        let at = unix_nanos();
        let mut episode = Episode {
            fault: fault.clone(),
            worker: None,
            at,
            healed: at,
            clock_from: at,
            settled: None,
        };
        match fault {
            Fault::SigKill {
                worker,
                restart_after,
            } => {
                episode.worker = Some(self.fleet.name(worker).to_string());
                let kill = self.fleet.sigkill(worker);
                (episode.at, episode.clock_from, episode.healed) = (kill.at, kill.at, kill.at);
                self.history.kills.push(kill);
                std::thread::sleep(restart_after);
                self.fleet.start(worker);
            }
            Fault::SigTerm {
                worker,
                restart_after,
            } => {
                let name = self.fleet.name(worker).to_string();
                episode.worker = Some(name.clone());
                // The handoff may take twice the session, the stops a
                // grace each: generous.
                let limit = session * 3 + Duration::from_secs(10);
                let (status, exited) = self.fleet.sigterm(worker, limit);
                self.record_exit(name, at, exited, status, false);
                episode.healed = exited;
                std::thread::sleep(restart_after);
                self.fleet.start(worker);
            }
            Fault::Freeze {
                worker, lasting, ..
            } => {
                episode.worker = Some(self.fleet.name(worker).to_string());
                self.fleet.signal(worker, "STOP");
                std::thread::sleep(lasting);
                self.fleet.signal(worker, "CONT");
                episode.healed = unix_nanos();
            }
            Fault::Blackhole {
                worker, lasting, ..
            } => {
                episode.worker = Some(self.fleet.name(worker).to_string());
                self.fleet.blackhole(worker, true);
                std::thread::sleep(lasting);
                self.fleet.blackhole(worker, false);
                episode.healed = unix_nanos();
            }
            Fault::Add(task) => self.change(&mut episode, &task, Change::Added),
            Fault::Remove(task) => self.change(&mut episode, &task, Change::Removed),
            Fault::Pause(task) => self.change(&mut episode, &task, Change::Paused),
            Fault::Resume(task) => self.change(&mut episode, &task, Change::Resumed),
            Fault::ServerRestart { pick, down } => {
                let f = self.servers.restart(pick, down);
                (episode.at, episode.healed, episode.clock_from) = (f.at, f.healed, f.healed);
            }
            Fault::LeaderKill { down } => match self.servers.kill_leader(down) {
                Ok(f) => {
                    (episode.at, episode.healed, episode.clock_from) = (f.at, f.healed, f.healed);
                }
                Err(e) => self.history.problems.push(e),
            },
        }
        episode
    }

    fn record_exit(
        &mut self,
        worker: String,
        signalled: u128,
        exited: u128,
        status: Option<std::process::ExitStatus>,
        last: bool,
    ) {
        if !status.is_some_and(|s| s.success()) {
            self.history.problems.push(format!(
                "{worker} did not exit with 0 after SIGTERM: {status:?}"
            ));
        }
        self.history.exits.push(Exit {
            worker,
            signalled,
            exited,
            status: status.map(|s| s.to_string()),
            last,
        });
    }

    /// Runs `tenure tasks <change> <task>` and records it.
    fn change(&mut self, episode: &mut Episode, task: &str, change: Change) {
        let verb = match change {
            Change::Added => "add",
            Change::Removed => "rm",
            Change::Paused => "pause",
            Change::Resumed => "resume",
        };
        let began = unix_nanos();
        if let Err(e) = self.fleet.admin(&[verb, task]) {
            self.history.problems.push(e);
        }
        let returned = unix_nanos();
        self.history.task_events.push(TaskEvent {
            task: task.to_string(),
            change,
            began,
            returned,
        });
        (episode.healed, episode.clock_from) = (returned, returned);
    }

    /// Waits until every worker runs and every wanted task runs exactly
    /// one command, at most the session timeout + [`SETTLE_SLACK`];
    /// restarts workers that exited by themselves (a problem). Returns
    /// when it settled.
    fn settle(&mut self) -> Option<u128> {
        let limit = self.opts.session() + SETTLE_SLACK;
        let began = Instant::now();
        loop {
            let exited = self.fleet.exited();
            if !exited.is_empty() {
                // A worker that cannot run at all is restarted once a
                // second, not in a tight loop.
                std::thread::sleep(Duration::from_secs(1));
            }
            for (i, tail) in exited {
                self.history.problems.push(format!(
                    "{} exited by itself at {}; its output ends:\n{tail}",
                    self.fleet.name(i),
                    self.history.rel(unix_nanos())
                ));
                self.fleet.start(i);
            }
            if self.is_settled() {
                return Some(unix_nanos());
            }
            if began.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn is_settled(&self) -> bool {
        let wanted: BTreeSet<&String> = self
            .schedule
            .tasks()
            .difference(self.schedule.paused())
            .collect();
        let children = self.monitor.children();
        let mut running: Vec<&str> = children
            .all
            .iter()
            .filter(|c| c.role == Role::Command && c.is_running())
            .map(|c| c.task.as_str())
            .collect();
        running.sort_unstable();
        let unique: BTreeSet<&str> = running.iter().copied().collect();
        unique.len() == running.len()
            && unique.len() == wanted.len()
            && wanted.iter().all(|t| unique.contains(t.as_str()))
    }

    /// SIGTERMs every worker at once and waits for each to exit.
    fn shutdown(&mut self) {
        self.history.end = unix_nanos();
        let limit = self.opts.session() * 3 + Duration::from_secs(10);
        for i in 0..self.fleet.len() {
            if self.fleet.is_started(i) {
                self.fleet.signal(i, "TERM");
            }
        }
        for i in 0..self.fleet.len() {
            if self.fleet.is_started(i) {
                let name = self.fleet.name(i).to_string();
                let (status, exited) = self.fleet.wait_exit(i, limit);
                self.record_exit(name, self.history.end, exited, status, true);
            }
        }
        self.history.all_exited = unix_nanos();
    }
}

/// Copies the logs of the soak (the `.log` and `.out` files of `from`)
/// into `to`.
fn keep_logs(from: &Path, to: &Path) {
    if let Err(e) = std::fs::create_dir_all(to) {
        eprintln!("soak: cannot create {}: {e}", to.display());
        return;
    }
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("log" | "out")
        ) && let Err(e) = std::fs::copy(&path, to.join(entry.file_name()))
        {
            eprintln!("soak: cannot copy {}: {e}", path.display());
        }
    }
}

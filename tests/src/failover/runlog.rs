//! The run log: one line per handler start and stop, appended by every
//! worker (in this process or in others) to one file; `invariants` proves
//! from it that no task ever ran twice at once.
//!
//! A line is `start <task> <token> <worker> <unix_nanos>` or
//! `stop <task> <token> <worker> <unix_nanos>`. Each line is one `write` on
//! a file opened with `O_APPEND`, so lines of several processes never
//! interleave. All writers share the machine's clock, so times compare.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tenure_core::{HandlerResult, TaskContext, TaskHandler};

/// Nanoseconds since the Unix epoch, the log's clock.
pub fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Appends start and stop lines to a run log.
#[derive(Clone, Debug)]
pub struct RunLogWriter {
    file: Arc<File>,
}

impl RunLogWriter {
    /// Opens (creating if needed) the log at `path` for appending.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::options().create(true).append(true).open(path)?;
        Ok(RunLogWriter {
            file: Arc::new(file),
        })
    }

    /// Appends one line, in one `write` (a line is far shorter than any
    /// limit of a single write to a regular file).
    fn line(&self, kind: &str, ctx: &TaskContext) {
        let line = format!(
            "{kind} {} {} {} {}\n",
            ctx.task(),
            ctx.token(),
            ctx.worker(),
            unix_nanos()
        );
        let written = (&*self.file).write(line.as_bytes());
        assert_eq!(
            written.ok(),
            Some(line.len()),
            "the run log took part of a line"
        );
    }

    /// A handler that logs `start` when it begins and `stop` when it ends,
    /// whether it returns after cancellation or its future is dropped.
    pub fn handler(&self) -> impl TaskHandler {
        let log = self.clone();
        move |ctx: TaskContext| {
            let log = log.clone();
            async move {
                log.line("start", &ctx);
                let _stop = StopLine(log, ctx.clone());
                ctx.cancelled().await;
                HandlerResult::Ok(())
            }
        }
    }
}

/// Writes the `stop` line when dropped (the end of the handler's future).
struct StopLine(RunLogWriter, TaskContext);

impl Drop for StopLine {
    fn drop(&mut self) {
        self.0.line("stop", &self.1);
    }
}

/// One run of a task: a handler from its start to its stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The task.
    pub task: String,
    /// The fencing token of the run.
    pub token: u64,
    /// The worker that ran it.
    pub worker: String,
    /// When it started (Unix nanoseconds).
    pub start: u128,
    /// When it stopped; `None` while it runs (or if its process was killed).
    pub stop: Option<u128>,
}

/// A worker process killed with SIGKILL: its runs without a stop line
/// ended at `dead` (the instant the process was reaped).
#[derive(Clone, Debug)]
pub struct Kill {
    /// The killed worker's name.
    pub worker: String,
    /// Just before the signal was sent.
    pub at: u128,
    /// Once the process was reaped.
    pub dead: u128,
}

/// A run log on disk, read back for checks.
#[derive(Clone, Debug)]
pub struct RunLog {
    path: PathBuf,
}

impl RunLog {
    /// The log at `path` (it need not exist yet).
    pub fn at(path: &Path) -> Self {
        RunLog {
            path: path.to_path_buf(),
        }
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every run in the log, in order of start. A last line without its
    /// newline (being written) is ignored; a malformed line panics.
    pub fn runs(&self) -> Vec<Run> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let complete = match text.rfind('\n') {
            Some(end) => &text[..=end],
            None => "",
        };
        let mut runs: Vec<Run> = Vec::new();
        let mut open: BTreeMap<(String, u64), usize> = BTreeMap::new();
        for line in complete.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let [kind, task, token, worker, at] = fields[..] else {
                panic!("malformed run log line {line:?} in {}", self.path.display());
            };
            let token: u64 = token.parse().expect("token");
            let at: u128 = at.parse().expect("time");
            let key = (task.to_string(), token);
            match kind {
                "start" => {
                    assert!(
                        !open.contains_key(&key),
                        "{task} token {token} started twice"
                    );
                    open.insert(key, runs.len());
                    runs.push(Run {
                        task: task.to_string(),
                        token,
                        worker: worker.to_string(),
                        start: at,
                        stop: None,
                    });
                }
                "stop" => {
                    let i = open
                        .remove(&key)
                        .unwrap_or_else(|| panic!("stop without start: {line:?}"));
                    runs[i].stop = Some(at);
                }
                _ => panic!("malformed run log line {line:?}"),
            }
        }
        runs.sort_by_key(|r| r.start);
        runs
    }

    /// The runs that still go on, by task: those without a stop line,
    /// except the runs of killed workers that started before the kill.
    pub fn running(&self, kills: &[Kill]) -> BTreeMap<String, Vec<Run>> {
        let mut running: BTreeMap<String, Vec<Run>> = BTreeMap::new();
        let ended_by_kill = |r: &Run| kills.iter().any(|k| k.worker == r.worker && r.start < k.at);
        for run in self
            .runs()
            .into_iter()
            .filter(|r| r.stop.is_none() && !ended_by_kill(r))
        {
            running.entry(run.task.clone()).or_default().push(run);
        }
        running
    }

    /// The owner of each running task, if every one of `tasks` runs exactly
    /// once, on one of the `live` workers.
    pub fn placement(
        &self,
        tasks: &[String],
        live: &[&str],
        kills: &[Kill],
    ) -> Option<BTreeMap<String, String>> {
        let running = self.running(kills);
        let mut placement = BTreeMap::new();
        for task in tasks {
            let [run] = &running.get(task)?[..] else {
                return None;
            };
            if !live.contains(&run.worker.as_str()) {
                return None;
            }
            placement.insert(task.clone(), run.worker.clone());
        }
        Some(placement)
    }

    /// How many tasks each of `workers` runs now.
    pub fn load(&self, workers: &[&str], kills: &[Kill]) -> BTreeMap<String, usize> {
        let mut load: BTreeMap<String, usize> =
            workers.iter().map(|w| (w.to_string(), 0)).collect();
        for run in self.running(kills).values().flatten() {
            if let Some(n) = load.get_mut(&run.worker) {
                *n += 1;
            }
        }
        load
    }

    /// The first start of `task` by `worker` at or after `after`.
    pub fn first_start(&self, task: &str, worker: &str, after: u128) -> Option<u128> {
        self.runs()
            .into_iter()
            .find(|r| r.task == task && r.worker == worker && r.start >= after)
            .map(|r| r.start)
    }
}

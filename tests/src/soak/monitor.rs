//! Watches the children of the soak from outside: a thread that follows
//! the children's log and polls `/proc` for every process named there, so
//! a child's end is known even when it was killed without a word; and the
//! guard that kills whatever is left (a descendant that escaped its
//! worker's process group would otherwise outlive the soak).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::children::{Child, ProcessKey, parse_line};
use crate::failover::unix_nanos;
use crate::server_util::send_signal;

/// How often `/proc` is polled: a child killed outright is known gone at
/// most this long (plus scheduling delays) after it ended.
pub const POLL: Duration = Duration::from_millis(5);

/// Every child seen so far, in order of their start lines.
#[derive(Debug, Default)]
pub struct Children {
    /// The records.
    pub all: Vec<Child>,
    index: HashMap<ProcessKey, usize>,
    /// Lines that did not parse (reported as a failure of the soak).
    pub malformed: Vec<String>,
}

impl Children {
    fn apply(&mut self, text: &str) {
        let line = match parse_line(text) {
            Ok(line) => line,
            Err(e) => return self.malformed.push(e),
        };
        if let Some(child) = line.started(text) {
            self.index.insert(child.key, self.all.len());
            self.all.push(child);
        } else if let Some(&i) = self.index.get(&line.key) {
            self.all[i].exit = Some((line.at, text.to_string()));
        } else {
            self.malformed
                .push(format!("an exit line without its start: {text:?}"));
        }
    }
}

/// The state of a process in `/proc`.
#[derive(Debug, PartialEq, Eq)]
enum ProcState {
    Alive,
    Gone,
}

/// Whether the process `key` runs: its `/proc/<pid>/stat` exists, names
/// the same start time, and it is not a zombie.
fn proc_state(key: ProcessKey) -> ProcState {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", key.0)) else {
        return ProcState::Gone;
    };
    // Fields after the command name (which may hold spaces) start at
    // field 3 (the state); the start time is field 22.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return ProcState::Gone;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let same = fields.get(19).and_then(|t| t.parse::<u64>().ok()) == Some(key.1);
    let living = !matches!(fields.first(), Some(&("Z" | "X" | "x")));
    if same && living {
        ProcState::Alive
    } else {
        ProcState::Gone
    }
}

/// The watching thread and what it learnt.
#[derive(Debug)]
pub struct Monitor {
    children: Arc<Mutex<Children>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Monitor {
    /// Follows the log at `log` (created if missing) until stopped, or at
    /// the latest after `limit`.
    pub fn start(log: &Path, limit: Duration) -> Monitor {
        File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
        let children = Arc::new(Mutex::new(Children::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (children, stop, log) = (children.clone(), stop.clone(), log.to_path_buf());
            std::thread::Builder::new()
                .name("soak-monitor".into())
                .spawn(move || watch(&log, &children, &stop, limit))
                .expect("starting the monitor thread")
        };
        Monitor {
            children,
            stop,
            thread: Some(thread),
        }
    }

    /// What is known now.
    pub fn children(&self) -> MutexGuard<'_, Children> {
        self.children.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls once more after `settle` (so the last lines and ends are
    /// seen), then stops the thread.
    pub fn stop(&mut self, settle: Duration) {
        std::thread::sleep(settle);
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// SIGKILLs every child still running (checked against `/proc`, so a
    /// reused pid is left alone); returns how many there were.
    pub fn kill_leftovers(&self) -> usize {
        let children = self.children();
        let mut killed = 0;
        for child in &children.all {
            if child.gone.is_none() && proc_state(child.key) == ProcState::Alive {
                send_signal(child.key.0, "KILL");
                killed += 1;
            }
        }
        killed
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.kill_leftovers();
    }
}

/// The thread: reads new complete lines, then polls every child not yet
/// gone, every [`POLL`], until `stop` or `limit`.
fn watch(log: &Path, children: &Mutex<Children>, stop: &AtomicBool, limit: Duration) {
    let began = Instant::now();
    let mut offset = 0u64;
    let mut partial = String::new();
    let mut last_round = false;
    loop {
        if stop.load(Ordering::Relaxed) || began.elapsed() > limit {
            // One more round, so that whatever happened before the stop is
            // seen.
            if last_round {
                return;
            }
            last_round = true;
        }
        let fresh = read_from(log, &mut offset);
        let mut guard = children.lock().unwrap_or_else(|p| p.into_inner());
        partial.push_str(&fresh);
        while let Some(end) = partial.find('\n') {
            let line: String = partial.drain(..=end).collect();
            guard.apply(line.trim_end());
        }
        let now = unix_nanos();
        for child in guard.all.iter_mut().filter(|c| c.gone.is_none()) {
            match proc_state(child.key) {
                ProcState::Alive => child.last_seen = now,
                ProcState::Gone => child.gone = Some(now),
            }
        }
        drop(guard);
        std::thread::sleep(POLL);
    }
}

/// What was appended to `log` since `offset` (moved past it).
fn read_from(log: &Path, offset: &mut u64) -> String {
    let Ok(mut file) = File::open(log) else {
        return String::new();
    };
    if file.seek(SeekFrom::Start(*offset)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if let Ok(n) = file.read_to_end(&mut bytes) {
        *offset += n as u64;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

//! The supervised command of the soak and the records it leaves: a shell
//! script that appends one line when it starts and one from a trap when it
//! is asked to stop, into one log shared by every worker's children.
//!
//! A line is
//! `<kind> <task> <token> <attempt> <worker> <pid> <starttime> <unix_nanos>`
//! with kind `start` or `exit` for the command itself, `helper` or
//! `helper-exit` for the optional descendant it starts in a session of its
//! own (`setsid`). The start line is the process's first act, written
//! before it listens to signals (see `HOLD_SIGNALS`): a run counts from
//! it, the moments between `exec` and the line do not. `starttime` is field 22 of `/proc/<pid>/stat` (the
//! process's start in clock ticks since boot): with the pid it names one
//! process even after the pid is reused. The time is taken first on start
//! (the process is alive then) and last on exit (the process ends right
//! after). A process killed outright writes no exit line; its end is
//! learnt from `/proc` (see [`monitor`](super::monitor)).

use std::path::Path;

/// The process identity: pid and start time in clock ticks since boot.
pub type ProcessKey = (u32, u64);

/// What a child process is to its run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The command the worker started.
    Command,
    /// A descendant the command started in a session of its own.
    Helper,
}

/// One process of one run of a task, as its lines and `/proc` tell.
#[derive(Clone, Debug)]
pub struct Child {
    /// The task.
    pub task: String,
    /// The fencing token of the claim it runs under.
    pub token: u64,
    /// `TENURE_ATTEMPT`: 1, then 2, 3, … when restarted under one claim.
    pub attempt: u64,
    /// The worker that started it.
    pub worker: String,
    /// Command or helper.
    pub role: Role,
    /// Pid and start ticks.
    pub key: ProcessKey,
    /// When it wrote its start line (Unix nanoseconds).
    pub start: u128,
    /// The start line.
    pub start_line: String,
    /// When it wrote its exit line, and the line.
    pub exit: Option<(u128, String)>,
    /// The last time `/proc` showed it alive.
    pub last_seen: u128,
    /// The first time `/proc` showed it gone (or a zombie).
    pub gone: Option<u128>,
}

impl Child {
    /// When it ended: its exit line if it wrote one, else the first time
    /// it was seen gone; `None` while it runs.
    pub fn end(&self) -> Option<u128> {
        self.exit.as_ref().map(|(at, _)| *at).or(self.gone)
    }

    /// Whether it still runs (no exit line, not seen gone).
    pub fn is_running(&self) -> bool {
        self.end().is_none()
    }
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `start`, `exit`, `helper` or `helper-exit`.
    pub kind: String,
    /// The task.
    pub task: String,
    /// The token.
    pub token: u64,
    /// The attempt.
    pub attempt: u64,
    /// The worker.
    pub worker: String,
    /// Pid and start ticks.
    pub key: ProcessKey,
    /// When (Unix nanoseconds).
    pub at: u128,
}

/// Parses one line of the children's log.
///
/// # Errors
/// A message quoting the line.
pub fn parse_line(line: &str) -> Result<Line, String> {
    let bad = || format!("malformed line in the children's log: {line:?}");
    let fields: Vec<&str> = line.split(' ').collect();
    let [kind, task, token, attempt, worker, pid, ticks, at] = fields[..] else {
        return Err(bad());
    };
    if !matches!(kind, "start" | "exit" | "helper" | "helper-exit") {
        return Err(bad());
    }
    Ok(Line {
        kind: kind.to_string(),
        task: task.to_string(),
        token: token.parse().map_err(|_| bad())?,
        attempt: attempt.parse().map_err(|_| bad())?,
        worker: worker.to_string(),
        key: (
            pid.parse().map_err(|_| bad())?,
            ticks.parse().map_err(|_| bad())?,
        ),
        at: at.parse().map_err(|_| bad())?,
    })
}

impl Line {
    /// The record of the process that wrote this start line.
    pub fn started(&self, text: &str) -> Option<Child> {
        let role = match self.kind.as_str() {
            "start" => Role::Command,
            "helper" => Role::Helper,
            _ => return None,
        };
        Some(Child {
            task: self.task.clone(),
            token: self.token,
            attempt: self.attempt,
            worker: self.worker.clone(),
            role,
            key: self.key,
            start: self.at,
            start_line: text.to_string(),
            exit: None,
            last_seen: self.at,
            gone: None,
        })
    }
}

/// The shell function both scripts share: `rec KIND PID` appends a line.
fn rec_function(log: &Path) -> String {
    format!(
        "L='{log}'\n\
         rec() {{\n\
         \x20 t=$(date +%s%N)\n\
         \x20 read -r s < /proc/$2/stat\n\
         \x20 set -- \"$1\" \"$2\" $s\n\
         \x20 echo \"$1 $TENURE_TASK $TENURE_TOKEN $TENURE_ATTEMPT $TENURE_WORKER $2 ${{24}} $t\" >> \"$L\"\n\
         }}\n",
        log = log.display()
    )
}

/// Before the start line: the signals the trap handles are ignored, so a
/// process that runs always has its start line (a stop that comes this
/// early is lost, and the worker kills the command after its grace).
const HOLD_SIGNALS: &str = "trap '' TERM INT HUP\n";

/// In a trap: ends the loop's `sleep` too (the worker signals the whole
/// process group, but a lone helper or a test has only the shell).
const STOP_SLEEP: &str = "kill $! 2>/dev/null; ";

/// A loop that sleeps one second at a time, at most `seconds` times, and
/// runs the trap at once when a signal comes.
fn bounded_sleep(seconds: u64) -> String {
    format!("i=0\nwhile [ $i -lt {seconds} ]; do sleep 1 & wait $!; i=$((i + 1)); done\n")
}

/// A script that records `start` (its first act, signals held), then
/// records `exit` from a trap (TERM, INT, HUP) or when its time is up,
/// running `extra` in between and sleeping at most `lifetime_secs`.
fn script(log: &Path, (start, exit): (&str, &str), extra: &str, lifetime_secs: u64) -> String {
    format!(
        "{rec}{HOLD_SIGNALS}rec {start} $$\ntrap '{STOP_SLEEP}rec {exit} $$; exit 0' TERM INT HUP\n{extra}{sleep}rec {exit} $$\n",
        rec = rec_function(log),
        sleep = bounded_sleep(lifetime_secs),
    )
}

/// The command's script: records its start, starts the helper script if
/// one is given, sleeps (at most `lifetime_secs`), records its exit when
/// signalled (TERM, INT, HUP) or when the time is up.
pub fn command_script(log: &Path, helper: Option<&Path>, lifetime_secs: u64) -> String {
    let helper = helper
        .map(|h| format!("setsid sh '{}' </dev/null >/dev/null 2>&1 &\n", h.display()))
        .unwrap_or_default();
    script(log, ("start", "exit"), &helper, lifetime_secs)
}

/// The helper's script: as the command's, with `helper` lines; started in
/// a session of its own, so it is outside the command's process group.
pub fn helper_script(log: &Path, lifetime_secs: u64) -> String {
    script(log, ("helper", "helper-exit"), "", lifetime_secs)
}

/// A made-up command record, for tests of the checks.
#[cfg(test)]
pub(super) fn test_child(
    task: &str,
    token: u64,
    worker: &str,
    start: u128,
    end: Option<u128>,
) -> Child {
    Child {
        task: task.into(),
        token,
        attempt: 1,
        worker: worker.into(),
        role: Role::Command,
        key: (start as u32, 1),
        start,
        start_line: format!("start {task} {token} 1 {worker} {start} 1 {start}"),
        exit: None,
        last_seen: start,
        gone: end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_parses_into_its_fields() {
        let line = parse_line("start t3 7 1 w2 4242 99 1700000000000000000").unwrap();
        assert_eq!(line.kind, "start");
        assert_eq!((line.task.as_str(), line.token, line.attempt), ("t3", 7, 1));
        assert_eq!((line.worker.as_str(), line.key), ("w2", (4242, 99)));
        assert_eq!(line.at, 1_700_000_000_000_000_000);
        assert!(parse_line("start t3 7 1 w2 4242 99").is_err());
        assert!(parse_line("begin t3 7 1 w2 4242 99 1").is_err());
    }

    #[test]
    fn the_script_records_start_and_exit_with_the_process_identity() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("children.log");
        let script = command_script(&log, None, 5);
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .env("TENURE_TASK", "t1")
            .env("TENURE_TOKEN", "3")
            .env("TENURE_ATTEMPT", "1")
            .env("TENURE_WORKER", "w1")
            .spawn()
            .unwrap();
        let started = crate::server_util::wait_until(std::time::Duration::from_secs(5), || {
            std::fs::read_to_string(&log).is_ok_and(|t| t.contains('\n'))
        });
        assert!(started.is_some(), "no start line");
        crate::server_util::send_signal(child.id(), "TERM");
        assert!(child.wait().unwrap().success());
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<Line> = text.lines().map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            (lines[0].kind.as_str(), lines[1].kind.as_str()),
            ("start", "exit")
        );
        assert_eq!(lines[0].key, lines[1].key);
        assert_eq!(lines[0].key.0, child.id());
        assert!(lines[0].at <= lines[1].at);
    }
}

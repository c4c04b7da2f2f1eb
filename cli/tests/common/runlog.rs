//! The file that supervised test commands append to, and the checks on
//! it: who ran the task when, and that no two runs overlapped.

use std::collections::BTreeMap;
use std::path::Path;

/// A `sh` script for `tenure worker`: appends `start`, then a `beat` every
/// 50 ms, then `stop` on SIGTERM, each with the fencing token, the time in
/// nanoseconds and the worker; the start line also names the shell's pid,
/// the pid of a background `sleep` it started, and the payload.
pub fn script(file: &Path) -> String {
    format!(
        r#"f='{}'; t=$TENURE_TOKEN; w=$TENURE_WORKER
sleep 600 & bg=$!
echo "start $t $(date +%s%N) $w $$ $bg $TENURE_PAYLOAD" >> "$f"
trap 'echo "stop $t $(date +%s%N) $w" >> "$f"; exit 0' TERM
while :; do echo "beat $t $(date +%s%N) $w" >> "$f"; sleep 0.05; done"#,
        file.display()
    )
}

/// One line of the file.
#[derive(Clone, Debug)]
pub struct Line {
    /// `start`, `beat` or `stop`.
    pub kind: String,
    /// The fencing token of the run.
    pub token: u64,
    /// When, in nanoseconds since the Unix epoch.
    pub at_ns: u128,
    /// The worker that ran it.
    pub worker: String,
    /// `start` only: the shell's pid, the background sleep's pid, the
    /// payload.
    pub rest: Vec<String>,
}

impl Line {
    /// The shell's pid (start lines).
    pub fn shell_pid(&self) -> u32 {
        self.rest[0].parse().unwrap()
    }

    /// The background sleep's pid (start lines).
    pub fn background_pid(&self) -> u32 {
        self.rest[1].parse().unwrap()
    }

    /// The payload (start lines).
    pub fn payload(&self) -> String {
        self.rest[2..].join(" ")
    }
}

/// Every complete line of the file.
#[derive(Debug)]
pub struct RunLog {
    /// The lines, in file order.
    pub lines: Vec<Line>,
}

impl RunLog {
    /// Reads `file` (an absent file is empty; a torn last line is skipped).
    pub fn read(file: &Path) -> RunLog {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines = text
            .lines()
            .filter_map(|l| {
                let mut fields = l.split(' ');
                let kind = fields.next()?.to_owned();
                let token = fields.next()?.parse().ok()?;
                let at_ns = fields.next()?.parse().ok()?;
                let worker = fields.next()?.to_owned();
                let rest: Vec<String> = fields.map(str::to_owned).collect();
                if kind == "start" && rest.len() < 2 {
                    return None;
                }
                Some(Line {
                    kind,
                    token,
                    at_ns,
                    worker,
                    rest,
                })
            })
            .collect();
        RunLog { lines }
    }

    /// The start lines.
    pub fn starts(&self) -> Vec<&Line> {
        self.lines.iter().filter(|l| l.kind == "start").collect()
    }

    /// The start line of the run with `token`.
    pub fn start_of(&self, token: u64) -> Option<&Line> {
        self.starts().into_iter().find(|l| l.token == token)
    }

    /// Whether the run with `token` wrote its stop line.
    pub fn stopped(&self, token: u64) -> bool {
        self.lines
            .iter()
            .any(|l| l.kind == "stop" && l.token == token)
    }

    /// Checks that runs never overlapped: ordered by token, every run's
    /// last line comes before the next run's first line, and every token
    /// starts once.
    pub fn check_no_overlap(&self) -> Result<(), String> {
        self.check_tokens_apart(false)
    }

    /// As [`RunLog::check_no_overlap`], but a token may start more than
    /// once: the command restarted under the same claim (its runs follow
    /// one another in one handler).
    pub fn check_no_overlap_with_restarts(&self) -> Result<(), String> {
        self.check_tokens_apart(true)
    }

    fn check_tokens_apart(&self, restarts: bool) -> Result<(), String> {
        let mut spans: BTreeMap<u64, (u128, u128, usize)> = BTreeMap::new();
        for l in &self.lines {
            let span = spans.entry(l.token).or_insert((l.at_ns, l.at_ns, 0));
            span.0 = span.0.min(l.at_ns);
            span.1 = span.1.max(l.at_ns);
            if l.kind == "start" {
                span.2 += 1;
            }
        }
        let mut previous: Option<(u64, u128)> = None;
        for (token, (first, last, starts)) in spans {
            if starts == 0 || (starts > 1 && !restarts) {
                return Err(format!("token {token} started {starts} times"));
            }
            if let Some((before, before_last)) = previous
                && before_last >= first
            {
                return Err(format!(
                    "run {before} still wrote {} ms after run {token} started",
                    (before_last - first) as f64 / 1e6
                ));
            }
            previous = Some((token, last));
        }
        Ok(())
    }
}

//! The memory of one `tenure worker` process in a large cluster: the
//! program users run, measured from `/proc` while it runs its share of the
//! tasks beside in-process workers.
//!
//! The cluster has the setup's tasks and workers; one of the workers is a
//! `tenure worker` process (the binary given with `--tenure`) running
//! `sleep` for every task it owns, each under its own `tenure __child`
//! shim. Once every task is owned and the process's share has stayed the
//! same for [`STEADY`], the process's resident set (now and at its peak)
//! and its shims' are read; then it gets SIGTERM and must exit within the
//! grace of a handoff.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tenure_core::WorkerId;
use tenure_tests::server_util::{send_signal, spawn_dying_with_binary};

use crate::cluster::{BenchCluster, text};
use crate::options::Setup;
use crate::servers::Server;

/// How long the process's share must stay the same before it is measured.
const STEADY: Duration = Duration::from_secs(2);

/// How often the ownership records are read while waiting.
const POLL: Duration = Duration::from_millis(500);

/// How long the process may take to exit after SIGTERM.
const EXIT_LIMIT: Duration = Duration::from_secs(60);

/// How often its exit is looked for after SIGTERM.
const POLL_EXIT: Duration = Duration::from_millis(20);

/// The name of the `tenure worker` process in the cluster.
const NAME: &str = "P";

/// The `tenure worker` process; killed (and reaped) when dropped unless
/// it has exited.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What one `tenure worker` process used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessMemory {
    /// Tasks it ran when measured.
    pub ran: usize,
    /// Its resident set, in KiB.
    pub rss_kib: u64,
    /// Its largest resident set so far, in KiB.
    pub peak_kib: u64,
    /// Its children: one shim per task it runs.
    pub shims: usize,
    /// The median resident set of one shim, in KiB.
    pub shim_rss_kib: u64,
    /// The median of one shim's pages no other process shares, in KiB.
    pub shim_private_kib: u64,
    /// From its start until every task was owned and its share steady.
    pub settled: Duration,
    /// From SIGTERM until it exited.
    pub exited: Duration,
}

/// Runs one `tenure worker` process (`tenure` is its binary) beside
/// `setup.workers - 1` in-process workers on a new cluster named `cluster`
/// and measures its memory; `None` for the memory server.
///
/// # Errors
/// When the process cannot start, the cluster does not settle in time, the
/// process does not exit after SIGTERM, store errors.
pub async fn measure(
    server: &Server,
    setup: Setup,
    cluster: &str,
    tenure: &Path,
) -> Result<Option<ProcessMemory>, String> {
    let Some(connect) = server.cli_args() else {
        return Ok(None);
    };
    let mut c = BenchCluster::create_for_cli(server, cluster, setup.tasks, setup.session).await?;
    let measured = run(&mut c, server, setup, cluster, tenure, connect).await;
    c.stop().await;
    measured.map(Some)
}

async fn run(
    c: &mut BenchCluster,
    server: &Server,
    setup: Setup,
    cluster: &str,
    tenure: &Path,
    connect: Vec<String>,
) -> Result<ProcessMemory, String> {
    let mut joining = Vec::new();
    for i in 1..setup.workers {
        joining.push(c.connect(server, &format!("W{i}")).await?);
    }
    let started = Instant::now();
    let mut command = Command::new(tenure);
    command
        .args(&connect)
        .args(["--cluster", cluster])
        .arg("--session-timeout")
        .arg(format!("{}ms", setup.session.as_millis()))
        .args(["worker", "--id", NAME, "--", "sleep", "100000"]);
    // Dies with this program, and is killed on every early return.
    let mut child = Worker(
        spawn_dying_with_binary(&command, |c| {
            c.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            Ok(())
        })
        .map_err(|e| format!("starting {}: {e}", tenure.display()))?,
    );
    let pid = child.0.id();
    for j in joining {
        c.start(j);
    }
    let ran = settle(c, setup, &mut child).await?;
    let settled = started.elapsed();
    let status = proc_status(pid)?;
    let shims: Vec<u32> = children_of(pid);
    let mut shim_rss = Vec::new();
    let mut shim_private = Vec::new();
    for &shim in &shims {
        if let Ok(s) = proc_status(shim) {
            shim_rss.push(s.get("VmRSS").copied().unwrap_or(0));
        }
        if let Some(private) = private_kib(shim) {
            shim_private.push(private);
        }
    }
    let term = Instant::now();
    send_signal(pid, "TERM");
    while child.0.try_wait().map_err(text)?.is_none() {
        if term.elapsed() > EXIT_LIMIT {
            return Err(format!(
                "the tenure process did not exit within {EXIT_LIMIT:?} of SIGTERM"
            ));
        }
        tokio::time::sleep(POLL_EXIT).await;
    }
    Ok(ProcessMemory {
        ran,
        rss_kib: status.get("VmRSS").copied().unwrap_or(0),
        peak_kib: status.get("VmHWM").copied().unwrap_or(0),
        shims: shims.len(),
        shim_rss_kib: median(shim_rss),
        shim_private_kib: median(shim_private),
        settled,
        exited: term.elapsed(),
    })
}

/// Waits until every task is owned and the process's share has stayed the
/// same for [`STEADY`]; returns that share.
async fn settle(c: &BenchCluster, setup: Setup, child: &mut Worker) -> Result<usize, String> {
    let name = WorkerId::new(NAME).map_err(text)?;
    let limit = setup.session * 2 + Duration::from_secs(60);
    let began = Instant::now();
    let mut last: Option<(usize, Instant)> = None;
    loop {
        if let Some(status) = child.0.try_wait().map_err(text)? {
            return Err(format!("the tenure process exited early: {status}"));
        }
        let owners = c.admin().owners().await.map_err(text)?;
        let mine = owners.values().filter(|o| o.worker == name).count();
        let share = setup.tasks / setup.workers;
        if owners.len() == setup.tasks && mine >= share {
            match last {
                Some((n, since)) if n == mine && since.elapsed() >= STEADY => return Ok(mine),
                Some((n, _)) if n == mine => {}
                _ => last = Some((mine, Instant::now())),
            }
        } else {
            last = None;
        }
        if began.elapsed() > limit {
            return Err(format!(
                "not settled within {limit:?}: {} of {} tasks owned, {mine} by the tenure process",
                owners.len(),
                setup.tasks
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The `kB` fields of `/proc/PID/status`.
fn proc_status(pid: u32) -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("reading /proc/{pid}/status: {e}"))?;
    Ok(kib_fields(&text))
}

/// `Name:   1234 kB` lines as name → KiB.
fn kib_fields(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let value = rest.trim().strip_suffix(" kB")?.trim().parse().ok()?;
            Some((name.to_owned(), value))
        })
        .collect()
}

/// The pages of `pid` no other process shares, in KiB
/// (`/proc/PID/smaps_rollup`).
fn private_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let fields = kib_fields(&text);
    Some(fields.get("Private_Clean")? + fields.get("Private_Dirty")?)
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let child: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let after = &stat[stat.rfind(')')? + 1..];
        let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == pid).then_some(child)
    })
    .collect()
}

/// The median of `values`; 0 if there are none.
fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_fields_reads_status_lines_and_skips_the_others() {
        let text = "Name:\tsleep\nVmHWM:\t    1234 kB\nVmRSS:\t  987 kB\nThreads:\t1\n";
        let fields = kib_fields(text);
        assert_eq!(fields.get("VmHWM"), Some(&1234));
        assert_eq!(fields.get("VmRSS"), Some(&987));
        assert_eq!(fields.len(), 2);
    }

    #[test]
    fn this_process_is_found_among_its_parent_s_children_and_has_a_resident_set() {
        let me = std::process::id();
        let parent = std::os::unix::process::parent_id();
        assert!(children_of(parent).contains(&me));
        let status = proc_status(me).unwrap();
        assert!(status.get("VmRSS").is_some_and(|&kib| kib > 0));
        assert!(private_kib(me).is_some_and(|kib| kib > 0));
    }

    #[test]
    fn median_of_nothing_is_zero() {
        assert_eq!(median(Vec::new()), 0);
        assert_eq!(median(vec![5, 1, 3]), 3);
    }
}

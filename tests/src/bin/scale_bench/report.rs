//! The benchmark's tables, in Markdown: times per phase, then requests per
//! phase, each cell the median over the runs with the range in brackets.

use std::fmt::Write as _;

use crate::counting::{Counts, Kind};
use crate::options::Setup;
use crate::phases::{Phase, Run};
use crate::process::ProcessMemory;
use crate::stats::Spread;

/// Every run of one backend at one size.
#[derive(Clone, Debug)]
pub struct Measured {
    /// The backend's name.
    pub backend: &'static str,
    /// Sizes and timing.
    pub setup: Setup,
    /// The runs.
    pub runs: Vec<Run>,
    /// The memory of one `tenure worker` process, if measured.
    pub process: Option<ProcessMemory>,
}

/// One phase of every run.
type PhaseOf = fn(&Run) -> &Phase;

/// The phases of a run, with their names in the tables.
const PHASES: [(&str, PhaseOf); 3] = [
    ("cold start", |r| &r.cold),
    ("takeover", |r| &r.takeover),
    ("handback", |r| &r.handback),
];

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The first cells of a row: `| backend | tasks | workers | session (ms) |`.
fn sizes(m: &Measured) -> String {
    let s = &m.setup;
    let session = s.session.as_millis();
    format!(
        "| {} | {} | {} | {session} |",
        m.backend, s.tasks, s.workers
    )
}

/// `median (min–max)` of `f` over the runs, `–` without runs.
fn cell(runs: &[Run], decimals: usize, f: impl Fn(&Run) -> Option<f64>) -> String {
    let samples: Vec<f64> = runs.iter().filter_map(f).collect();
    match Spread::of(&samples) {
        Some(s) => format!("{s:.decimals$}"),
        None => "–".to_owned(),
    }
}

/// Times in milliseconds: cold start, takeover (and how far beyond the
/// granted session timeout), the cut worker's handlers stopping, handback
/// and how many tasks it moved.
pub fn times_table(all: &[Measured]) -> String {
    let mut out = String::from(
        "| backend | tasks | workers | runs | session (ms) | cold start (ms) | takeover (ms) | takeover − session (ms) | cut worker's handlers stopped (ms) | handback (ms) | moved back |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in all {
        let runs = &m.runs;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            m.backend,
            m.setup.tasks,
            m.setup.workers,
            runs.len(),
            cell(runs, 0, |r| Some(ms(r.session))),
            cell(runs, 0, |r| Some(ms(r.cold.took))),
            cell(runs, 0, |r| Some(ms(r.takeover.took))),
            cell(runs, 0, |r| Some(ms(r.takeover.took) - ms(r.session))),
            cell(runs, 0, |r| Some(ms(r.victim_stopped))),
            cell(runs, 0, |r| Some(ms(r.handback.took))),
            cell(runs, 0, |r| Some(r.handback.moved as f64)),
        );
    }
    out
}

/// Requests of all workers per phase, the leader's share, its rounds, and
/// reads per moved task.
pub fn requests_table(all: &[Measured]) -> String {
    let mut out = String::from(
        "| backend | tasks | workers | session (ms) | phase | tasks started | requests | reads | writes + multis | leader rounds | leader: owner records read | leader: owner listings | reads per moved task | above idle |\n\
         |---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in all {
        for (name, phase) in PHASES {
            let runs = &m.runs;
            let count = |f: fn(&Phase) -> u64| cell(runs, 0, move |r| Some(f(phase(r)) as f64));
            let _ = writeln!(
                out,
                "{} {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                sizes(m),
                count(|p| p.starts as u64),
                count(|p| p.counts.total()),
                count(|p| p.counts.reads()),
                count(|p| p.counts.mutations()),
                count(|p| p.rounds.rounds),
                count(|p| p.leader.of(Kind::Get, "owners")),
                count(|p| p.leader.of(Kind::List, "owners")),
                cell(runs, 1, |r| phase(r).reads_per_move()),
                cell(runs, 1, |r| phase(r)
                    .reads_per_move_above(&r.idle, Counts::reads)),
            );
        }
    }
    out
}

/// The server's own figures next to tenure's, each cell the median over
/// the runs: the cold start against creating one ephemeral node per task
/// from one session per worker, the takeover against the server's deletion
/// of the cut session's node, and one versioned write.
pub fn server_table(all: &[Measured]) -> String {
    let mut out = String::from(
        "| backend | tasks | workers | session (ms) | server: ephemerals from every session (ms) | cold start ÷ that | server: deleted the cut session's node (ms) | takeover − that (ms) | server: versioned write p50 / p99 (ms) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in all {
        let runs = &m.runs;
        let _ = writeln!(
            out,
            "{} {} | {} | {} | {} | {} / {} |",
            sizes(m),
            cell(runs, 0, |r| Some(ms(r.baseline.ephemerals))),
            cell(runs, 2, |r| Some(
                r.cold.took.as_secs_f64() / r.baseline.ephemerals.as_secs_f64()
            )),
            cell(runs, 0, |r| Some(ms(r.server_deleted))),
            cell(runs, 0, |r| Some(
                ms(r.takeover.took) - ms(r.server_deleted)
            )),
            cell(runs, 2, |r| Some(ms(r.baseline.write_p50))),
            cell(runs, 2, |r| Some(ms(r.baseline.write_p99))),
        );
    }
    out
}

/// The folders of a cluster, as the request counts name them.
const FOLDERS: [&str; 8] = [
    "workers", "targets", "open", "owners", "epochs", "tasks", "leader", "-",
];

/// Reads per moved task on takeover and handback above what the idle
/// cluster reads in the same time, by the folder read (all workers
/// together, the leader included): what grows when the cluster grows shows
/// here.
pub fn folders_table(all: &[Measured]) -> String {
    let mut out = String::from("| phase | backend | tasks | workers | session (ms) |");
    for f in FOLDERS {
        let _ = write!(out, " {f}/ |");
    }
    out.push_str("\n|---|---|---:|---:|---:|");
    out.push_str(&"---:|".repeat(FOLDERS.len()));
    out.push('\n');
    for m in all {
        for (name, phase) in &PHASES[1..] {
            let _ = write!(
                out,
                "| {name} | {} | {} | {} | {} |",
                m.backend,
                m.setup.tasks,
                m.setup.workers,
                m.setup.session.as_millis()
            );
            for f in FOLDERS {
                let per_move = |r: &Run| {
                    let reads = |c: &Counts| c.of(Kind::Get, f) + c.of(Kind::List, f);
                    phase(r).reads_per_move_above(&r.idle, reads)
                };
                let _ = write!(out, " {} |", cell(&m.runs, 2, per_move));
            }
            out.push('\n');
        }
    }
    out
}

/// The leader's round times of phase `phase` over every run, in ms:
/// `median / max (rounds)`.
fn round_cell(runs: &[Run], phase: PhaseOf) -> String {
    let mut all: Vec<f64> = runs
        .iter()
        .flat_map(|r| phase(r).round_seconds.iter().map(|s| s * 1000.0))
        .collect();
    all.sort_by(f64::total_cmp);
    match (all.get(all.len() / 2), all.last()) {
        (Some(median), Some(max)) => format!("{median:.1} / {max:.1} ({})", all.len()),
        _ => "–".to_owned(),
    }
}

/// What the steady cluster costs besides time: this process's memory
/// growth per worker from before the workers connected until the cold
/// start was balanced, the leader's round times per phase, and
/// `Admin::status` of the whole cluster.
pub fn costs_table(all: &[Measured]) -> String {
    let mut out = String::from(
        "| backend | tasks | workers | session (ms) | memory per worker (MiB) | leader round, ms: median / max (rounds), cold start | idle | takeover | handback | status (ms) |\n\
         |---|---:|---:|---:|---:|---|---|---|---|---:|\n",
    );
    for m in all {
        let workers = m.setup.workers;
        let rss = cell(&m.runs, 2, |r| r.costs.rss_per_worker_mib(workers));
        let idle: PhaseOf = |r| &r.idle;
        let rounds = [PHASES[0].1, idle, PHASES[1].1, PHASES[2].1].map(|p| round_cell(&m.runs, p));
        let status = cell(&m.runs, 1, |r| {
            let mut took: Vec<f64> = r.costs.status.iter().map(|d| ms(*d)).collect();
            took.sort_by(f64::total_cmp);
            took.get(took.len() / 2).copied()
        });
        let _ = writeln!(
            out,
            "{} {rss} | {} | {status} |",
            sizes(m),
            rounds.join(" | ")
        );
    }
    out
}

/// The memory of one `tenure worker` process per backend and size.
pub fn process_table(all: &[Measured]) -> String {
    let mut out = String::from(
        "| backend | tasks | workers | session (ms) | tasks it ran | RSS (MiB) | peak RSS (MiB) | shims | shim RSS, median (MiB) | shim private, median (KiB) | settled (s) | exit after SIGTERM (s) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in all {
        let Some(p) = &m.process else { continue };
        let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
        let _ = writeln!(
            out,
            "{} {} | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
            sizes(m),
            p.ran,
            mib(p.rss_kib),
            mib(p.peak_kib),
            p.shims,
            mib(p.shim_rss_kib),
            p.shim_private_kib,
            p.settled.as_secs_f64(),
            p.exited.as_secs_f64(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::baseline::Baseline;

    fn run(takeover_ms: u64) -> Run {
        let mut takeover = Phase {
            round_seconds: vec![0.002, 0.004, 0.003],
            took: Duration::from_millis(takeover_ms),
            span: Duration::from_secs(2),
            moved: 4,
            ..Phase::default()
        };
        takeover.counts.add(Kind::Get, "owners", 40);
        // Idle for 4 s: 16 reads, so 8 in the takeover's 2 s.
        let mut idle = Phase {
            span: Duration::from_secs(4),
            ..Phase::default()
        };
        idle.counts.add(Kind::Get, "owners", 16);
        Run {
            session: Duration::from_secs(2),
            cold: Phase::default(),
            idle,
            takeover,
            server_deleted: Duration::from_millis(2000),
            baseline: Baseline {
                ephemerals: Duration::from_millis(10),
                ..Baseline::default()
            },
            victim_stopped: Duration::from_millis(1500),
            timeline: Default::default(),
            handback: Phase::default(),
            costs: crate::costs::Costs {
                rss_before_kib: 1024,
                rss_after_kib: 1024 + 4 * 2048,
                status: vec![
                    Duration::from_millis(30),
                    Duration::from_millis(10),
                    Duration::from_millis(20),
                ],
                status_tasks: 16,
            },
        }
    }

    #[test]
    fn tables_show_medians_ranges_and_reads_per_move() {
        let m = Measured {
            backend: "memory",
            setup: Setup {
                tasks: 16,
                workers: 4,
                session: Duration::from_secs(2),
                settle: Duration::from_secs(1),
            },
            runs: vec![run(2100), run(2050), run(2300)],
            process: Some(ProcessMemory {
                ran: 4,
                rss_kib: 10 * 1024,
                peak_kib: 12 * 1024,
                shims: 4,
                shim_rss_kib: 3 * 1024,
                shim_private_kib: 700,
                settled: Duration::from_millis(2500),
                exited: Duration::from_millis(300),
            }),
        };
        let process = process_table(std::slice::from_ref(&m));
        assert!(
            process.contains(
                "| memory | 16 | 4 | 2000 | 4 | 10.0 | 12.0 | 4 | 3.0 | 700 | 2.5 | 0.3 |"
            ),
            "{process}"
        );
        let times = times_table(std::slice::from_ref(&m));
        assert!(
            times.contains("| memory | 16 | 4 | 3 | 2000 | 0 | 2100 (2050–2300) | 100 (50–300) | 1500 | 0 | 0 |"),
            "{times}"
        );
        let requests = requests_table(std::slice::from_ref(&m));
        assert!(
            requests.contains(
                "| memory | 16 | 4 | 2000 | takeover | 0 | 40 | 40 | 0 | 0 | 0 | 0 | 10.0 | 8.0 |"
            ),
            "{requests}"
        );
        assert!(requests.contains("| cold start |") && requests.ends_with("| – |\n"));
        let server = server_table(std::slice::from_ref(&m));
        assert!(
            server.contains(
                "| memory | 16 | 4 | 2000 | 10 | 0.00 | 2000 | 100 (50–300) | 0.00 / 0.00 |"
            ),
            "{server}"
        );
        let costs = costs_table(std::slice::from_ref(&m));
        assert!(
            costs.contains("| memory | 16 | 4 | 2000 | 2.00 | – | – | 3.0 / 4.0 (9) | – | 20.0 |"),
            "{costs}"
        );
        let folders = folders_table(&[m]);
        assert!(
            folders.contains(
                "| takeover | memory | 16 | 4 | 2000 | 0.00 | 0.00 | 0.00 | 8.00 | 0.00 |"
            ),
            "{folders}"
        );
    }
}

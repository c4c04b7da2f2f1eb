//! The soak's summary: what ran, the faults applied, the worst stranded
//! time per kind of fault, and each failed check with its evidence.

use std::fmt::Write;
use std::time::Duration;

use super::driver::Outcome;
use super::options::SoakOptions;

/// The checks, in the order the summary lists them.
const CHECKS: [&str; 7] = [
    "overlap",
    "tokens",
    "stranded",
    "outlived",
    "after end",
    "paused",
    "problem",
];

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The command line that replays this soak's schedule.
pub fn replay(opts: &SoakOptions, seed: u64) -> String {
    format!(
        "soak --backend {} --members {} --workers {} --tasks {} --session-secs {} --duration-secs {} --faults {}{} --seed {seed}",
        opts.backend.name(),
        opts.members,
        opts.workers,
        opts.tasks,
        opts.session_secs,
        opts.duration_secs,
        opts.faults,
        if opts.setsid_helper {
            " --setsid-helper"
        } else {
            ""
        },
    )
}

/// The summary, as text.
pub fn summary(opts: &SoakOptions, outcome: &Outcome) -> String {
    let v = &outcome.verdict;
    let h = &outcome.history;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "soak on {} ({} member{}), {} workers, session {:?}, seed {}",
        opts.backend.name(),
        opts.members,
        if opts.members == 1 { "" } else { "s" },
        opts.workers,
        opts.session(),
        outcome.seed
    );
    let _ = writeln!(out, "replay: {}", replay(opts, outcome.seed));
    let total: usize = v.faults.values().sum();
    let _ = writeln!(
        out,
        "{:.1} s in all: {total} faults, {} runs (commands started)",
        outcome.took.as_secs_f64(),
        v.runs
    );
    let _ = writeln!(
        out,
        "fault kind          applied  worst stranded (bound {})",
        ms(h.stranded_bound())
    );
    for (kind, n) in &v.faults {
        let worst = v.worst_stranded.get(kind).copied().unwrap_or_default();
        let _ = writeln!(out, "  {:<18}{n:>6}  {}", kind.to_string(), ms(worst));
    }
    if let Some(after) = v.worst_after_kill {
        let _ = writeln!(
            out,
            "longest a child lived on after its worker's SIGKILL: {}{}",
            ms(after),
            match v.never_ended_after_kill {
                0 => String::new(),
                n => format!(" ({n} more never ended until the soak killed them)"),
            }
        );
    }
    let status: Vec<String> = CHECKS
        .iter()
        .map(|check| {
            let n = v.findings.iter().filter(|f| f.check == *check).count();
            if n == 0 {
                format!("{check} ok")
            } else {
                format!("{check} FAILED ({n})")
            }
        })
        .collect();
    let _ = writeln!(out, "checks: {}", status.join(", "));
    for check in CHECKS {
        for finding in v.findings.iter().filter(|f| f.check == check) {
            let _ = writeln!(out, "[{check}] {}", finding.message);
            for line in &finding.evidence {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let _ = writeln!(
        out,
        "{}",
        if v.passed() {
            "soak passed"
        } else {
            "soak FAILED"
        }
    );
    out
}

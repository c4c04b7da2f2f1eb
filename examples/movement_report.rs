//! How many running tasks each strategy moves when membership changes, next
//! to the least any strategy could move, written into BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release --example movement_report            # print and rewrite BENCHMARKS.md
//! cargo run --release --example movement_report -- --print # print only
//! ```
//!
//! Each strategy starts from its own settled placement of the "before"
//! membership and is run on the "after" membership with that placement as
//! the current assignment. A *move* is a task whose worker changes,
//! counting orphans of a departed worker. `Throttled(Sticky, 5)` is run
//! round after round until it settles; its column adds up every round (the
//! number of rounds in brackets).
//!
//! The *lower bound* is the least any strategy must move to reach loads
//! that are every worker's capacity share rounded down or up, starting from
//! a balanced cluster (Sticky's placement): every orphan, plus each
//! worker's excess over its quota for the best rounding of the quotas. For
//! the tagged scenarios, where every task needs exactly one tag and every
//! worker has exactly one, the bound is the sum over the tags. The program
//! fails if Sticky is not at the bound in every scenario.

use std::collections::BTreeSet;
use std::time::Duration;

use tenure::strategies::{AverageAllocation, ConsistentHash, Odevity, RoundRobin, Throttled};
use tenure::strategy::{Assignment, Sticky, Strategy, StrategyInput, TaskInfo, WorkerInfo};

const BEGIN: &str = "<!-- movement-report:begin -->";
const END: &str = "<!-- movement-report:end -->";
const CLUSTER: &str = "tenure";

/// A membership change (or several, one after the other) for a set of tasks.
struct Scenario {
    name: &'static str,
    tasks: Vec<TaskInfo>,
    /// The memberships, in order; moves are counted for each change.
    steps: Vec<Vec<WorkerInfo>>,
}

fn worker(i: usize, capacity: u32, tag: Option<&str>) -> WorkerInfo {
    WorkerInfo {
        id: format!("w{i:02}").parse().expect("valid name"),
        capacity: std::num::NonZeroU32::new(capacity).expect("at least 1"),
        tags: tag.map(str::to_owned).into_iter().collect(),
        age: Duration::from_secs(3600),
    }
}

fn tasks(n: usize, tag: impl Fn(usize) -> Option<&'static str>) -> Vec<TaskInfo> {
    (0..n)
        .map(|i| TaskInfo {
            id: format!("t{i:03}").parse().expect("valid name"),
            weight: std::num::NonZeroU32::MIN,
            tags: tag(i).map(str::to_owned).into_iter().collect(),
            pinned: None,
        })
        .collect()
}

fn equal(range: std::ops::Range<usize>) -> Vec<WorkerInfo> {
    range.map(|i| worker(i, 1, None)).collect()
}

/// Capacities 1, 2, 4, 1, 2, 4, … by index.
fn mixed(range: std::ops::Range<usize>) -> Vec<WorkerInfo> {
    range.map(|i| worker(i, [1, 2, 4][i % 3], None)).collect()
}

/// Workers 0..4 tagged `eu`, 4..10 tagged `us`.
fn regions(ids: &[usize]) -> Vec<WorkerInfo> {
    ids.iter()
        .map(|&i| worker(i, 1, Some(if i < 4 { "eu" } else { "us" })))
        .collect()
}

fn scenarios() -> Vec<Scenario> {
    let plain = || tasks(100, |_| None);
    let tagged = || tasks(100, |i| Some(if i < 40 { "eu" } else { "us" }));
    let all: Vec<usize> = (0..10).collect();
    let without =
        |gone: usize| -> Vec<usize> { all.iter().copied().filter(|&i| i != gone).collect() };
    let mut eleven = mixed(0..10);
    eleven.push(worker(10, 4, None));
    let mut mixed_minus_big = mixed(0..10);
    mixed_minus_big.remove(5);
    vec![
        Scenario {
            name: "100 tasks, 10 → 9 workers",
            tasks: plain(),
            steps: vec![equal(0..10), equal(0..9)],
        },
        Scenario {
            name: "100 tasks, 9 → 10 workers",
            tasks: plain(),
            steps: vec![equal(0..9), equal(0..10)],
        },
        Scenario {
            name: "100 tasks, 3 → 2 → 3 workers",
            tasks: plain(),
            steps: vec![equal(0..3), equal(0..2), equal(0..3)],
        },
        Scenario {
            name: "100 tasks, 10 → 11 workers, capacities 1/2/4 (+4)",
            tasks: plain(),
            steps: vec![mixed(0..10), eleven.clone()],
        },
        Scenario {
            name: "100 tasks, 11 → 10 workers, capacities 1/2/4 (−4)",
            tasks: plain(),
            steps: vec![eleven, mixed(0..10)],
        },
        Scenario {
            name: "100 tasks, 10 workers 1/2/4, one of capacity 4 leaves and returns",
            tasks: plain(),
            steps: vec![mixed(0..10), mixed_minus_big, mixed(0..10)],
        },
        Scenario {
            name: "tagged: 40 eu + 60 us tasks, 4 eu + 6 us workers, an eu worker leaves and returns",
            tasks: tagged(),
            steps: vec![regions(&all), regions(&without(1)), regions(&all)],
        },
        Scenario {
            name: "tagged: 40 eu + 60 us tasks, 4 eu + 6 us workers, a us worker leaves and returns",
            tasks: tagged(),
            steps: vec![regions(&all), regions(&without(7)), regions(&all)],
        },
    ]
}

fn strategies() -> Vec<(&'static str, Box<dyn Strategy>)> {
    vec![
        ("Sticky", Box::new(Sticky)),
        ("Throttled(Sticky, 5)", Box::new(Throttled::new(Sticky, 5))),
        ("ConsistentHash", Box::new(ConsistentHash::new(0))),
        ("RoundRobin", Box::new(RoundRobin::new(CLUSTER))),
        ("AverageAllocation", Box::new(AverageAllocation::new())),
        ("Odevity", Box::new(Odevity::new(CLUSTER))),
    ]
}

/// Tasks whose worker in `target` is not their valid worker in `current`.
fn moves(
    workers: &[WorkerInfo],
    tasks: &[TaskInfo],
    current: &Assignment,
    target: &Assignment,
) -> usize {
    tasks
        .iter()
        .filter(|t| {
            let valid = current
                .get(&t.id)
                .filter(|w| workers.iter().any(|x| x.id == **w && t.eligible(x)));
            target.get(&t.id).is_some_and(|w| valid != Some(w))
        })
        .count()
}

/// Runs `strategy` round after round until its target is what runs;
/// returns the settled assignment, the moves made and the rounds taken.
fn settle(
    strategy: &dyn Strategy,
    workers: &[WorkerInfo],
    tasks: &[TaskInfo],
    mut current: Assignment,
) -> (Assignment, usize, usize) {
    let (mut moved, mut rounds) = (0, 0);
    loop {
        let target = strategy.assign(&StrategyInput {
            workers,
            tasks,
            current: &current,
        });
        if target.placements == current {
            return (current, moved, rounds);
        }
        moved += moves(workers, tasks, &current, &target.placements);
        rounds += 1;
        current = target.placements;
        assert!(rounds < 1000, "{} does not settle", strategy.name());
    }
}

/// The lower bound for unit-weight tasks all eligible on all `workers`:
/// orphans plus the least total excess over floor/ceil quotas.
fn unit_bound(workers: &[WorkerInfo], tasks: &[TaskInfo], current: &Assignment) -> usize {
    if workers.is_empty() {
        return 0;
    }
    let total = tasks.len() as u64;
    let caps: u64 = workers.iter().map(|w| u64::from(w.capacity.get())).sum();
    let mut excess = 0u64;
    let mut reducible = 0u64;
    let mut floors = 0u64;
    let mut kept_total = 0u64;
    for w in workers {
        let kept = tasks
            .iter()
            .filter(|t| current.get(&t.id) == Some(&w.id))
            .count() as u64;
        let share = total * u64::from(w.capacity.get());
        let floor = share / caps;
        floors += floor;
        kept_total += kept;
        excess += kept.saturating_sub(floor);
        // Rounding this quota up saves one move if the worker is above its floor.
        if !share.is_multiple_of(caps) && kept > floor {
            reducible += 1;
        }
    }
    let orphans = total - kept_total;
    (orphans + excess - reducible.min(total - floors)) as usize
}

/// The lower bound, tag by tag (each task needs one tag, each worker has
/// one; untagged scenarios are one group).
fn lower_bound(workers: &[WorkerInfo], tasks: &[TaskInfo], current: &Assignment) -> usize {
    let groups: BTreeSet<BTreeSet<String>> = tasks.iter().map(|t| t.tags.clone()).collect();
    groups
        .iter()
        .map(|tags| {
            let ws: Vec<WorkerInfo> = workers
                .iter()
                .filter(|w| w.tags == *tags)
                .cloned()
                .collect();
            let ws = if tags.is_empty() {
                workers.to_vec()
            } else {
                ws
            };
            let ts: Vec<TaskInfo> = tasks.iter().filter(|t| t.tags == *tags).cloned().collect();
            unit_bound(&ws, &ts, current)
        })
        .sum()
}

struct Row {
    scenario: String,
    bound: usize,
    cells: Vec<String>,
}

fn run() -> Vec<Row> {
    let strategies = strategies();
    let mut rows = Vec::new();
    for scenario in scenarios() {
        let tasks = &scenario.tasks;
        let steps = &scenario.steps;
        let mut states: Vec<Assignment> = strategies
            .iter()
            .map(|(_, s)| settle(&**s, &steps[0], tasks, Assignment::new()).0)
            .collect();
        for (i, step) in steps.windows(2).enumerate() {
            let (before, after) = (&step[0], &step[1]);
            let label = if steps.len() > 2 {
                format!(
                    "{} (step {}: {} → {})",
                    scenario.name,
                    i + 1,
                    before.len(),
                    after.len()
                )
            } else {
                scenario.name.to_owned()
            };
            let bound = lower_bound(after, tasks, &states[0]);
            let mut cells = Vec::new();
            for (k, (name, s)) in strategies.iter().enumerate() {
                let (next, moved, rounds) = settle(&**s, after, tasks, states[k].clone());
                if *name == "Sticky" {
                    assert_eq!(moved, bound, "Sticky above the lower bound in {label}");
                    assert!(rounds <= 1, "Sticky took {rounds} rounds in {label}");
                }
                cells.push(if name.starts_with("Throttled") {
                    format!("{moved} ({rounds})")
                } else {
                    moved.to_string()
                });
                states[k] = next;
            }
            rows.push(Row {
                scenario: label,
                bound,
                cells,
            });
        }
    }
    rows
}

fn table(rows: &[Row]) -> String {
    let names: Vec<&str> = strategies().iter().map(|(n, _)| *n).collect();
    let mut out = format!("| scenario | lower bound | {} |\n", names.join(" | "));
    out += &format!("|---|---:|{}\n", "---:|".repeat(names.len()));
    for r in rows {
        out += &format!(
            "| {} | {} | {} |\n",
            r.scenario,
            r.bound,
            r.cells.join(" | ")
        );
    }
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn section(rows: &[Row]) -> String {
    format!(
        "{BEGIN}\n## Movement: tasks moved per membership change\n\n\
         Written by `cargo run --release --example movement_report` (on {}); \
         the counts are deterministic, so the machine does not change them. \
         Each strategy starts from its own settled placement; a move is a task \
         whose worker changes, orphans included. The lower bound is the least \
         any strategy must move to reach capacity-proportional balance \
         (orphans + excess over floor/ceil quotas, per tag in the tagged \
         scenarios); the program fails if Sticky is not at it. \
         `Throttled(Sticky, 5)` shows moves over all rounds (rounds in \
         brackets). ConsistentHash does not balance exactly and can move fewer \
         than the bound; the ElasticJob strategies (RoundRobin, \
         AverageAllocation, Odevity) ignore capacities and current \
         placements and recompute from scratch.\n\n{}{END}\n",
        machine(),
        table(rows)
    )
}

/// Replaces the section between the markers, or appends it.
fn rewrite(path: &std::path::Path, section: &str) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            let rest = old[e + END.len()..].trim_start_matches('\n');
            let gap = if rest.is_empty() { "" } else { "\n" };
            format!("{}{section}{gap}{rest}", &old[..b])
        }
        _ => format!(
            "{}\n{}",
            old.trim_end_matches('\n').to_owned() + "\n",
            section
        ),
    };
    std::fs::write(path, new)
}

fn main() -> std::io::Result<()> {
    let rows = run();
    let section = section(&rows);
    print!("{}", table(&rows));
    if !std::env::args().any(|a| a == "--print") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
        rewrite(&path, &section)?;
        println!("written to {}", path.display());
    }
    Ok(())
}

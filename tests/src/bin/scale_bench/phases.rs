//! One benchmark run on a fresh cluster: cold start, takeover after a
//! worker is cut off, handback when it returns; each phase timed by the
//! handlers' own history and its requests counted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::baseline::{self, Baseline};
use crate::cluster::{BenchCluster, Joining};
use crate::counting::Counts;
use crate::options::Setup;
use crate::placement::Placement;
use crate::rounds::Rounds;
use crate::servers::Server;
use tenure_tests::sim::history::Entry;

/// What one phase took and cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Phase {
    /// From the phase's start to its goal.
    pub took: Duration,
    /// From the phase's start until its requests stopped being counted.
    pub span: Duration,
    /// Tasks that run on another worker at the end than at the start.
    pub moved: usize,
    /// Handler starts during the phase.
    pub starts: usize,
    /// Requests of every worker, from the start to `settle` after the goal.
    pub counts: Counts,
    /// The part of `counts` the leader made.
    pub leader: Counts,
    /// Leader rounds meanwhile.
    pub rounds: Rounds,
}

impl Phase {
    /// Reads per moved task; `None` when nothing moved.
    pub fn reads_per_move(&self) -> Option<f64> {
        (self.moved > 0).then(|| self.counts.reads() as f64 / self.moved as f64)
    }

    /// Reads per moved task above what an idle cluster reads in the same
    /// time (heartbeats, periodic re-reads), counting only the reads
    /// `reads` picks; `None` when nothing moved.
    pub fn reads_per_move_above(
        &self,
        idle: &Phase,
        reads: impl Fn(&Counts) -> u64,
    ) -> Option<f64> {
        if self.moved == 0 || idle.span.is_zero() {
            return None;
        }
        let background =
            reads(&idle.counts) as f64 * self.span.as_secs_f64() / idle.span.as_secs_f64();
        Some((reads(&self.counts) as f64 - background) / self.moved as f64)
    }
}

/// Who ran what around one takeover and handback, on the history's clock
/// (ms since the cluster was created), for the timeline plot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Every handler start and stop of the run.
    pub entries: Vec<Entry>,
    /// When the worker was cut off.
    pub cut_ms: u64,
    /// When the server deleted its session's node.
    pub deleted_ms: u64,
    /// When it came back.
    pub returned_ms: u64,
    /// When the handback was balanced.
    pub end_ms: u64,
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The session timeout the server granted.
    pub session: Duration,
    /// From the first worker's start until every task runs, balanced.
    pub cold: Phase,
    /// A stretch of the balanced cluster with nothing changing.
    pub idle: Phase,
    /// From the cut until every task of the cut worker runs elsewhere.
    pub takeover: Phase,
    /// From the cut until the server deleted the cut session's ephemeral
    /// node (the worker's registration), as a watch of the admin saw it.
    pub server_deleted: Duration,
    /// What the server itself can do, measured just before.
    pub baseline: Baseline,
    /// Who ran what around the takeover and handback.
    pub timeline: Timeline,
    /// From the cut until the cut worker's last handler stopped.
    pub victim_stopped: Duration,
    /// From the return of the cut worker until balanced again.
    pub handback: Phase,
}

/// Counters at a phase's start.
struct Window {
    started: Instant,
    counts: BTreeMap<String, Counts>,
    rounds: Rounds,
    before: Placement,
}

impl Window {
    /// Opens the window of `phase` (logged at info level, target
    /// `scale_bench`, to line the runtime's own logs up with the phases).
    fn open(cluster: &BenchCluster, phase: &str) -> Result<Window, String> {
        tracing::info!(target: "scale_bench", phase, "phase starts");
        Ok(Window {
            counts: cluster.counts(),
            rounds: Rounds::now(),
            before: cluster.placement()?,
            started: Instant::now(),
        })
    }

    /// Waits `settle`, then closes the window on a phase that reached its
    /// goal after `took`.
    async fn close(
        self,
        cluster: &BenchCluster,
        took: Duration,
        settle: Duration,
    ) -> Result<Phase, String> {
        tracing::info!(target: "scale_bench", ?took, "goal reached");
        tokio::time::sleep(settle).await;
        let after = cluster.placement()?;
        let leader = cluster.leader().await;
        let zero = Counts::default();
        let mut counts = Counts::default();
        let mut by_leader = Counts::default();
        for (id, now) in cluster.counts() {
            let phase = &now - self.counts.get(&id).unwrap_or(&zero);
            if leader.as_deref() == Some(id.as_str()) {
                by_leader = phase.clone();
            }
            counts = [counts, phase].into_iter().sum();
        }
        let starts = cluster
            .entries_since(self.started)
            .iter()
            .filter(|e| matches!(e, Entry::Start { .. }))
            .count();
        Ok(Phase {
            took,
            span: self.started.elapsed(),
            moved: self.before.moved_to(&after),
            starts,
            counts,
            leader: by_leader,
            rounds: Rounds::now().since(self.rounds),
        })
    }
}

/// How long a phase may take before the run fails.
fn limit(setup: &Setup) -> Duration {
    setup.session * 2 + Duration::from_secs(30) + Duration::from_millis(20) * setup.tasks as u32
}

/// Runs the three phases once on a new cluster named `cluster`.
///
/// # Errors
/// A phase that did not reach its goal in time, a history that broke (two
/// runners of one task at once, a token that did not rise), store errors.
pub async fn run_once(server: &Server, setup: Setup, cluster: &str) -> Result<Run, String> {
    let baseline = baseline::measure(server, setup, &format!("{cluster}-baseline")).await?;
    let mut c = BenchCluster::create(server, cluster, setup.tasks, setup.session).await?;
    let result = phases(&mut c, server, setup).await;
    c.stop().await;
    result.map(|run| Run { baseline, ..run })
}

async fn phases(c: &mut BenchCluster, server: &Server, setup: Setup) -> Result<Run, String> {
    let all: Vec<String> = (0..setup.workers).map(|i| format!("W{i}")).collect();
    let mut joining = Vec::new();
    for id in &all {
        joining.push(c.connect(server, id).await?);
    }
    let session = joining
        .first()
        .map(|j| j.session_timeout())
        .ok_or("no workers")?;

    // Cold start: every worker joins at once.
    let cold = join_until_balanced(c, "cold start", joining, &all, &setup).await?;

    // Idle: what the balanced cluster reads with nothing changing, as long
    // as a takeover's window lasts.
    let window = Window::open(c, "idle")?;
    let quiet = session + setup.settle;
    tokio::time::sleep(quiet).await;
    let idle = window.close(c, quiet, Duration::ZERO).await?;

    // Takeover: a worker that does not lead is cut off.
    let leader = c.leader().await.ok_or("no leader after the cold start")?;
    let victim = all
        .iter()
        .rev()
        .find(|w| **w != leader)
        .ok_or("no worker besides the leader")?
        .clone();
    let survivors: Vec<String> = all.iter().filter(|w| **w != victim).cloned().collect();
    let orphans = c.placement()?.tasks_on(&victim);
    let registration = c.registration_watch(&victim).await?;
    let window = Window::open(c, "takeover")?;
    c.cut(&victim);
    let cut_at = Instant::now();
    let cut_ms = c.history_ms(cut_at);
    let deleted = tokio::spawn(async move {
        let _ = registration.await;
        cut_at.elapsed()
    });
    let took = c
        .wait_for(
            "the cut worker's tasks run elsewhere",
            window.started,
            limit(&setup),
            |p| {
                orphans
                    .iter()
                    .all(|t| p.runs.get(t).is_some_and(|w| w.as_str() != victim))
            },
        )
        .await?;
    let victim_stopped = c.last_stop_of(&victim, window.started).unwrap_or_default();
    let takeover = window.close(c, took, setup.settle).await?;
    let server_deleted = tokio::time::timeout(limit(&setup), deleted)
        .await
        .map_err(|_| "the cut worker's registration was never deleted")?
        .map_err(|e| e.to_string())?;
    c.wait_for("balanced without it", Instant::now(), limit(&setup), |p| {
        p.is_balanced(setup.tasks, &survivors)
    })
    .await?;

    // Handback: the cut worker comes back under its name with a new client.
    c.remove(&victim).await;
    let returning = c.connect(server, &victim).await?;
    let returned_ms = c.history_ms(Instant::now());
    let handback = join_until_balanced(c, "handback", vec![returning], &all, &setup).await?;
    c.check()?;
    let timeline = Timeline {
        entries: c.entries(),
        cut_ms,
        deleted_ms: cut_ms + server_deleted.as_millis() as u64,
        returned_ms,
        end_ms: returned_ms + handback.took.as_millis() as u64,
    };
    Ok(Run {
        session,
        cold,
        idle,
        takeover,
        server_deleted,
        baseline: Baseline::default(),
        timeline,
        victim_stopped,
        handback,
    })
}

/// Opens the window of `phase`, starts `joining`, and measures until every
/// task runs, balanced over `all`.
async fn join_until_balanced(
    c: &mut BenchCluster,
    phase: &str,
    joining: Vec<Joining>,
    all: &[String],
    setup: &Setup,
) -> Result<Phase, String> {
    let window = Window::open(c, phase)?;
    for j in joining {
        c.start(j);
    }
    let balanced = |p: &Placement| p.is_balanced(setup.tasks, all);
    let took = c
        .wait_for(phase, window.started, limit(setup), balanced)
        .await?;
    window.close(c, took, setup.settle).await
}

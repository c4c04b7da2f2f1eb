//! What a cluster of this size costs to keep, besides time: the leader's
//! round times (from the library's own `tenure_leader_round_seconds`
//! histogram, through a recorder of this process), the memory this process
//! grew by per worker, and how long `Admin::status` takes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};
use tenure_core::Admin;
use tenure_core::metrics::LEADER_ROUND;

/// Every leader round time recorded in this process, in seconds, in order.
static ROUND_SECONDS: Mutex<Vec<f64>> = Mutex::new(Vec::new());

/// The leader round histogram's sink.
struct RoundSink;

impl HistogramFn for RoundSink {
    fn record(&self, value: f64) {
        if let Ok(mut samples) = ROUND_SECONDS.lock() {
            samples.push(value);
        }
    }
}

/// A recorder that keeps the leader's round times and drops the rest.
struct RoundRecorder;

impl metrics::Recorder for RoundRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if key.name() == LEADER_ROUND {
            Histogram::from_arc(Arc::new(RoundSink))
        } else {
            Histogram::noop()
        }
    }
}

/// Installs the recorder of leader round times for this process.
///
/// # Errors
/// When another recorder is installed already.
pub fn install() -> Result<(), String> {
    metrics::set_global_recorder(RoundRecorder)
        .map_err(|_| "a metrics recorder is installed already".to_owned())
}

/// A position in the recorded round times; rounds since are
/// [`RoundMark::since`].
#[derive(Clone, Copy, Debug)]
pub struct RoundMark(usize);

impl RoundMark {
    /// Here.
    pub fn now() -> RoundMark {
        RoundMark(ROUND_SECONDS.lock().map_or(0, |s| s.len()))
    }

    /// The round times recorded since this mark, in seconds.
    pub fn since(self) -> Vec<f64> {
        ROUND_SECONDS
            .lock()
            .map(|s| s.get(self.0..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }
}

/// The resident memory of this process in KiB (`VmRSS`), 0 where `/proc`
/// does not say.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What the steady cluster costs besides time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Costs {
    /// This process's resident memory before the workers connected, KiB.
    pub rss_before_kib: u64,
    /// The same once every task ran, balanced, KiB.
    pub rss_after_kib: u64,
    /// `Admin::status` of the whole cluster, each of [`STATUS_CALLS`] calls.
    pub status: Vec<Duration>,
    /// Tasks the last `status` listed.
    pub status_tasks: usize,
}

/// How many times `status` is timed.
pub const STATUS_CALLS: usize = 3;

impl Costs {
    /// This process's growth per worker, in MiB, from before the workers
    /// connected until the cold start was balanced.
    pub fn rss_per_worker_mib(&self, workers: usize) -> Option<f64> {
        (workers > 0 && self.rss_after_kib > 0).then(|| {
            self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 / 1024.0 / workers as f64
        })
    }
}

/// Times `Admin::status` [`STATUS_CALLS`] times, one after another.
///
/// # Errors
/// A status that failed or took longer than `limit`.
pub async fn time_status(admin: &Admin, limit: Duration) -> Result<(Vec<Duration>, usize), String> {
    let mut took = Vec::with_capacity(STATUS_CALLS);
    let mut tasks = 0;
    for _ in 0..STATUS_CALLS {
        let start = Instant::now();
        let status = tokio::time::timeout(limit, admin.status())
            .await
            .map_err(|_| format!("status took longer than {limit:?}"))?
            .map_err(|e| format!("status: {e}"))?;
        took.push(start.elapsed());
        tasks = status.tasks.len();
    }
    Ok((took, tasks))
}

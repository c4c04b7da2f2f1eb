//! Counting the leader's rounds from the runtime's own log events, without
//! touching the runtime: a `tracing` layer that counts, process-wide, the
//! leader's `tasks refreshed` debug event (one per round, except the first
//! round after an election, which reads every task without it), its
//! `leading` event (one per election) and its `leader round failed` event.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Context;

/// Where the leader's events come from.
const LEADER_TARGET: &str = "tenure_core::runtime::leader";

static REFRESHED: AtomicU64 = AtomicU64::new(0);
static REFRESHED_FULL: AtomicU64 = AtomicU64::new(0);
static ELECTIONS: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// Leader activity counted so far; subtract two snapshots for a stretch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rounds {
    /// Rounds: `tasks refreshed` events plus elections.
    pub rounds: u64,
    /// Rounds that re-read every task (`Full` refreshes plus elections).
    pub full_task_reads: u64,
    /// Elections won.
    pub elections: u64,
    /// Rounds that failed and were retried.
    pub failed: u64,
}

impl Rounds {
    /// The counts so far in this process.
    pub fn now() -> Rounds {
        let elections = ELECTIONS.load(Ordering::Relaxed);
        Rounds {
            rounds: REFRESHED.load(Ordering::Relaxed) + elections,
            full_task_reads: REFRESHED_FULL.load(Ordering::Relaxed) + elections,
            elections,
            failed: FAILED.load(Ordering::Relaxed),
        }
    }

    /// What was counted after `earlier`.
    pub fn since(self, earlier: Rounds) -> Rounds {
        Rounds {
            rounds: self.rounds.saturating_sub(earlier.rounds),
            full_task_reads: self.full_task_reads.saturating_sub(earlier.full_task_reads),
            elections: self.elections.saturating_sub(earlier.elections),
            failed: self.failed.saturating_sub(earlier.failed),
        }
    }
}

/// The layer that counts; add it to the process's subscriber once. It
/// enables the leader's debug events for itself only.
pub fn layer<S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>>() -> impl Layer<S>
{
    RoundCounter.with_filter(Targets::new().with_target(LEADER_TARGET, Level::DEBUG))
}

struct RoundCounter;

impl<S: Subscriber> Layer<S> for RoundCounter {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        match fields.message.as_str() {
            "tasks refreshed" => {
                REFRESHED.fetch_add(1, Ordering::Relaxed);
                if fields.refresh == "Full" {
                    REFRESHED_FULL.fetch_add(1, Ordering::Relaxed);
                }
            }
            "leading" => {
                ELECTIONS.fetch_add(1, Ordering::Relaxed);
            }
            "leader round failed; retrying" => {
                FAILED.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The fields of one event this layer looks at.
#[derive(Default)]
struct Fields {
    message: String,
    refresh: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "refresh" => self.refresh = format!("{value:?}"),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        }
    }
}

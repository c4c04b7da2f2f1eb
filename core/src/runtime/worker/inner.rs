//! What a worker is made of: its member (shared with the leader), its
//! runner and session clock, and its run's state. Every part of the worker
//! takes this; it takes no part but the runner and the clock.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::runtime::health::{Health, Marks};
use crate::runtime::member::Member;
use crate::runtime::worker::clock::SessionClock;
use crate::runtime::worker::runner::{Exited, Runner};
use crate::strategy::Strategy;

/// The state of one worker, shared by its handles and its parts.
pub(crate) struct Inner {
    /// What the worker shares with the leader it campaigns for.
    pub member: Arc<Member>,
    pub capacity: NonZeroU32,
    pub tags: BTreeSet<String>,
    pub strategy: Arc<dyn Strategy>,
    pub runner: Runner,
    pub clock: Arc<SessionClock>,
    /// Requests a graceful shutdown.
    pub shutdown: CancellationToken,
    /// Requests an abrupt stop (a simulated crash).
    pub kill: CancellationToken,
    /// Whether the run has not begun, is under way, or is over.
    pub run_state: watch::Sender<RunState>,
    pub exits: Mutex<Option<mpsc::UnboundedReceiver<Exited>>>,
    /// The health as last published.
    pub health: watch::Sender<Health>,
    /// What the health needs that only events tell.
    pub health_marks: Mutex<Marks>,
}

/// Where a worker is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunState {
    /// `run` or `spawn` was never called.
    NotStarted,
    /// The run is under way.
    Running,
    /// The run is over.
    Finished,
}

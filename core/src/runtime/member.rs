//! What the worker and the leader both need: a member of a cluster.
//!
//! The worker owns a [`Member`] and hands it to the leader it campaigns
//! for; the leader takes nothing else from the worker (only the strategy),
//! so neither side can reach into the other's state.

use tokio::sync::broadcast;

use crate::ids::WorkerId;
use crate::runtime::events::WorkerEvent;
use crate::runtime::layout::Layout;
use crate::runtime::timing::Timing;
use crate::store::DynStore;

/// A member of a cluster: where it keeps its records, who it is, how fast
/// it acts, and where it tells what it does. Fixed for the worker's life.
pub(crate) struct Member {
    /// The coordination store.
    pub store: DynStore,
    /// The cluster's paths in the store.
    pub layout: Layout,
    /// The worker's name.
    pub id: WorkerId,
    /// The worker's timing.
    pub timing: Timing,
    /// Where the worker's events go.
    pub events: broadcast::Sender<WorkerEvent>,
}

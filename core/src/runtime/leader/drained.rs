//! Drained workers: the `drained` node under the cluster's root lists the
//! workers that take no tasks. Written by
//! [`Admin::drain_worker`](crate::Admin::drain_worker), read (and watched)
//! by the leader, which leaves a drained worker out of the strategy's input
//! and publishes it an empty target: it hands its tasks over, gracefully,
//! and keeps running.
//!
//! The marker is persistent, so it survives a leader change and the
//! worker's restart; it names the worker, not a session.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::error::Result;
use crate::ids::WorkerId;
use crate::runtime::layout::Layout;
use crate::runtime::records::Record;
use crate::store::{CoordinationStore, Path, Watch};

/// The `drained` node's record: the drained workers' names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrainedRecord {
    /// The workers that take no tasks.
    #[serde(default)]
    pub workers: BTreeSet<WorkerId>,
}

impl Record for DrainedRecord {
    const KIND: &'static str = "drained";

    fn empty() -> Option<Self> {
        Some(DrainedRecord::default())
    }
}

/// The path of the `drained` node of the cluster at `layout`.
///
/// # Errors
/// Never for a valid layout (its root leaves room for any child name).
pub(crate) fn path(layout: &Layout) -> Result<Path> {
    layout.root().child("drained")
}

/// The drained workers as the leader last read them, with a watch on the
/// node.
#[derive(Debug, Default)]
pub(super) struct Drained {
    /// The drained workers. A record that does not decode keeps the set
    /// last read (a warning says so): a typo by hand must not undo a
    /// drain.
    pub workers: BTreeSet<WorkerId>,
    /// Armed at the last read; `None` when a re-read is due.
    watch: Option<Watch>,
    /// Whether the node was read at least once since the last error.
    read: bool,
}

impl Drained {
    /// Whether the node must be read again.
    pub fn stale(&self) -> bool {
        !self.read || self.watch.is_none()
    }

    /// Forgets the watch (the next round re-reads the node).
    pub fn invalidate(&mut self) {
        self.watch = None;
    }

    /// Reads the node and watches it.
    pub async fn read(&mut self, store: &dyn CoordinationStore, layout: &Layout) -> Result<()> {
        let path = path(layout)?;
        let (node, watch) = store.get_and_watch(&path).await?;
        match node.map(|n| DrainedRecord::decode(&path, &n.data)) {
            None => self.workers.clear(),
            Some(Ok(record)) => self.workers = record.workers,
            Some(Err(e)) => warn!(error = %e, "drained workers unchanged"),
        }
        self.watch = Some(watch);
        self.read = true;
        Ok(())
    }

    /// Ready when the node changed since the last read.
    pub fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(w) = self.watch.as_mut() else {
            return Poll::Pending;
        };
        if Pin::new(w).poll(cx).is_ready() {
            self.watch = None;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

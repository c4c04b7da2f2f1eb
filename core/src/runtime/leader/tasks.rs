//! The leader's copy of the tasks, kept current by one watch on the `tasks`
//! folder node and by reading only the tasks that changed.
//!
//! Every admin change rewrites the folder node in the same multi as the
//! task, counting the change and naming the task ([`TasksRecord`]). When
//! the watch fires, the leader reads the folder node (re-arming the watch)
//! and then only the tasks named since the count it last saw; if the record
//! cannot prove which tasks changed (too many changes since, the count went
//! back, data an older admin wrote), it re-reads every task. The folder
//! node is always read before the tasks, so a change after that read fires
//! the new watch.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::warn;

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::layout::Layout;
use crate::runtime::records::{TaskRecord, TasksRecord, decode};
use crate::runtime::view::{self, Records};
use crate::store::{CoordinationStore, Node, Version, Watch};

/// The tasks as last read, and what proves them current.
pub(super) struct TaskView {
    pub records: Records<TaskId, TaskRecord>,
    /// The folder node's change count at the last read, if readable.
    changes: Option<u64>,
    /// The folder node's version at the last read.
    version: Version,
    /// The watch on the folder node; `None` once it fired.
    watch: Option<Watch>,
}

/// How a read went, for the request counts in tests and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refresh {
    /// Nothing was read: the watch has not fired.
    Current,
    /// Only the named tasks were read.
    Changed(usize),
    /// Every task was read.
    Full,
}

impl TaskView {
    /// Reads every task, arming the watch first.
    pub async fn read(store: &dyn CoordinationStore, layout: &Layout) -> Result<Self> {
        let (node, watch) = folder(store, layout).await?;
        let (records, _) = view::tasks(store, layout, false).await?;
        Ok(TaskView {
            records,
            changes: count(&node),
            version: node.version,
            watch: Some(watch),
        })
    }

    /// Polls the watch; `Ready` once it fired (the view is then stale
    /// until [`TaskView::refresh`]).
    pub fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.watch {
            None => Poll::Ready(()),
            Some(w) => match Pin::new(w).poll(cx) {
                Poll::Ready(_) => {
                    self.watch = None;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    /// Brings the view up to date if its watch fired.
    pub async fn refresh(
        &mut self,
        store: &dyn CoordinationStore,
        layout: &Layout,
    ) -> Result<Refresh> {
        if self.watch.is_some() {
            return Ok(Refresh::Current);
        }
        let (node, watch) = folder(store, layout).await?;
        let changes = count(&node);
        let named: Option<BTreeSet<TaskId>> = if node.version == self.version {
            Some(BTreeSet::new())
        } else {
            match (node_record(&node), self.changes) {
                (Some(record), Some(seen)) => record
                    .changed_since(seen)
                    .filter(|names| !names.is_empty())
                    .map(|names| names.iter().cloned().collect()),
                _ => None,
            }
        };
        let refresh = match named {
            Some(names) => {
                let n = names.len();
                self.read_named(store, layout, names).await?;
                Refresh::Changed(n)
            }
            None => {
                self.records = view::tasks(store, layout, false).await?.0;
                Refresh::Full
            }
        };
        self.changes = changes;
        self.version = node.version;
        self.watch = Some(watch);
        Ok(refresh)
    }

    async fn read_named(
        &mut self,
        store: &dyn CoordinationStore,
        layout: &Layout,
        names: BTreeSet<TaskId>,
    ) -> Result<()> {
        let reads = names.into_iter().map(|task| async move {
            let node = store.get(&layout.task(&task)).await?;
            Ok::<_, Error>((task, node))
        });
        for item in futures::future::join_all(reads).await {
            let (task, node) = item?;
            let record = node.and_then(|n| match decode::<TaskRecord>("task", &n.data) {
                Ok(r) => Some((r, n)),
                Err(e) => {
                    warn!(task = %task, error = %e, "skipping malformed record");
                    None
                }
            });
            match record {
                Some(r) => self.records.insert(task, r),
                None => self.records.remove(&task),
            };
        }
        Ok(())
    }
}

/// Reads the folder node and arms its watch.
async fn folder(store: &dyn CoordinationStore, layout: &Layout) -> Result<(Node, Watch)> {
    let (node, watch) = store.get_and_watch(layout.tasks()).await?;
    let node = node.ok_or_else(|| Error::NotFound {
        path: layout.tasks().to_string(),
    })?;
    Ok((node, watch))
}

fn node_record(node: &Node) -> Option<TasksRecord> {
    decode("tasks", &node.data).ok()
}

fn count(node: &Node) -> Option<u64> {
    node_record(node).map(|r| r.changes)
}

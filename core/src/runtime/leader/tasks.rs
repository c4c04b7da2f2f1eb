//! The leader's copy of the tasks, kept current by one watch on the `tasks`
//! folder node and by reading only the tasks that changed.
//!
//! Every admin change rewrites the folder node in the same multi as the
//! task, counting the change and naming the task ([`ChangeLog`]). When
//! the watch fires, the leader reads the folder node (re-arming the watch)
//! and then only the tasks named since the count it last saw; if the record
//! cannot prove which tasks changed (too many changes since, the count went
//! back, data an older admin wrote), it re-reads every task. The folder
//! node is always read before the tasks, so a change after that read fires
//! the new watch.
//!
//! A task record that does not decode is kept apart (`malformed`): the
//! leader cannot tell its weight, tags, pause state or payload, so it
//! makes no decision about that task until it decodes again. A change log
//! that does not decode is told too, and the tasks are read in full.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::StreamExt;

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::layout::Layout;
use crate::runtime::records::{ChangeLog, Record, TaskRecord};
use crate::runtime::view::{self, Records};
use crate::store::{CoordinationStore, Node, Version, Watch};

/// The tasks as last read, and what proves them current.
pub(super) struct TaskView {
    pub records: Records<TaskId, TaskRecord>,
    /// The tasks whose record does not decode.
    pub malformed: BTreeMap<TaskId, Error>,
    /// The change log's error, when it does not decode.
    pub log: Option<Error>,
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
        let listing = view::tasks(store, layout).await?;
        let log = node_record(layout, &node).err();
        Ok(TaskView {
            records: listing.records,
            malformed: listing.malformed,
            log,
            changes: count(layout, &node),
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
        let changes = count(layout, &node);
        let record = node_record(layout, &node);
        let named: Option<BTreeSet<TaskId>> = if node.version == self.version {
            Some(BTreeSet::new())
        } else {
            match (&record, self.changes) {
                (Ok(record), Some(seen)) => record
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
                let listing = view::tasks(store, layout).await?;
                self.records = listing.records;
                self.malformed = listing.malformed;
                Refresh::Full
            }
        };
        self.log = record.err();
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
            let path = layout.task(&task);
            let node = store.get(&path).await?;
            Ok::<_, Error>((task, path, node))
        });
        let answers: Vec<_> = futures::stream::iter(reads)
            .buffer_unordered(crate::runtime::view::READS_IN_FLIGHT)
            .collect()
            .await;
        for item in answers {
            let (task, path, node) = item?;
            self.records.remove(&task);
            self.malformed.remove(&task);
            let Some(node) = node else { continue };
            match TaskRecord::decode(&path, &node.data) {
                Ok(record) => {
                    self.records.insert(task, (record, node));
                }
                Err(e) => {
                    self.malformed.insert(task, e);
                }
            }
        }
        Ok(())
    }
}

/// Reads the folder node and arms its watch.
async fn folder(store: &dyn CoordinationStore, layout: &Layout) -> Result<(Node, Watch)> {
    let (node, watch) = store.get_and_watch(layout.tasks()).await?;
    let node = node.ok_or_else(|| Error::NotFound {
        path: layout.tasks().clone(),
    })?;
    Ok((node, watch))
}

/// The change log, empty for none yet (then the tasks are read in full).
fn node_record(layout: &Layout, node: &Node) -> Result<ChangeLog> {
    ChangeLog::decode(layout.tasks(), &node.data)
}

fn count(layout: &Layout, node: &Node) -> Option<u64> {
    node_record(layout, node)
        .ok()
        .filter(|_| !node.data.is_empty())
        .map(|r| r.changes)
}

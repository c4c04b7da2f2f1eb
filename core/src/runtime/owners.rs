//! A copy of the ownership records, kept current by reading only the
//! records that changed: the leader's input, and what the ownership event
//! stream compares.
//!
//! Every claim, release and expiry changes the `owners` folder, so a
//! leader that re-read every record on each change would read
//! O(tasks) records per moved task. Instead it watches the folder's
//! children (for records created and deleted) and each record it knows
//! (for records changed, deleted, or deleted and created again by another
//! worker between two listings, which a listing alone cannot tell). When
//! the folder fires it lists the names (one request) and reads only the
//! new ones; when a record's watch fires it reads that record. Each read
//! re-arms the watch it answers for, with no gap between read and watch.
//! The records are read 128 per request where the backend can
//! ([`get_many_and_watch`](CoordinationStore::get_many_and_watch)).
//! Watches: one per ownership record, held by the leader (and by an
//! observer following the ownership events), never by the other workers.
//!
//! A record that does not decode is kept apart (`malformed`): its task is
//! held by someone, but by whom is unknown, and the caller decides what
//! that means for it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::StreamExt;

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::layout::Layout;
use crate::runtime::records::{OwnerRecord, Record};
use crate::runtime::view::Records;
use crate::store::{CoordinationStore, Node, Path, Watch};

/// Ownership records read (and watched) per request.
const PER_REQUEST: usize = 128;

/// The ownership records as last read, and the watches that prove them
/// current.
pub(crate) struct OwnerView {
    pub records: Records<TaskId, OwnerRecord>,
    /// The tasks whose ownership record does not decode.
    pub malformed: BTreeMap<TaskId, Error>,
    /// The children watch on the folder; `None` once it fired.
    folder: Option<Watch>,
    /// A watch per record read (also for records that were missing when
    /// read: it fires when one is created).
    nodes: BTreeMap<TaskId, Watch>,
    /// Records whose watch fired since the last refresh.
    stale: BTreeSet<TaskId>,
}

impl OwnerView {
    /// Reads every record, arming every watch.
    pub async fn read(store: &dyn CoordinationStore, layout: &Layout) -> Result<Self> {
        let mut view = OwnerView {
            records: BTreeMap::new(),
            malformed: BTreeMap::new(),
            folder: None,
            nodes: BTreeMap::new(),
            stale: BTreeSet::new(),
        };
        view.refresh(store, layout).await?;
        Ok(view)
    }

    /// Polls the watches; `Ready` once one fired (the view is then stale
    /// until [`OwnerView::refresh`]).
    pub fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut fired = !self.stale.is_empty();
        match &mut self.folder {
            None => fired = true,
            Some(w) => {
                if Pin::new(w).poll(cx).is_ready() {
                    self.folder = None;
                    fired = true;
                }
            }
        }
        let stale = &mut self.stale;
        self.nodes.retain(|task, w| {
            if Pin::new(w).poll(cx).is_ready() {
                stale.insert(task.clone());
                false
            } else {
                true
            }
        });
        if fired || !self.stale.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Has `tasks`' records read again at the next refresh, whether or not
    /// their watch fired (for a caller that must see them at least as new
    /// as something it read just before).
    pub fn reread(&mut self, tasks: impl IntoIterator<Item = TaskId>) {
        self.stale.extend(tasks);
    }

    /// Brings the view up to date: lists the folder if its watch fired,
    /// then reads every record that is new or whose watch fired. Returns
    /// how many records were read.
    pub async fn refresh(
        &mut self,
        store: &dyn CoordinationStore,
        layout: &Layout,
    ) -> Result<usize> {
        if self.folder.is_none() {
            let (names, watch) = store.children_and_watch(layout.owners()).await?;
            let listed: BTreeSet<TaskId> = names.into_iter().map(TaskId::from).collect();
            // Gone from the folder: forget (a watch still armed on it would
            // fire on a new record, which the folder reports anyway).
            self.records.retain(|t, _| listed.contains(t));
            self.malformed.retain(|t, _| listed.contains(t));
            self.nodes.retain(|t, _| listed.contains(t));
            self.stale.retain(|t| listed.contains(t));
            for task in listed {
                if !self.nodes.contains_key(&task) {
                    self.stale.insert(task);
                }
            }
            self.folder = Some(watch);
        }
        let stale: Vec<TaskId> = std::mem::take(&mut self.stale).into_iter().collect();
        let n = stale.len();
        // 128 records per request where the backend can (etcd: one
        // transaction, the watches on its stream; elsewhere one read and
        // watch each), the same 256 records in flight at most.
        let reads = stale
            .chunks(PER_REQUEST)
            .map(<[TaskId]>::to_vec)
            .map(|tasks| async move {
                let paths: Vec<Path> = tasks.iter().map(|t| layout.owner(t)).collect();
                let answer = store.get_many_and_watch(&paths).await;
                (tasks, answer)
            });
        let mut failed = None;
        let answers: Vec<_> = futures::stream::iter(reads)
            .buffer_unordered(crate::runtime::view::READS_IN_FLIGHT / PER_REQUEST)
            .collect()
            .await;
        for (tasks, answer) in answers {
            match answer {
                Ok(read) => {
                    for (task, (node, watch)) in tasks.into_iter().zip(read) {
                        self.nodes.insert(task.clone(), watch);
                        self.update(layout, task, node);
                    }
                }
                Err(e) => {
                    // Read again next time.
                    self.stale.extend(tasks);
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    fn update(&mut self, layout: &Layout, task: TaskId, node: Option<Node>) {
        self.records.remove(&task);
        self.malformed.remove(&task);
        let Some(node) = node else { return };
        match OwnerRecord::decode(&layout.owner(&task), &node.data) {
            Ok(record) => {
                self.records.insert(task, (record, node));
            }
            Err(e) => {
                self.malformed.insert(task, e);
            }
        }
    }
}

//! Reading a cluster's state: the leader's inputs and the admin's listings.

use std::collections::BTreeMap;

use futures::StreamExt;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::runtime::layout::Layout;
use crate::runtime::records::{OwnerRecord, Record, TargetRecord, TaskRecord, WorkerRecord};
use crate::store::{CoordinationStore, Name, Node, Path, Watch};

/// The decoded children of one folder, with their nodes.
pub(crate) type Records<K, T> = BTreeMap<K, (T, Node)>;

/// One folder's children as read: the records that decode, the children
/// whose record does not (each with its [`Error::MalformedRecord`]), and
/// the children watch if one was armed.
pub(crate) struct Listing<K, T> {
    pub records: Records<K, T>,
    pub malformed: BTreeMap<K, Error>,
    pub watch: Option<Watch>,
    /// When the listing's answer came: with its watch still armed, the
    /// children have been as listed since at least then.
    pub listed_at: Instant,
}

impl<K, T> Listing<K, T> {
    /// Every record, or the error of the first one that does not decode,
    /// for a caller that cannot go on without all of them.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] naming the node.
    pub fn complete(self) -> Result<Records<K, T>> {
        match self.malformed.into_values().next() {
            Some(e) => Err(e),
            None => Ok(self.records),
        }
    }
}

/// How many reads a bulk read (every child of a folder, every record that
/// changed) keeps in flight. Sent all at once, 10,000 reads queue in front
/// of every other client's requests: on etcd 3.4 the workers' lease
/// keep-alives waited over two seconds behind one `status` at 10,000
/// tasks, and every worker's session was put at risk at once.
pub(crate) const READS_IN_FLIGHT: usize = 256;

/// How many children one read asks for ([`get_many`]), by the largest
/// size their records may have; [`READS_IN_FLIGHT`] records are in flight
/// at most either way, so the memory a bulk read may hold is the same.
///
/// [`get_many`]: CoordinationStore::get_many
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// 128 per request (etcd's default `--max-txn-ops`; ZooKeeper's
    /// `multiRead` of 128 ownership records or registrations is a few tens
    /// of kilobytes): records known to be small. At 10,000 tasks, 79
    /// requests instead of 10,000.
    Small,
    /// 16 per request: records that may be as large as the backend allows
    /// (tasks with their payloads, targets with their plans); an answer
    /// holds 16 MiB at most on ZooKeeper, 24 MiB on etcd. At 10,000 tasks,
    /// 625 requests instead of 10,000.
    Large,
}

impl Reads {
    /// Children per request.
    fn per_request(self) -> usize {
        match self {
            Reads::Small => 128,
            Reads::Large => 16,
        }
    }
}

/// Lists `parent`'s children and reads each one as `reads` says; children
/// deleted between the listing and the read are skipped. With `watch`,
/// also arms a children watch on `parent`.
pub(crate) async fn read_children<K, T>(
    store: &dyn CoordinationStore,
    parent: &Path,
    watch: bool,
    reads: Reads,
) -> Result<Listing<K, T>>
where
    K: From<Name> + Ord,
    T: Record,
{
    let (names, watch) = if watch {
        let (names, w) = store.children_and_watch(parent).await?;
        (names, Some(w))
    } else {
        (store.children(parent).await?, None)
    };
    let listed_at = Instant::now();
    let paths: Vec<Path> = names
        .iter()
        .map(|name| parent.join(name))
        .collect::<Result<_>>()?;
    let per_request = reads.per_request();
    let gets = paths
        .chunks(per_request)
        .map(<[Path]>::to_vec)
        .enumerate()
        .map(|(i, chunk)| async move { (i, store.get_many(&chunk).await) });
    // Unordered, so one slow answer holds no other read back.
    let mut answers: Vec<(usize, Result<Vec<Option<Node>>>)> = futures::stream::iter(gets)
        .buffer_unordered((READS_IN_FLIGHT / per_request).max(1))
        .collect()
        .await;
    answers.sort_unstable_by_key(|(i, _)| *i);
    let mut nodes = Vec::with_capacity(paths.len());
    for (_, chunk) in answers {
        nodes.extend(chunk?);
    }
    let mut listing = Listing {
        records: BTreeMap::new(),
        malformed: BTreeMap::new(),
        watch,
        listed_at,
    };
    for ((name, path), node) in names.into_iter().zip(&paths).zip(nodes) {
        let Some(node) = node else { continue };
        match T::decode(path, &node.data) {
            Ok(record) => {
                listing.records.insert(K::from(name), (record, node));
            }
            Err(e) => {
                listing.malformed.insert(K::from(name), e);
            }
        }
    }
    Ok(listing)
}

/// The live workers.
pub(crate) async fn workers(
    store: &dyn CoordinationStore,
    layout: &Layout,
    watch: bool,
) -> Result<Listing<WorkerId, WorkerRecord>> {
    read_children(store, layout.workers(), watch, Reads::Small).await
}

/// Every task.
pub(crate) async fn tasks(
    store: &dyn CoordinationStore,
    layout: &Layout,
) -> Result<Listing<TaskId, TaskRecord>> {
    read_children(store, layout.tasks(), false, Reads::Large).await
}

/// Every ownership record.
pub(crate) async fn owners(
    store: &dyn CoordinationStore,
    layout: &Layout,
) -> Result<Listing<TaskId, OwnerRecord>> {
    read_children(store, layout.owners(), false, Reads::Small).await
}

/// Every published target.
pub(crate) async fn targets(
    store: &dyn CoordinationStore,
    layout: &Layout,
) -> Result<Listing<WorkerId, TargetRecord>> {
    read_children(store, layout.targets(), false, Reads::Large).await
}

//! Reading a cluster's state: the leader's inputs and the admin's listings.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use tracing::warn;

use crate::error::{Error, Result};
use crate::runtime::layout::Layout;
use crate::runtime::records::{OwnerRecord, TargetRecord, TaskRecord, WorkerRecord, decode};
use crate::store::{CoordinationStore, Name, Node, Path, Watch};

/// The decoded children of one folder, with their nodes' versions.
pub(crate) type Records<K, T> = BTreeMap<K, (T, Node)>;

/// Lists `parent`'s children and reads each one; children deleted between
/// the listing and the read are skipped, malformed records are logged and
/// skipped. With `watch`, also arms a children watch on `parent`.
pub(crate) async fn read_children<K, T>(
    store: &dyn CoordinationStore,
    parent: &Path,
    what: &str,
    watch: bool,
) -> Result<(Records<K, T>, Option<Watch>)>
where
    K: From<Name> + Ord,
    T: DeserializeOwned,
{
    let (names, watch) = if watch {
        let (names, w) = store.children_and_watch(parent).await?;
        (names, Some(w))
    } else {
        (store.children(parent).await?, None)
    };
    let reads = names.into_iter().map(|name| async move {
        let path = parent.join(&name)?;
        Ok::<_, Error>((name, store.get(&path).await?))
    });
    let mut out = BTreeMap::new();
    for item in futures::future::join_all(reads).await {
        let (name, node) = item?;
        let Some(node) = node else { continue };
        match decode::<T>(what, &node.data) {
            Ok(record) => {
                out.insert(K::from(name), (record, node));
            }
            Err(e) => warn!(node = %parent, child = %name, error = %e, "skipping malformed record"),
        }
    }
    Ok((out, watch))
}

/// The live workers.
pub(crate) async fn workers(
    store: &dyn CoordinationStore,
    layout: &Layout,
    watch: bool,
) -> Result<(Records<crate::ids::WorkerId, WorkerRecord>, Option<Watch>)> {
    read_children(store, layout.workers(), "worker", watch).await
}

/// Every task.
pub(crate) async fn tasks(
    store: &dyn CoordinationStore,
    layout: &Layout,
    watch: bool,
) -> Result<(Records<crate::ids::TaskId, TaskRecord>, Option<Watch>)> {
    read_children(store, layout.tasks(), "task", watch).await
}

/// Every ownership record.
pub(crate) async fn owners(
    store: &dyn CoordinationStore,
    layout: &Layout,
    watch: bool,
) -> Result<(Records<crate::ids::TaskId, OwnerRecord>, Option<Watch>)> {
    read_children(store, layout.owners(), "ownership", watch).await
}

/// Every published target.
pub(crate) async fn targets(
    store: &dyn CoordinationStore,
    layout: &Layout,
) -> Result<Records<crate::ids::WorkerId, TargetRecord>> {
    Ok(read_children(store, layout.targets(), "target", false)
        .await?
        .0)
}

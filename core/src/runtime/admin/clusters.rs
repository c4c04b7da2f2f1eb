//! The clusters of a store: listing them, and removing one that no worker
//! is registered in.
//!
//! # How a removal stays safe
//!
//! Nothing outside the cluster's subtree (`/tenure/<cluster>`) is read or
//! written, and no ephemeral node is deleted: those belong to live
//! sessions (a worker's registration, its ownership records, the
//! leader's node), and any of them means the cluster is in use. The
//! removal first deletes the `workers` folder, which every backend refuses
//! ([`Error::NotEmpty`]) while a worker is registered: that delete is the
//! gate, checked and done in one step by the server, so no worker can
//! slip in between a check and the removal. With the folder gone, a
//! registration fails (its create has no parent) until the folders are
//! made again. Then the removal refuses if a leader or an ownership record
//! is there, and deletes the rest in this order: the tasks (so that a
//! removal cut short never leaves a task whose fencing counter is gone),
//! the other folders, the fencing counters (`epochs`), then the root. The
//! `workers` and `owners` folders are deleted only empty, never walked
//! into, and the `leader` node is never deleted: one that appears makes
//! the root's delete fail, and the next look refuses.
//!
//! What happens to a worker that starts during a removal is told on
//! [`Admin::remove_cluster`].

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::runtime::admin::Admin;
use crate::runtime::layout::{Layout, NAMESPACE};
use crate::runtime::records::{LeaderRecord, OwnerRecord, Record};
use crate::store::{CoordinationStore, Path};

/// How many times a removal starts again when something was created in
/// the cluster while it ran (each time re-checking the workers).
const REMOVAL_ROUNDS: usize = 8;

/// How many deletes a removal has in flight at once.
const IN_FLIGHT: usize = 32;

impl Admin {
    /// The names of the clusters in `store` (the children of `/tenure`),
    /// sorted. Writes nothing, so it works with read-only credentials; a
    /// store without any cluster gives an empty list.
    ///
    /// # Errors
    /// Store errors.
    pub async fn clusters(store: &dyn CoordinationStore) -> Result<Vec<String>> {
        let namespace = Path::new(NAMESPACE)?;
        let mut clusters: Vec<String> = names(store, &namespace)
            .await?
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect();
        clusters.sort();
        Ok(clusters)
    }

    /// Removes `cluster` from `store`: its tasks, fencing counters
    /// (`epochs`), targets, drain marks and every other node under
    /// `/tenure/<cluster>`, refusing while any worker is registered in it
    /// (or a leader or a task owner's session is still alive there).
    /// Nothing outside that subtree is touched, and no node of a live
    /// session is deleted: the first step deletes the `workers` folder,
    /// which the store refuses while it holds a registration (checked and
    /// done in one step by the server).
    ///
    /// A worker that starts while the removal runs creates the cluster's
    /// folders again (starting a worker does, and so does a registration
    /// that finds them gone) and registers in them. The removal then finds
    /// a folder it deletes not empty, looks again, and refuses with
    /// [`Error::ClusterInUse`] naming that worker: what it had removed by
    /// then stays removed (tasks go first, fencing counters last, so a
    /// task never outlives its counter), and the worker runs in an empty
    /// cluster. A change made through another [`Admin`] while the removal
    /// runs (a task added) may be removed with the rest.
    ///
    /// A cluster added again later under the same name starts its fencing
    /// tokens at 1 again: reset whatever outside storage checks them.
    ///
    /// # Errors
    /// [`Error::ClusterInUse`] naming the registered workers (or those
    /// whose leader node or ownership records are still there);
    /// [`Error::UnknownCluster`] if there is no such cluster;
    /// [`Error::InvalidName`] for a bad cluster name; [`Error::NotEmpty`]
    /// if nodes kept being created in the cluster while it was removed;
    /// store errors.
    pub async fn remove_cluster(store: &dyn CoordinationStore, cluster: &str) -> Result<()> {
        let layout = Layout::new(cluster)?;
        if store.get(layout.root()).await?.is_none() {
            return Err(Error::UnknownCluster {
                path: layout.root().clone(),
            });
        }
        let mut last = None;
        for _ in 0..REMOVAL_ROUNDS {
            refuse_in_use(store, &layout, cluster).await?;
            match remove_once(store, &layout, cluster).await {
                Err(e @ Error::NotEmpty { .. }) => last = Some(e), // look again
                other => return other,
            }
        }
        refuse_in_use(store, &layout, cluster).await?;
        Err(last.unwrap_or_else(|| Error::NotEmpty {
            path: layout.root().clone(),
        }))
    }
}

/// [`Error::ClusterInUse`] if any worker is registered in the cluster.
async fn refuse_in_use(
    store: &dyn CoordinationStore,
    layout: &Layout,
    cluster: &str,
) -> Result<()> {
    let workers = names(store, layout.workers()).await?;
    in_use(cluster, workers.iter().map(|n| n.as_str().to_owned()))
}

/// [`Error::ClusterInUse`] if a leader or an ownership record (ephemeral
/// nodes of live sessions) is in the cluster, naming their workers.
async fn refuse_live(store: &dyn CoordinationStore, layout: &Layout, cluster: &str) -> Result<()> {
    let mut workers = Vec::new();
    if let Some(node) = store.get(layout.leader()).await? {
        workers.push(worker_of::<LeaderRecord>(
            layout.leader(),
            &node.data,
            |r| r.worker,
        ));
    }
    for task in names(store, layout.owners()).await? {
        let path = layout.owners().join(&task)?;
        if let Some(node) = store.get(&path).await? {
            workers.push(worker_of::<OwnerRecord>(&path, &node.data, |r| r.worker));
        }
    }
    in_use(cluster, workers)
}

/// The worker a record names, or the node's path if it does not decode.
fn worker_of<R: Record>(
    path: &Path,
    data: &[u8],
    worker: impl Fn(R) -> crate::ids::WorkerId,
) -> String {
    R::decode(path, data).map_or_else(|_| path.to_string(), |r| worker(r).to_string())
}

fn in_use(cluster: &str, workers: impl IntoIterator<Item = String>) -> Result<()> {
    let mut workers: Vec<String> = workers.into_iter().collect();
    if workers.is_empty() {
        return Ok(());
    }
    workers.sort();
    workers.dedup();
    Err(Error::ClusterInUse {
        cluster: cluster.to_owned(),
        workers,
    })
}

/// The children of `path`; none if it does not exist.
async fn names(store: &dyn CoordinationStore, path: &Path) -> Result<Vec<crate::store::Name>> {
    match store.children(path).await {
        Ok(names) => Ok(names),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// One pass of the removal; [`Error::NotEmpty`] when something was created
/// meanwhile (a worker registered, a folder made again).
async fn remove_once(store: &dyn CoordinationStore, layout: &Layout, cluster: &str) -> Result<()> {
    // The gate: refused while a worker is registered.
    delete_node(store, layout.workers()).await?;
    refuse_live(store, layout, cluster).await?;
    delete_tree(store, layout.tasks().clone(), layout).await?;
    let mut rest = Vec::new();
    for name in names(store, layout.root()).await? {
        let path = layout.root().join(&name)?;
        if path != *layout.epochs() && path != *layout.leader() {
            rest.push(path);
        }
    }
    for path in rest {
        delete_tree(store, path, layout).await?;
    }
    delete_tree(store, layout.epochs().clone(), layout).await?;
    delete_node(store, layout.root()).await
}

/// Deletes `path` and everything below it, leaves first; the `workers`
/// and `owners` folders only empty (never a live session's node).
fn delete_tree<'a>(
    store: &'a dyn CoordinationStore,
    path: Path,
    layout: &'a Layout,
) -> BoxFuture<'a, Result<()>> {
    async move {
        let walk = path != *layout.workers() && path != *layout.owners();
        match delete_node(store, &path).await {
            Err(Error::NotEmpty { .. }) if walk => {}
            other => return other,
        }
        let children = names(store, &path)
            .await?
            .iter()
            .map(|name| path.join(name))
            .collect::<Result<Vec<_>>>()?;
        futures::stream::iter(children)
            .map(|child| delete_tree(store, child, layout))
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<()>()
            .await?;
        delete_node(store, &path).await
    }
    .boxed()
}

/// Deletes one node, whatever its version; gone already is fine.
async fn delete_node(store: &dyn CoordinationStore, path: &Path) -> Result<()> {
    match store.delete(path, None).await {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

//! Where a cluster keeps its state in the store. See ARCHITECTURE.md,
//! "Layout in the store", for what each node holds.

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::store::{MAX_NAME_LEN, MAX_PATH_LEN, Name, Path};

/// Where [`Layout::new`] places clusters: one child node each.
pub(crate) const NAMESPACE: &str = "/tenure";

/// The paths of one cluster, all under `/tenure/<cluster>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    root: Path,
    tasks: Path,
    workers: Path,
    owners: Path,
    epochs: Path,
    targets: Path,
    open: Path,
    leader: Path,
    term: Path,
}

impl Layout {
    /// The layout of `cluster` under `/tenure`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] if `cluster` is not
    /// a valid name.
    pub fn new(cluster: &str) -> Result<Self> {
        let root = Path::new(NAMESPACE)?.child(cluster)?;
        Self::at(root)
    }

    /// The layout rooted at an arbitrary path (tests use one root per test).
    ///
    /// # Errors
    /// [`Error::InvalidPath`] if the paths below
    /// `root` would be too long.
    pub fn at(root: Path) -> Result<Self> {
        // Leave room for "/<longest child folder>/<longest name>" so that
        // joining any valid task or worker name below can never fail.
        let needed = root.as_str().len() + "/workers/".len() + MAX_NAME_LEN;
        if needed > MAX_PATH_LEN {
            return Err(Error::InvalidPath {
                path: root.to_string(),
                reason: format!(
                    "too long to be a cluster root: names below it would exceed {MAX_PATH_LEN} bytes"
                ),
            });
        }
        Ok(Layout {
            tasks: root.child("tasks")?,
            workers: root.child("workers")?,
            owners: root.child("owners")?,
            epochs: root.child("epochs")?,
            targets: root.child("targets")?,
            open: root.child("open")?,
            leader: root.child("leader")?,
            term: root.child("term")?,
            root,
        })
    }

    /// The cluster's root node.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// Parent of one persistent node per task; its own version changes on
    /// every change made through the admin API.
    pub fn tasks(&self) -> &Path {
        &self.tasks
    }
    /// Parent of one ephemeral node per live worker.
    pub fn workers(&self) -> &Path {
        &self.workers
    }
    /// Parent of one ephemeral ownership record per running task.
    pub fn owners(&self) -> &Path {
        &self.owners
    }
    /// Parent of one persistent fencing-token counter per task.
    pub fn epochs(&self) -> &Path {
        &self.epochs
    }
    /// Parent of one target node per worker, written by the leader.
    pub fn targets(&self) -> &Path {
        &self.targets
    }
    /// The tasks any worker may claim (first come), written by the leader.
    pub fn open(&self) -> &Path {
        &self.open
    }
    /// The ephemeral leader node.
    pub fn leader(&self) -> &Path {
        &self.leader
    }
    /// The leader term counter; the leader's writes check its version.
    pub fn term(&self) -> &Path {
        &self.term
    }

    /// The node of one task.
    pub fn task(&self, id: &TaskId) -> Path {
        join(&self.tasks, id.as_name())
    }
    /// The ephemeral node of one worker.
    pub fn worker(&self, id: &WorkerId) -> Path {
        join(&self.workers, id.as_name())
    }
    /// The ownership record of one task.
    pub fn owner(&self, id: &TaskId) -> Path {
        join(&self.owners, id.as_name())
    }
    /// The fencing-token counter of one task.
    pub fn epoch(&self, id: &TaskId) -> Path {
        join(&self.epochs, id.as_name())
    }
    /// The target node of one worker.
    pub fn target(&self, id: &WorkerId) -> Path {
        join(&self.targets, id.as_name())
    }

    /// The persistent nodes that must exist before anything runs.
    pub fn skeleton(&self) -> [&Path; 7] {
        [
            &self.tasks,
            &self.workers,
            &self.owners,
            &self.epochs,
            &self.targets,
            &self.open,
            &self.term,
        ]
    }
}

fn join(parent: &Path, name: &Name) -> Path {
    // `Layout::at` checked that every folder plus a name of MAX_NAME_LEN
    // bytes fits in MAX_PATH_LEN, so this join cannot fail.
    parent
        .join(name)
        .expect("layout roots leave room for any valid name")
}

//! The node tree, with ZooKeeper's rules for create, set and delete.
//!
//! Versions are ZooKeeper's data versions: a node is created at version 0
//! and every set adds 1, so a node deleted and created again starts at 0
//! again and may repeat a version it had before. Its incarnation is the
//! value of one server-wide counter (ZooKeeper's zxid) taken at its
//! creation, which never repeats. The store contract promises distinct
//! versions only while a node exists; following ZooKeeper here (rather
//! than a stricter rule) lets the simulations on this server catch code
//! that compares versions across a delete.

use std::collections::{BTreeSet, HashMap};

use tenure_core::{Error, Incarnation, Name, Node, Path, Result, SessionId, Version};

/// One node.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) data: Vec<u8>,
    pub(crate) version: Version,
    pub(crate) incarnation: Incarnation,
    pub(crate) owner: Option<SessionId>,
    pub(crate) children: BTreeSet<Name>,
}

impl Entry {
    pub(crate) fn to_node(&self) -> Node {
        Node {
            data: self.data.clone(),
            version: self.version,
            incarnation: self.incarnation,
            ephemeral_owner: self.owner,
        }
    }
}

/// What one applied write did: enough to fire its watches and to undo it.
#[derive(Debug)]
pub(crate) enum Change {
    /// A node was created.
    Created { path: Path },
    /// A node's data was replaced; the old data and version are kept.
    Set {
        path: Path,
        old_data: Vec<u8>,
        old_version: Version,
    },
    /// A node (without children) was removed; the whole entry is kept.
    Deleted { path: Path, entry: Entry },
}

/// The tree of nodes, the transaction counter and the ephemeral index.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: HashMap<Path, Entry>,
    ephemerals: HashMap<SessionId, BTreeSet<Path>>,
    zxid: u64,
}

fn leaf(path: &Path) -> Result<Name> {
    Name::new(path.name().unwrap_or_default())
}

impl Tree {
    /// A tree holding only the root `/` (persistent, empty, version 0,
    /// incarnation 0).
    pub(crate) fn new() -> Self {
        let root = Entry {
            data: Vec::new(),
            version: Version(0),
            incarnation: Incarnation(0),
            owner: None,
            children: BTreeSet::new(),
        };
        Tree {
            nodes: HashMap::from([(Path::root(), root)]),
            ephemerals: HashMap::new(),
            zxid: 0,
        }
    }

    /// How many nodes there are, the root included.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn get(&self, path: &Path) -> Option<&Entry> {
        self.nodes.get(path)
    }

    /// The sorted names of a node's children, or `NotFound`.
    pub(crate) fn children(&self, path: &Path) -> Result<Vec<Name>> {
        self.nodes
            .get(path)
            .map(|e| e.children.iter().cloned().collect())
            .ok_or_else(|| not_found(path))
    }

    /// The ephemeral nodes of a session, sorted.
    pub(crate) fn ephemerals_of(&self, session: SessionId) -> Vec<Path> {
        self.ephemerals
            .get(&session)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The transaction counter, to rewind to after a failed multi.
    pub(crate) fn zxid(&self) -> u64 {
        self.zxid
    }

    pub(crate) fn rewind_zxid(&mut self, zxid: u64) {
        self.zxid = zxid;
    }

    fn next_zxid(&mut self) -> u64 {
        self.zxid += 1;
        self.zxid
    }

    /// Creates a node. Checks in ZooKeeper's order: the parent exists, the
    /// node does not, the parent is not ephemeral.
    pub(crate) fn create(
        &mut self,
        path: &Path,
        data: &[u8],
        owner: Option<SessionId>,
    ) -> Result<(Version, Change)> {
        let Some(parent_path) = path.parent() else {
            return Err(Error::AlreadyExists { path: path.clone() });
        };
        let Some(parent) = self.nodes.get(&parent_path) else {
            return Err(Error::NoParent { path: path.clone() });
        };
        if self.nodes.contains_key(path) {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
        if parent.owner.is_some() {
            return Err(Error::EphemeralParent { path: path.clone() });
        }
        let version = Version(0);
        let entry = Entry {
            data: data.to_vec(),
            version,
            incarnation: Incarnation(self.next_zxid()),
            owner,
            children: BTreeSet::new(),
        };
        self.insert(path, entry)?;
        Ok((version, Change::Created { path: path.clone() }))
    }

    /// Checks that a node exists and, when given, has the expected version.
    pub(crate) fn check(&self, path: &Path, expected: Option<Version>) -> Result<&Entry> {
        let entry = self.nodes.get(path).ok_or_else(|| not_found(path))?;
        match expected {
            Some(v) if v != entry.version => Err(Error::VersionConflict { path: path.clone() }),
            _ => Ok(entry),
        }
    }

    /// Replaces a node's data, giving it a new version.
    pub(crate) fn set(
        &mut self,
        path: &Path,
        data: &[u8],
        expected: Option<Version>,
    ) -> Result<(Version, Change)> {
        let version = Version(self.check(path, expected)?.version.0.wrapping_add(1));
        self.next_zxid();
        let entry = self.nodes.get_mut(path).ok_or_else(|| not_found(path))?;
        let old_data = std::mem::replace(&mut entry.data, data.to_vec());
        let old_version = std::mem::replace(&mut entry.version, version);
        Ok((
            version,
            Change::Set {
                path: path.clone(),
                old_data,
                old_version,
            },
        ))
    }

    /// Deletes a node. Checks in ZooKeeper's order: it exists, the version
    /// matches, it has no children. The root cannot be deleted.
    pub(crate) fn delete(&mut self, path: &Path, expected: Option<Version>) -> Result<Change> {
        if path.is_root() {
            return Err(Error::InvalidPath {
                path: path.to_string(),
                reason: "the root node cannot be deleted".into(),
            });
        }
        if !self.check(path, expected)?.children.is_empty() {
            return Err(Error::NotEmpty { path: path.clone() });
        }
        let entry = self.remove(path)?;
        Ok(Change::Deleted {
            path: path.clone(),
            entry,
        })
    }

    /// Reverts an applied change. Changes must be undone newest first.
    pub(crate) fn undo(&mut self, change: Change) -> Result<()> {
        match change {
            Change::Created { path } => self.remove(&path).map(|_| ()),
            Change::Set {
                path,
                old_data,
                old_version,
            } => {
                let entry = self.nodes.get_mut(&path).ok_or_else(|| not_found(&path))?;
                entry.data = old_data;
                entry.version = old_version;
                Ok(())
            }
            Change::Deleted { path, entry } => self.insert(&path, entry),
        }
    }

    fn insert(&mut self, path: &Path, entry: Entry) -> Result<()> {
        let name = leaf(path)?;
        let parent_path = path.parent().ok_or_else(|| not_found(path))?;
        let parent = self
            .nodes
            .get_mut(&parent_path)
            .ok_or_else(|| not_found(&parent_path))?;
        parent.children.insert(name);
        if let Some(owner) = entry.owner {
            self.ephemerals
                .entry(owner)
                .or_default()
                .insert(path.clone());
        }
        self.nodes.insert(path.clone(), entry);
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> Result<Entry> {
        let entry = self.nodes.remove(path).ok_or_else(|| not_found(path))?;
        if let Some(parent) = path.parent().and_then(|p| self.nodes.get_mut(&p)) {
            parent.children.remove(&leaf(path)?);
        }
        if let Some(owner) = entry.owner
            && let Some(set) = self.ephemerals.get_mut(&owner)
        {
            set.remove(path);
            if set.is_empty() {
                self.ephemerals.remove(&owner);
            }
        }
        Ok(entry)
    }
}

fn not_found(path: &Path) -> Error {
    Error::NotFound { path: path.clone() }
}

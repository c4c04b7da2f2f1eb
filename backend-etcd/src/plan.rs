//! ZooKeeper's write rules as etcd comparisons.
//!
//! A write (create, set, delete, or a whole multi) becomes one etcd
//! transaction. The operations are simulated in order over what the
//! transaction will compare: whenever an operation needs a fact about the
//! stored state that no earlier operation of the same write settled (the
//! parent exists, the node is absent, its `mod_revision` is the expected
//! version, it has no children), the fact becomes a comparison and the
//! simulation goes on assuming it holds; facts that earlier operations did
//! settle (a node created earlier in the same multi is the parent of a
//! later one) are decided locally. The result is a [`Plan`]: the
//! comparisons, and either the final writes (one per key, as etcd refuses a
//! key written twice in one transaction) or the first operation that must
//! fail if the comparisons hold.
//!
//! When the comparisons fail, the same simulation runs again against the
//! state the transaction's failure branch read (one consistent revision),
//! and the first operation that fails there names the error: its kind and
//! its path. The two runs share this code, so they cannot disagree.

use std::collections::{BTreeMap, HashSet};

use tenure_core::{CreateMode, Error, Op, Path};

use crate::keys::{Keys, key_after, range_end};

/// A fact about the stored state, checked by one etcd comparison.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Fact {
    /// The key exists: `create_revision > 0`.
    Exists(Vec<u8>),
    /// The key exists with this `mod_revision`.
    Version(Vec<u8>, i64),
    /// The key does not exist: `create_revision == 0`.
    Absent(Vec<u8>),
    /// The key has no lease: `lease == 0` (true for a missing key).
    NotEphemeral(Vec<u8>),
    /// No key lies in `[start, end)`: `create_revision == 0` over the range
    /// (etcd compares an empty range as one key with all fields 0).
    NoKeysIn(Vec<u8>, Vec<u8>),
}

impl Fact {
    /// The single key the fact is about, if it is about one key.
    pub(crate) fn key(&self) -> Option<&[u8]> {
        match self {
            Fact::Exists(k) | Fact::Version(k, _) | Fact::Absent(k) | Fact::NotEphemeral(k) => {
                Some(k)
            }
            Fact::NoKeysIn(..) => None,
        }
    }
}

/// Where facts are decided: assumed (building the transaction) or read
/// from a snapshot (explaining why it failed).
pub(crate) trait Oracle {
    /// Whether `fact` holds.
    fn holds(&mut self, fact: Fact) -> bool;
}

/// Records every fact asked and assumes it holds.
#[derive(Debug, Default)]
pub(crate) struct Assume {
    /// The facts, in the order first asked, without repeats.
    pub(crate) facts: Vec<Fact>,
    seen: HashSet<Fact>,
}

impl Oracle for Assume {
    fn holds(&mut self, fact: Fact) -> bool {
        if self.seen.insert(fact.clone()) {
            self.facts.push(fact);
        }
        true
    }
}

/// Which lease a put gives its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lease {
    /// Keep the key's current lease (a set of an existing node).
    Keep,
    /// This lease; 0 for none (a create).
    Id(i64),
}

/// The final write of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Put this value with this lease.
    Put(Vec<u8>, Lease),
    /// Delete the key.
    Delete,
}

/// What one operation produces once the transaction applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Checked,
    Created,
    Set,
    Deleted,
}

/// A simulated write: what to compare, and what to do if it all holds.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The writes, one per key.
    pub(crate) writes: BTreeMap<Vec<u8>, Write>,
    /// One outcome per operation, in order.
    pub(crate) outcomes: Vec<Outcome>,
    /// The error of the first operation that fails when every assumed fact
    /// holds (then nothing is written).
    pub(crate) fails: Option<Error>,
}

/// What the simulation knows of a key after the operations so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Absent,
    Present {
        version: Ver,
        ephemeral: Option<bool>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ver {
    /// Compared equal to this revision.
    Exact(i64),
    /// Exists, revision not compared.
    Unknown,
    /// Written earlier in this transaction: its revision is not known
    /// until it commits, so no expected version can match it.
    Written,
}

/// Simulates `ops` in order; `lease` is the lease ephemeral creates use
/// (already checked to be the live session's).
pub(crate) fn simulate(keys: &Keys, ops: &[Op], lease: i64, oracle: &mut dyn Oracle) -> Plan {
    let mut sim = Sim {
        keys,
        oracle,
        known: BTreeMap::new(),
        writes: BTreeMap::new(),
    };
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        match sim.step(op, lease) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                return Plan {
                    writes: BTreeMap::new(),
                    outcomes,
                    fails: Some(e),
                };
            }
        }
    }
    Plan {
        writes: sim.writes,
        outcomes,
        fails: None,
    }
}

struct Sim<'a> {
    keys: &'a Keys,
    oracle: &'a mut dyn Oracle,
    known: BTreeMap<Vec<u8>, Known>,
    writes: BTreeMap<Vec<u8>, Write>,
}

impl Sim<'_> {
    fn step(&mut self, op: &Op, lease: i64) -> Result<Outcome, Error> {
        let path = op.path();
        let key = self.keys.node(path);
        match op {
            Op::Check { version, .. } => {
                self.existing(&key, path, version.map(|v| v.0))?;
                Ok(Outcome::Checked)
            }
            Op::Set { data, version, .. } => {
                self.existing(&key, path, version.map(|v| v.0))?;
                let lease = match self.writes.get(&key) {
                    Some(Write::Put(_, pending)) => *pending,
                    _ => Lease::Keep,
                };
                let ephemeral = self.ephemeral_of(&key);
                self.settle(&key, Ver::Written, ephemeral);
                self.writes.insert(key, Write::Put(data.clone(), lease));
                Ok(Outcome::Set)
            }
            Op::Delete { version, .. } => {
                self.existing(&key, path, version.map(|v| v.0))?;
                self.childless(path)?;
                self.known.insert(key.clone(), Known::Absent);
                self.writes.insert(key, Write::Delete);
                Ok(Outcome::Deleted)
            }
            Op::Create { data, mode, .. } => {
                self.creatable(&key, path)?;
                let (id, ephemeral) = match mode {
                    CreateMode::Persistent => (0, false),
                    CreateMode::Ephemeral(_) => (lease, true),
                };
                self.settle(&key, Ver::Written, Some(ephemeral));
                self.writes
                    .insert(key, Write::Put(data.clone(), Lease::Id(id)));
                Ok(Outcome::Created)
            }
        }
    }

    fn settle(&mut self, key: &[u8], version: Ver, ephemeral: Option<bool>) {
        self.known
            .insert(key.to_vec(), Known::Present { version, ephemeral });
    }

    fn ephemeral_of(&self, key: &[u8]) -> Option<bool> {
        match self.known.get(key) {
            Some(Known::Present { ephemeral, .. }) => *ephemeral,
            _ => None,
        }
    }

    /// The node must exist and, when `expected` is given, have that
    /// version.
    fn existing(&mut self, key: &[u8], path: &Path, expected: Option<u64>) -> Result<(), Error> {
        let not_found = || Error::NotFound { path: path.clone() };
        let conflict = || Error::VersionConflict { path: path.clone() };
        let known = self.known.get(key).copied();
        let (version, ephemeral) = match known {
            Some(Known::Absent) => return Err(not_found()),
            Some(Known::Present { version, ephemeral }) => (version, ephemeral),
            None => {
                if expected.is_none() && !self.oracle.holds(Fact::Exists(key.to_vec())) {
                    return Err(not_found());
                }
                (Ver::Unknown, None)
            }
        };
        let Some(expected) = expected else {
            self.settle(key, version, ephemeral);
            return Ok(());
        };
        match version {
            Ver::Exact(v) if u64::try_from(v) == Ok(expected) => Ok(()),
            Ver::Exact(_) | Ver::Written => Err(conflict()),
            Ver::Unknown => {
                // Revisions start at 1: 0 (or anything beyond i64) can only
                // ever be a conflict.
                let wanted = i64::try_from(expected).ok().filter(|v| *v > 0);
                if let Some(v) = wanted
                    && self.oracle.holds(Fact::Version(key.to_vec(), v))
                {
                    self.settle(key, Ver::Exact(v), ephemeral);
                    return Ok(());
                }
                if self.oracle.holds(Fact::Exists(key.to_vec())) {
                    Err(conflict())
                } else {
                    Err(not_found())
                }
            }
        }
    }

    /// A node may be created at `path`: its parent exists, it does not,
    /// and the parent is not ephemeral (ZooKeeper's order of checks).
    fn creatable(&mut self, key: &[u8], path: &Path) -> Result<(), Error> {
        let named = path.clone();
        let Some(parent) = path.parent() else {
            return Err(Error::AlreadyExists { path: named });
        };
        let parent_key = self.keys.node(&parent);
        let parent_known = self.known.get(&parent_key).copied();
        let parent_ephemeral = match parent_known {
            Some(Known::Absent) => return Err(Error::NoParent { path: named }),
            Some(Known::Present { ephemeral, .. }) => ephemeral,
            None => {
                if !self.oracle.holds(Fact::Exists(parent_key.clone())) {
                    return Err(Error::NoParent { path: named });
                }
                self.settle(&parent_key, Ver::Unknown, None);
                None
            }
        };
        match self.known.get(key) {
            Some(Known::Present { .. }) => return Err(Error::AlreadyExists { path: named }),
            Some(Known::Absent) => {}
            None => {
                if !self.oracle.holds(Fact::Absent(key.to_vec())) {
                    return Err(Error::AlreadyExists { path: named });
                }
            }
        }
        let ephemeral = match parent_ephemeral {
            Some(e) => e,
            None => !self.oracle.holds(Fact::NotEphemeral(parent_key.clone())),
        };
        if ephemeral {
            return Err(Error::EphemeralParent { path: named });
        }
        if let Some(Known::Present { version, .. }) = self.known.get(&parent_key).copied() {
            self.settle(&parent_key, version, Some(false));
        }
        Ok(())
    }

    /// The node at `path` has no children, counting what earlier
    /// operations created and deleted.
    fn childless(&mut self, path: &Path) -> Result<(), Error> {
        let not_empty = || Error::NotEmpty { path: path.clone() };
        let start = self.keys.children_prefix(path);
        let end = range_end(&start);
        let mut gaps_from = start;
        let mut segments = Vec::new();
        for (key, known) in self.known.range(gaps_from.clone()..end.clone()) {
            match known {
                Known::Present { .. } => return Err(not_empty()),
                Known::Absent => {
                    segments.push((gaps_from, key.clone()));
                    gaps_from = key_after(key);
                }
            }
        }
        segments.push((gaps_from, end));
        for (from, to) in segments {
            if from < to && !self.oracle.holds(Fact::NoKeysIn(from, to)) {
                return Err(not_empty());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

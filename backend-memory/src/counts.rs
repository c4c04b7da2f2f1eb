//! Counters of the requests that reached the server.

use std::ops::Sub;

/// How many requests reached the server, by kind: per client
/// ([`MemoryStore::op_counts`](crate::MemoryStore::op_counts)) and for the
/// whole server ([`MemoryServer::op_counts`](crate::MemoryServer::op_counts)).
///
/// A request counts when the server handles it, whether it succeeds or fails
/// there (a lost compare-and-set counts). Requests refused by the client
/// before sending (oversized payload, suspended connection, closed store) do
/// not count. The counters only grow; subtract two snapshots to measure a
/// stretch of a test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpCounts {
    /// Reads: `get`, `get_many` (one request whatever it reads),
    /// `get_and_watch`, `children`, `children_and_watch`.
    pub reads: u64,
    /// Single writes: `create`, `set`, `delete`.
    pub writes: u64,
    /// Atomic multi-operations, each counted once whatever it holds.
    pub multis: u64,
}

/// The kind of a request, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    Read,
    Write,
    Multi,
}

impl OpCounts {
    /// Every request counted.
    pub fn total(&self) -> u64 {
        self.reads + self.writes + self.multis
    }

    /// Requests that may change the tree: single writes plus multis.
    pub fn mutations(&self) -> u64 {
        self.writes + self.multis
    }

    pub(crate) fn bump(&mut self, kind: OpKind) {
        match kind {
            OpKind::Read => self.reads += 1,
            OpKind::Write => self.writes += 1,
            OpKind::Multi => self.multis += 1,
        }
    }
}

impl Sub for OpCounts {
    type Output = OpCounts;

    /// The requests counted between two snapshots (saturating at zero).
    fn sub(self, earlier: OpCounts) -> OpCounts {
        OpCounts {
            reads: self.reads.saturating_sub(earlier.reads),
            writes: self.writes.saturating_sub(earlier.writes),
            multis: self.multis.saturating_sub(earlier.multis),
        }
    }
}

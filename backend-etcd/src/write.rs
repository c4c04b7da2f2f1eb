//! Writes: a [`Plan`](crate::plan::Plan) sent as one etcd transaction, and
//! its answer turned into results or the failing operation's error.
//!
//! The transaction is `if (every assumed fact) then (the writes) else (read
//! every key and range the facts are about)`. The failure branch reads at
//! the very revision the comparisons failed at, so re-running the
//! simulation on what it read names the operation that failed, never a
//! state that changed in between.

use std::collections::HashMap;

use etcd_client::{
    Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse, TxnResponse,
};
use tenure_core::{CreateMode, Error, Op, OpResult, Result, SessionId, Version};

use crate::errors::BACKEND;
use crate::limits;
use crate::plan::{self, Assume, Fact, Lease, Oracle, Outcome, Write};
use crate::shared::{Retry, Shared};

/// Bytes counted per comparison or operation on top of its keys and value
/// when estimating a request's size (tags, lengths, revisions).
const FRAMING_PER_ITEM: usize = 32;

impl Shared {
    /// Applies `ops` atomically, in order, with ZooKeeper's rules.
    ///
    /// # Errors
    /// The first failing operation's error; [`Error::SessionExpired`] for
    /// an ephemeral create under a session that is not the live one;
    /// [`Error::PayloadTooLarge`]; [`Error::InvalidInput`] for a multi too
    /// large for one transaction; request errors.
    pub(crate) async fn write(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        self.usable()?;
        let lease = self.check_writes(ops)?;
        let keys = &self.keys;
        let mut assume = Assume::default();
        let plan = plan::simulate(keys, ops, lease, &mut assume);
        if assume.facts.is_empty()
            && let Some(e) = plan.fails
        {
            return Err(e);
        }
        let probes = Probes::of(&assume.facts);
        let compares: Vec<Compare> = assume.facts.iter().map(compare).collect();
        let writes: Vec<TxnOp> = plan
            .writes
            .iter()
            .map(|(key, write)| match write {
                Write::Put(value, lease) => {
                    TxnOp::put(key.clone(), value.clone(), put_options(*lease))
                }
                Write::Delete => TxnOp::delete(key.clone(), None),
            })
            .collect();
        self.check_txn_size(&compares, &writes, &probes, ops)?;
        let txn = Txn::new()
            .when(compares)
            .and_then(writes)
            .or_else(probes.ops());
        let what = || describe(ops);
        let session = (lease != 0).then_some(SessionId(lease as u64));
        let answer = self
            .call(what, session, Retry::UnlessApplied, || {
                let (mut kv, txn) = (self.client.kv_client(), txn.clone());
                async move { kv.txn(txn).await }
            })
            .await?;
        if answer.succeeded() {
            if let Some(e) = plan.fails {
                return Err(e);
            }
            let revision = answer.header().map_or(0, |h| h.revision());
            let version = Version(u64::try_from(revision).unwrap_or(0));
            return Ok(plan
                .outcomes
                .iter()
                .map(|o| match o {
                    Outcome::Checked => OpResult::Checked,
                    Outcome::Created => OpResult::Created(version),
                    Outcome::Set => OpResult::Set(version),
                    Outcome::Deleted => OpResult::Deleted,
                })
                .collect());
        }
        let mut snapshot = probes.read(&answer);
        let replay = plan::simulate(keys, ops, lease, &mut snapshot);
        Err(replay.fails.unwrap_or_else(|| Error::Backend {
            backend: BACKEND,
            message: format!(
                "the transaction for {} failed, but the state it read satisfies every comparison",
                describe(ops)
            ),
            source: None,
        }))
    }

    /// Checks payloads and ephemeral sessions before anything is sent;
    /// returns the lease ephemeral creates use (0 if there are none).
    fn check_writes(&self, ops: &[Op]) -> Result<i64> {
        let limit = self.config.max_payload();
        let mut total = 0usize;
        let mut lease = 0;
        for op in ops {
            match op {
                Op::Create { data, mode, .. } => {
                    limits::check_payload(data.len(), limit)?;
                    total += data.len();
                    if let CreateMode::Ephemeral(session) = mode {
                        lease = self.live_lease(*session)?;
                    }
                }
                Op::Set { data, .. } => {
                    limits::check_payload(data.len(), limit)?;
                    total += data.len();
                }
                Op::Delete { path, .. } if path.is_root() => {
                    return Err(Error::InvalidPath {
                        path: path.to_string(),
                        reason: "the root cannot be deleted".into(),
                    });
                }
                Op::Delete { .. } | Op::Check { .. } => {}
            }
        }
        limits::check_payload(total, limit)?;
        Ok(lease)
    }

    /// Refuses a transaction over the server's limits before sending it.
    fn check_txn_size(
        &self,
        compares: &[Compare],
        writes: &[TxnOp],
        probes: &Probes,
        ops: &[Op],
    ) -> Result<()> {
        let max_ops = self.config.max_txn_ops;
        let most = compares.len().max(writes.len()).max(probes.len());
        if most > max_ops {
            return Err(Error::InvalidInput(format!(
                "a multi of {} operations needs {most} comparisons or operations in one etcd \
                 transaction, over the server's limit of {max_ops} (--max-txn-ops); split it",
                ops.len()
            )));
        }
        let keys: usize = ops.iter().map(|op| op.path().as_str().len()).sum::<usize>()
            + self.keys.node(&tenure_core::Path::root()).len() * ops.len();
        let payloads: usize = ops
            .iter()
            .map(|op| match op {
                Op::Create { data, .. } | Op::Set { data, .. } => data.len(),
                _ => 0,
            })
            .sum();
        // Every key can appear in a comparison, a write and a probe.
        let items = compares.len() + writes.len() + probes.len();
        let estimate = payloads + 3 * keys + items * FRAMING_PER_ITEM;
        let limit = self.config.max_request_bytes;
        if estimate > limit {
            return Err(Error::PayloadTooLarge {
                size: estimate,
                limit,
            });
        }
        Ok(())
    }
}

fn describe(ops: &[Op]) -> String {
    match ops {
        [Op::Create { path, .. }] => format!("create {path}"),
        [Op::Set { path, .. }] => format!("set {path}"),
        [Op::Delete { path, .. }] => format!("delete {path}"),
        [Op::Check { path, .. }] => format!("check {path}"),
        _ => format!("multi of {} operations", ops.len()),
    }
}

fn put_options(lease: Lease) -> Option<PutOptions> {
    match lease {
        Lease::Keep => Some(PutOptions::new().with_ignore_lease()),
        Lease::Id(0) => None,
        Lease::Id(id) => Some(PutOptions::new().with_lease(id)),
    }
}

fn compare(fact: &Fact) -> Compare {
    match fact {
        Fact::Exists(k) => Compare::create_revision(k.clone(), CompareOp::Greater, 0),
        Fact::Version(k, v) => Compare::mod_revision(k.clone(), CompareOp::Equal, *v),
        Fact::Absent(k) => Compare::create_revision(k.clone(), CompareOp::Equal, 0),
        Fact::NotEphemeral(k) => Compare::lease(k.clone(), CompareOp::Equal, 0),
        Fact::NoKeysIn(from, to) => {
            Compare::create_revision(from.clone(), CompareOp::Equal, 0).with_range(to.clone())
        }
    }
}

/// The reads of the failure branch: every key and range the facts are
/// about, each once, in order.
#[derive(Debug, Default)]
struct Probes {
    keys: Vec<Vec<u8>>,
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Probes {
    fn of(facts: &[Fact]) -> Probes {
        let mut probes = Probes::default();
        for fact in facts {
            match fact {
                Fact::NoKeysIn(from, to) => {
                    let range = (from.clone(), to.clone());
                    if !probes.ranges.contains(&range) {
                        probes.ranges.push(range);
                    }
                }
                other => {
                    if let Some(k) = other.key()
                        && !probes.keys.iter().any(|seen| seen == k)
                    {
                        probes.keys.push(k.to_vec());
                    }
                }
            }
        }
        probes
    }

    fn len(&self) -> usize {
        self.keys.len() + self.ranges.len()
    }

    fn ops(&self) -> Vec<TxnOp> {
        let keys = self
            .keys
            .iter()
            .map(|k| TxnOp::get(k.clone(), Some(GetOptions::new().with_keys_only())));
        let ranges = self.ranges.iter().map(|(from, to)| {
            TxnOp::get(
                from.clone(),
                Some(GetOptions::new().with_range(to.clone()).with_count_only()),
            )
        });
        keys.chain(ranges).collect()
    }

    /// The state the failure branch read.
    fn read(&self, answer: &TxnResponse) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let responses = answer.op_responses();
        let mut gets = responses.iter().filter_map(|r| match r {
            TxnOpResponse::Get(g) => Some(g),
            _ => None,
        });
        for key in &self.keys {
            let kv = gets.next().and_then(|g| g.kvs().first()).map(|kv| Stat {
                mod_revision: kv.mod_revision(),
                lease: kv.lease(),
            });
            snapshot.keys.insert(key.clone(), kv);
        }
        for range in &self.ranges {
            let count = gets.next().map_or(0, |g| g.count());
            snapshot.ranges.insert(range.clone(), count);
        }
        snapshot
    }
}

#[derive(Clone, Copy, Debug)]
struct Stat {
    mod_revision: i64,
    lease: i64,
}

/// The stored state as the failure branch read it.
#[derive(Debug, Default)]
struct Snapshot {
    keys: HashMap<Vec<u8>, Option<Stat>>,
    ranges: HashMap<(Vec<u8>, Vec<u8>), i64>,
}

impl Oracle for Snapshot {
    fn holds(&mut self, fact: Fact) -> bool {
        // A fact the failure branch did not read cannot be asked: the
        // replay follows the same path as the simulation that chose the
        // reads until its first failure. Unknown facts count as holding,
        // so they can never invent a failure.
        let stat = |keys: &HashMap<Vec<u8>, Option<Stat>>, k: &[u8]| keys.get(k).copied();
        match fact {
            Fact::Exists(k) => stat(&self.keys, &k).is_none_or(|s| s.is_some()),
            Fact::Absent(k) => stat(&self.keys, &k).is_none_or(|s| s.is_none()),
            Fact::Version(k, v) => {
                stat(&self.keys, &k).is_none_or(|s| s.is_some_and(|s| s.mod_revision == v))
            }
            Fact::NotEphemeral(k) => {
                stat(&self.keys, &k).is_none_or(|s| s.is_none_or(|s| s.lease == 0))
            }
            Fact::NoKeysIn(from, to) => self.ranges.get(&(from, to)).is_none_or(|n| *n == 0),
        }
    }
}

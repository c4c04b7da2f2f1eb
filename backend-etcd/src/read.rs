//! Reads, each returning the revision it read at so a watch can start
//! right after it.

use etcd_client::{GetOptions, KeyValue, Txn, TxnOp, TxnOpResponse, TxnResponse};
use tenure_core::{Error, Incarnation, Name, Node, Path, Result, Version, Watch};

use crate::errors;
use crate::keys::{Keys, key_after, range_end};
use crate::limits::MAX_PAYLOAD;
use crate::shared::{Retry, Shared, session_of};
use crate::watch::{Filter, Spec};

/// Room for one value's key and metadata in a read transaction's answer.
const VALUE_OVERHEAD: usize = 64 * 1024;

/// Children listed per range request; longer lists are read in pages at
/// the revision of the first.
const PAGE: i64 = 5_000;

/// Listings restarted because a compaction overtook them, at most.
const LIST_ATTEMPTS: u32 = 3;

impl Shared {
    /// The node at `path` and the revision of the read.
    pub(crate) async fn read_node(&self, path: &Path) -> Result<(Option<Node>, i64)> {
        self.usable()?;
        let key = self.keys.node(path);
        let answer = self
            .call(
                || format!("get {path}"),
                None,
                Retry::Idempotent,
                || {
                    let (mut kv, key) = (self.client.kv_client(), key.clone());
                    async move { kv.get(key, None).await }
                },
            )
            .await?;
        let revision = answer.header().map_or(0, |h| h.revision());
        Ok((answer.kvs().first().map(node_of), revision))
    }

    /// The nodes at `paths`, in order: one transaction of reads per
    /// `--max-txn-ops` paths, each read at one revision.
    pub(crate) async fn read_nodes(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        Ok(self
            .read_nodes_at(paths)
            .await?
            .into_iter()
            .map(|(node, _)| node)
            .collect())
    }

    /// As [`Shared::read_nodes`], each node with the revision of the
    /// transaction that read it.
    pub(crate) async fn read_nodes_at(&self, paths: &[Path]) -> Result<Vec<(Option<Node>, i64)>> {
        self.usable()?;
        let mut nodes = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(self.config.max_txn_ops.max(1)) {
            let txn = Txn::new().and_then(
                chunk
                    .iter()
                    .map(|p| TxnOp::get(self.keys.node(p), None))
                    .collect::<Vec<_>>(),
            );
            let answer = self
                .read_txn(
                    || format!("get {} nodes from {}", chunk.len(), chunk[0]),
                    txn,
                )
                .await?;
            let revision = answer.header().map_or(0, |h| h.revision());
            let before = nodes.len();
            nodes.extend(answer.op_responses().into_iter().filter_map(|r| match r {
                TxnOpResponse::Get(g) => Some((g.kvs().first().map(node_of), revision)),
                _ => None,
            }));
            if nodes.len() - before != chunk.len() {
                return Err(Error::Backend {
                    backend: crate::errors::BACKEND,
                    message: format!(
                        "a read of {} nodes answered with {} reads",
                        chunk.len(),
                        nodes.len() - before
                    ),
                    source: None,
                });
            }
        }
        Ok(nodes)
    }

    /// The names of `path`'s children, sorted, and the revision of the
    /// read: one transaction reads the node and the first page of the
    /// children's range; further pages are read at that revision.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the node does not exist.
    pub(crate) async fn read_children(&self, path: &Path) -> Result<(Vec<Name>, i64)> {
        let mut attempt = 1;
        loop {
            if let Some(listed) = self.list_once(path, attempt).await? {
                return Ok(listed);
            }
            attempt += 1;
        }
    }

    /// One attempt at listing; `None` when a later page's revision was
    /// compacted meanwhile (only before the last attempt).
    async fn list_once(&self, path: &Path, attempt: u32) -> Result<Option<(Vec<Name>, i64)>> {
        self.usable()?;
        let prefix = self.keys.children_prefix(path);
        let end = range_end(&prefix);
        let listing = |from: Vec<u8>| {
            (
                from,
                GetOptions::new()
                    .with_range(end.clone())
                    .with_keys_only()
                    .with_limit(PAGE),
            )
        };
        let (from, options) = listing(prefix.clone());
        let txn = Txn::new().and_then([
            TxnOp::get(
                self.keys.node(path),
                Some(GetOptions::new().with_count_only()),
            ),
            TxnOp::get(from, Some(options)),
        ]);
        let answer = self
            .read_txn(|| format!("list the children of {path}"), txn)
            .await?;
        let revision = answer.header().map_or(0, |h| h.revision());
        let gets: Vec<_> = answer
            .op_responses()
            .into_iter()
            .filter_map(|r| match r {
                TxnOpResponse::Get(g) => Some(g),
                _ => None,
            })
            .collect();
        let [node, first] = gets.as_slice() else {
            return Err(Error::Backend {
                backend: crate::errors::BACKEND,
                message: format!("listing {path}: expected two reads in the answer"),
                source: None,
            });
        };
        if node.count() == 0 {
            return Err(Error::NotFound { path: path.clone() });
        }
        let mut names = Vec::new();
        let mut more = collect(&prefix, first.kvs(), &mut names).filter(|_| first.more());
        while let Some(last) = more {
            let (from, options) = listing(key_after(&last));
            let mut kv = self.client.kv_client();
            let after = self.config.request_timeout;
            let page = match tokio::time::timeout(
                after,
                kv.get(from, Some(options.with_revision(revision))),
            )
            .await
            {
                Ok(Ok(page)) => page,
                // Compacted past the first page's revision: list again.
                Ok(Err(e)) if errors::is_compacted(&e) && attempt < LIST_ATTEMPTS => {
                    return Ok(None);
                }
                Ok(Err(e)) => return Err(errors::map(e, None)),
                Err(_) => {
                    return Err(errors::timeout(
                        format!("list the children of {path}"),
                        after,
                    ));
                }
            };
            more = collect(&prefix, page.kvs(), &mut names).filter(|_| page.more());
        }
        Ok(Some((names, revision)))
    }

    /// Sends `txn`, a transaction of reads only (sent again if it did not
    /// get through: reading twice is harmless).
    ///
    /// Its answer may hold `--max-txn-ops` values of up to the payload
    /// limit each, far beyond gRPC's default of 4 MiB for one message
    /// (which refused three values at the limit): the limit of the answer
    /// is raised to what the transaction can hold.
    async fn read_txn(&self, what: impl FnOnce() -> String, txn: Txn) -> Result<TxnResponse> {
        let largest = self
            .config
            .max_txn_ops
            .max(1)
            .saturating_mul(MAX_PAYLOAD + VALUE_OVERHEAD);
        self.call(what, None, Retry::Idempotent, || {
            let mut kv = self.client.kv_client().max_decoding_message_size(largest);
            let txn = txn.clone();
            async move { kv.txn(txn).await }
        })
        .await
    }

    /// A watch on the node at `path` from just after `revision`.
    pub(crate) fn watch_node(&self, path: &Path, revision: i64) -> Watch {
        let spec = Spec {
            key: self.keys.node(path),
            range_end: None,
            filter: Filter::Node,
        };
        self.hub.watch(vec![spec], revision + 1)
    }

    /// A watch on the children of `path` (created or deleted) and on the
    /// node's own deletion, from just after `revision`.
    pub(crate) fn watch_children(&self, path: &Path, revision: i64) -> Watch {
        let prefix = self.keys.children_prefix(path);
        let children = Spec {
            range_end: Some(range_end(&prefix)),
            key: prefix,
            filter: Filter::Children,
        };
        let itself = Spec {
            key: self.keys.node(path),
            range_end: None,
            filter: Filter::NodeDeleted,
        };
        self.hub.watch(vec![children, itself], revision + 1)
    }
}

/// Appends the names of `kvs` to `names`; returns the last key read.
fn collect(prefix: &[u8], kvs: &[KeyValue], names: &mut Vec<Name>) -> Option<Vec<u8>> {
    for kv in kvs {
        match Keys::child_name(prefix, kv.key()) {
            Some(name) => names.push(name),
            None => tracing::warn!(
                key = %String::from_utf8_lossy(kv.key()),
                "ignoring a key in a children range that is not a valid child name"
            ),
        }
    }
    kvs.last().map(|kv| kv.key().to_vec())
}

/// A node from its key-value: the version is the `mod_revision`, the
/// incarnation the `create_revision`, the owner the lease.
pub(crate) fn node_of(kv: &KeyValue) -> Node {
    Node {
        data: kv.value().to_vec(),
        version: Version(u64::try_from(kv.mod_revision()).unwrap_or(0)),
        incarnation: Incarnation(u64::try_from(kv.create_revision()).unwrap_or(0)),
        ephemeral_owner: (kv.lease() != 0).then(|| session_of(kv.lease())),
    }
}

//! Atomic multi-operations: every operation applies, or none does.
//!
//! The operations are applied in order to the tree under the server lock,
//! each recording how to undo it. At the first failure the applied ones are
//! undone newest first and the transaction counter is rewound, so the tree is
//! exactly as before and no observer (who needs the same lock) can have seen
//! the partial state. Watches fire only once every operation has applied.

use tenure_core::{Op, OpResult, Result, SessionId};

use crate::client::ClientId;
use crate::counts::OpKind;
use crate::ops::owner_for;
use crate::server::MemoryServer;
use crate::tree::{Change, Tree};

fn apply(tree: &mut Tree, op: &Op, live: SessionId) -> Result<(OpResult, Option<Change>)> {
    match op {
        Op::Check { path, version } => {
            tree.check(path, *version)?;
            Ok((OpResult::Checked, None))
        }
        Op::Create { path, data, mode } => {
            let owner = owner_for(*mode, live)?;
            let (v, change) = tree.create(path, data, owner)?;
            Ok((OpResult::Created(v), Some(change)))
        }
        Op::Set {
            path,
            data,
            version,
        } => {
            let (v, change) = tree.set(path, data, *version)?;
            Ok((OpResult::Set(v), Some(change)))
        }
        Op::Delete { path, version } => {
            let change = tree.delete(path, *version)?;
            Ok((OpResult::Deleted, Some(change)))
        }
    }
}

fn roll_back(tree: &mut Tree, applied: Vec<Change>, zxid: u64) {
    for change in applied.into_iter().rev() {
        if let Err(e) = tree.undo(change) {
            // Undo replays a change that was just applied under the same
            // lock; failing means the tree's own bookkeeping is broken.
            tracing::error!(%e, "multi roll-back failed");
        }
    }
    tree.rewind_zxid(zxid);
}

impl MemoryServer {
    pub(crate) fn multi(&self, client: ClientId, ops: &[Op]) -> Result<Vec<OpResult>> {
        self.request(client, OpKind::Multi, |st, live| {
            let zxid = st.tree.zxid();
            let mut applied = Vec::new();
            let mut results = Vec::with_capacity(ops.len());
            for op in ops {
                match apply(&mut st.tree, op, live) {
                    Ok((result, change)) => {
                        results.push(result);
                        applied.extend(change);
                    }
                    Err(e) => {
                        roll_back(&mut st.tree, applied, zxid);
                        return Err(e);
                    }
                }
            }
            for change in &applied {
                st.watches.trigger(change, &mut st.pending);
            }
            Ok(results)
        })
    }
}

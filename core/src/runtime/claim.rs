//! Ownership changes, each one compare-and-set in the store: claim a task,
//! re-confirm a claim after a lost connection, release it.
//!
//! A claim is two requests: one read of the ownership record, the fencing
//! counter and the task node together ([`get_many`]), then one atomic
//! multi: the task node is still at the version read, the fencing counter
//! moves from the value read to that value + 1 (CAS on its version), and
//! the ephemeral ownership record is created under the caller's session.
//! If any part fails, nothing changes. Two workers can therefore never
//! both create the record, tokens strictly increase per task, and a claim
//! under an expired session fails (the store refuses an ephemeral of a
//! session that is not live). Nothing of the claim's safety rests on the
//! read: every value it took from it is checked again by the multi.
//!
//! The task node read comes back with the claim, so the claimer starts its
//! handler without reading the task again: the multi checked its version,
//! so the payload is the one the node held when the claim was applied
//! (ZooKeeper may repeat a version across a removal and re-creation of
//! the task; the node's incarnation, kept with the payload, then differs
//! from the one the leader's target names and the worker reads the task
//! again, as after any change).
//!
//! A fencing counter that does not decode stops every claim and reclaim of
//! its task with [`Error::MalformedRecord`] before anything is written: a
//! token is only ever one more than a counter read exactly, never one more
//! than a guess (a counter read as 0 would hand out tokens already used).
//!
//! [`get_many`]: CoordinationStore::get_many

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::runtime::layout::Layout;
use crate::runtime::records::{OwnerRecord, Record, next_token, now_ms};
use crate::store::{CoordinationStore, CreateMode, Node, Op, OpResult, SessionId, Version};

/// A claim that succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The fencing token: strictly greater than every earlier token of the
    /// task.
    pub token: u64,
    /// The version of the ownership record, for a later CAS release.
    pub record_version: Version,
    /// The version of the fencing counter this claim wrote. The counter is
    /// never deleted, so unlike the record's version (which a record
    /// re-created by another owner may repeat) it proves, while it holds,
    /// that nobody claimed the task since.
    pub epoch_version: Version,
}

/// A claim that succeeded, and the task node it was made on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    /// The claim.
    pub claim: Claim,
    /// The task node as the claim read it; the claim's multi checked that
    /// the node was still at this version.
    pub task: Node,
}

/// What a re-confirmation must find unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    /// The version of the ownership record as last written.
    pub record_version: Version,
    /// The version of the fencing counter as last written, if known.
    pub epoch_version: Option<Version>,
    /// The version of the task node as last read, if it must not have
    /// changed.
    pub task_version: Option<Version>,
}

/// Why a claim did not succeed.
#[derive(Debug)]
pub enum ClaimError {
    /// Another claim holds the task.
    Owned,
    /// The task no longer exists.
    NoTask,
    /// A store error.
    Store(Error),
}

impl From<Error> for ClaimError {
    fn from(e: Error) -> Self {
        ClaimError::Store(e)
    }
}

/// How many times a claim retries a lost race on the fencing counter or a
/// change of the task node between its read and its multi.
const COUNTER_RETRIES: usize = 4;

/// Claims `task` for `worker` under `session`.
///
/// The ownership record, the fencing counter and the task node are read in
/// one request first: a record already there answers
/// [`ClaimError::Owned`] without a write (a claim that must fail still
/// costs the server a write: a consensus round on etcd), as when a worker
/// is handed tasks whose owners have not let go yet; a missing task
/// answers [`ClaimError::NoTask`]. The claim's multi still checks that no
/// record exists and that the task is as read; a counter or task changed
/// in between is read again (all three, one request).
///
/// # Errors
/// [`ClaimError::Owned`], [`ClaimError::NoTask`]; as
/// [`ClaimError::Store`]: [`Error::MalformedRecord`] if the fencing
/// counter does not decode (nothing was written), store errors.
pub async fn claim(
    store: &dyn CoordinationStore,
    layout: &Layout,
    task: &TaskId,
    worker: &WorkerId,
    session: SessionId,
) -> Result<Claimed, ClaimError> {
    let owner_path = layout.owner(task);
    let epoch_path = layout.epoch(task);
    let task_path = layout.task(task);
    let paths = [owner_path.clone(), epoch_path.clone(), task_path.clone()];
    let mut conflict = Error::VersionConflict {
        path: epoch_path.clone(),
    };
    for _ in 0..COUNTER_RETRIES {
        let read = store.get_many(&paths).await?;
        let [owner, counter, node]: [Option<Node>; 3] = read.try_into().map_err(|r: Vec<_>| {
            Error::InvalidInput(format!(
                "store answered a read of 3 nodes with {} answers",
                r.len()
            ))
        })?;
        if owner.is_some() {
            return Err(ClaimError::Owned);
        }
        let Some(node) = node else {
            return Err(ClaimError::NoTask);
        };
        let token = next_token(&epoch_path, counter.as_ref().map(|n| &n.data[..]))?;
        let counter_write = match &counter {
            Some(c) => Op::Set {
                path: epoch_path.clone(),
                data: token.to_string().into_bytes(),
                version: Some(c.version),
            },
            None => Op::Create {
                path: epoch_path.clone(),
                data: token.to_string().into_bytes(),
                mode: CreateMode::Persistent,
            },
        };
        let ops = [
            Op::Check {
                path: task_path.clone(),
                version: Some(node.version),
            },
            counter_write,
            Op::Create {
                path: owner_path.clone(),
                data: owner_record(worker, token, session)?,
                mode: CreateMode::Ephemeral(session),
            },
        ];
        match store.multi(&ops).await {
            Ok(results) => {
                let (epoch_version, record_version) = match (results.get(1), results.get(2)) {
                    (Some(OpResult::Set(e) | OpResult::Created(e)), Some(OpResult::Created(v))) => {
                        (*e, *v)
                    }
                    other => {
                        return Err(ClaimError::Store(Error::InvalidInput(format!(
                            "store answered a claim with {other:?}"
                        ))));
                    }
                };
                crate::metrics::claimed();
                return Ok(Claimed {
                    claim: Claim {
                        token,
                        record_version,
                        epoch_version,
                    },
                    task: node,
                });
            }
            Err(Error::AlreadyExists { path }) if path == owner_path.as_str() => {
                return Err(ClaimError::Owned);
            }
            Err(Error::NotFound { path }) if path == task_path.as_str() => {
                return Err(ClaimError::NoTask);
            }
            // Lost the race on the counter, or the task changed since the
            // read: read again and try again.
            Err(e) if e.is_conflict() => conflict = e,
            Err(e) => return Err(ClaimError::Store(e)),
        }
    }
    Err(ClaimError::Store(conflict))
}

/// Re-confirms a claim the caller still holds (after a lost connection
/// came back within the session, or to restart a handler): the ownership
/// record must still be the one written at `held` (CAS), and it gets a new
/// token. With `task_version`, the task node must still be at that version
/// too, so a handler never starts again on a task that was paused or
/// changed since the caller read it. Returns `Ok(None)` if the record is no
/// longer ours.
///
/// # Errors
/// [`Error::VersionConflict`] naming the task node if it changed (nothing
/// was written: read it again); [`Error::MalformedRecord`] if the fencing
/// counter does not decode (nothing was written); store errors.
pub async fn reclaim(
    store: &dyn CoordinationStore,
    layout: &Layout,
    task: &TaskId,
    worker: &WorkerId,
    session: SessionId,
    held: Hold,
) -> Result<Option<Claim>> {
    let Hold {
        record_version: held,
        epoch_version: held_epoch,
        task_version,
    } = held;
    let owner_path = layout.owner(task);
    let epoch_path = layout.epoch(task);
    let task_path = layout.task(task);
    for _ in 0..COUNTER_RETRIES {
        let Some(counter) = store.get(&epoch_path).await? else {
            return Ok(None);
        };
        let token = next_token(&epoch_path, Some(&counter.data))?;
        let mut ops = vec![
            Op::Set {
                path: epoch_path.clone(),
                data: token.to_string().into_bytes(),
                // The counter as this claim left it: anything else means
                // another claim came since (the record's version alone
                // may repeat on a record re-created by another owner).
                version: Some(held_epoch.unwrap_or(counter.version)),
            },
            Op::Set {
                path: owner_path.clone(),
                data: owner_record(worker, token, session)?,
                version: Some(held),
            },
        ];
        if let Some(version) = task_version {
            ops.push(Op::Check {
                path: task_path.clone(),
                version: Some(version),
            });
        }
        match store.multi(&ops).await {
            Ok(results) => {
                let (epoch_version, record_version) = match (results.first(), results.get(1)) {
                    (Some(OpResult::Set(e)), Some(OpResult::Set(v))) => (*e, *v),
                    other => {
                        return Err(Error::InvalidInput(format!(
                            "store answered a reclaim with {other:?}"
                        )));
                    }
                };
                return Ok(Some(Claim {
                    token,
                    record_version,
                    epoch_version,
                }));
            }
            Err(Error::VersionConflict { path })
                if held_epoch.is_some() && path == epoch_path.as_str() =>
            {
                return Ok(None); // claimed by another since
            }
            Err(Error::VersionConflict { path } | Error::NotFound { path })
                if path == owner_path.as_str() =>
            {
                return Ok(None);
            }
            Err(Error::VersionConflict { path } | Error::NotFound { path })
                if path == task_path.as_str() =>
            {
                return Err(Error::VersionConflict { path });
            }
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::VersionConflict {
        path: epoch_path.clone(),
    })
}

/// Releases a claim: deletes the ownership record only if it is still the
/// one written at `held` and, when `held_epoch` is given, only if the
/// fencing counter is still as the claim left it (one multi). The counter
/// check matters: an ownership record whose session ended may be created
/// again by another owner with the same version (ZooKeeper starts every
/// node at version 0), and a delete by version alone would delete that
/// owner's record, letting a third worker claim the task while the second
/// still runs it. A record that is already gone or replaced is not an
/// error (it is not ours any more).
pub async fn release(
    store: &dyn CoordinationStore,
    layout: &Layout,
    task: &TaskId,
    held: Version,
    held_epoch: Option<Version>,
) -> Result<()> {
    let delete = Op::Delete {
        path: layout.owner(task),
        version: Some(held),
    };
    let released = match held_epoch {
        Some(epoch) => store
            .multi(&[
                Op::Check {
                    path: layout.epoch(task),
                    version: Some(epoch),
                },
                delete,
            ])
            .await
            .map(|_| ()),
        None => store.delete(&layout.owner(task), Some(held)).await,
    };
    match released {
        Ok(()) => {
            crate::metrics::released();
            Ok(())
        }
        Err(Error::NotFound { .. } | Error::VersionConflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The ownership record a claim or a re-confirmation writes: this worker,
/// under this session, with this token, since now.
fn owner_record(worker: &WorkerId, token: u64, session: SessionId) -> Result<Vec<u8>> {
    OwnerRecord {
        worker: worker.clone(),
        token,
        session: session.0,
        since_ms: now_ms(),
    }
    .encode()
}

/// Reads the ownership record of `task`, if any.
///
/// # Errors
/// [`Error::MalformedRecord`] if it does not decode; store errors.
#[cfg(feature = "internals")]
pub async fn read_owner(
    store: &dyn CoordinationStore,
    layout: &Layout,
    task: &TaskId,
) -> Result<Option<(OwnerRecord, Version)>> {
    let path = layout.owner(task);
    match store.get(&path).await? {
        Some(node) => Ok(Some((
            OwnerRecord::decode(&path, &node.data)?,
            node.version,
        ))),
        None => Ok(None),
    }
}

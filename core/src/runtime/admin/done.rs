//! Tasks that are done: marked by the worker whose handler finished the
//! work (fenced by its ownership record), re-armed by an operator.

use crate::error::{Error, Result};
use crate::ids::TaskId;
use crate::runtime::records::Record;
use crate::store::{Op, Version};

use super::{Admin, CAS_RETRIES, unknown};

impl Admin {
    /// Re-arms a done task: the leader places it again and a worker runs
    /// it (an update re-arms it too). A task that is not done is left as
    /// it is.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::MalformedRecord`] if the task's
    /// record or the change log does not decode; store errors.
    pub async fn rearm_task(&self, id: &TaskId) -> Result<()> {
        self.modify(id, |old| {
            let mut record = old.clone();
            record.done = false;
            record.encode()
        })
        .await
    }

    /// Marks `id` done for the worker whose ownership record of it is at
    /// `owner_version`, in one multi with a check of that record: a worker
    /// that lost the task meanwhile changes nothing. Returns whether the
    /// task was marked.
    ///
    /// # Errors
    /// [`Error::UnknownTask`]; [`Error::MalformedRecord`] if the task's
    /// record or the change log does not decode; store errors.
    pub(crate) async fn mark_done(&self, id: &TaskId, owner_version: Version) -> Result<bool> {
        let owner = self.layout.owner(id);
        for _ in 0..CAS_RETRIES {
            let bump = self.bump(id).await?;
            let (mut record, version) = self.read_task(id).await?;
            record.done = true;
            let ops = [
                Op::Check {
                    path: owner.clone(),
                    version: Some(owner_version),
                },
                Op::Set {
                    path: self.layout.task(id),
                    data: record.encode()?,
                    version: Some(version),
                },
                bump,
            ];
            match self.store.multi(&ops).await {
                Ok(_) => return Ok(true),
                Err(e) if e.is_conflict() || e.is_not_found() => {
                    let held = self.store.get(&owner).await?;
                    if held.is_none_or(|node| node.version != owner_version) {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(unknown(id, e)),
            }
        }
        Err(Error::VersionConflict {
            path: self.layout.task(id).clone(),
        })
    }
}

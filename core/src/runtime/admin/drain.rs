//! Draining a worker: it takes no tasks, hands over those it runs, and
//! keeps running, until undrained.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::ids::WorkerId;
use crate::runtime::admin::{Admin, CAS_RETRIES};
use crate::runtime::leader::drained::{self, DrainedRecord};
use crate::runtime::records::Record;
use crate::store::CreateMode;

impl Admin {
    /// Drains `worker`: the leader gives it no tasks and moves those it
    /// runs to the other workers, each by the usual handoff (the worker
    /// stops it before another starts it). The worker keeps running and
    /// registered. The marker is kept in the store (the `drained` node
    /// under the cluster's root), so it survives a leader change and the
    /// worker's restart; a worker not registered now may be drained ahead.
    ///
    /// A task no other worker can take (pinned to the drained worker, or
    /// needing tags only it has) is stopped and waits until the worker is
    /// undrained or an eligible worker joins. Draining a drained worker
    /// changes nothing.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] if the `drained` node does not decode
    /// (nothing is changed); store errors.
    pub async fn drain_worker(&self, worker: &WorkerId) -> Result<()> {
        self.change_drained(|set| set.insert(worker.clone())).await
    }

    /// Undrains `worker`: the leader may give it tasks again. Undraining a
    /// worker that is not drained changes nothing.
    ///
    /// # Errors
    /// As [`Admin::drain_worker`].
    pub async fn undrain_worker(&self, worker: &WorkerId) -> Result<()> {
        self.change_drained(|set| set.remove(worker)).await
    }

    /// The drained workers, registered or not.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] if the `drained` node does not decode;
    /// store errors.
    pub async fn drained(&self) -> Result<BTreeSet<WorkerId>> {
        let path = drained::path(&self.layout)?;
        Ok(match self.store.get(&path).await? {
            Some(node) => DrainedRecord::decode(&path, &node.data)?.workers,
            None => BTreeSet::new(),
        })
    }

    /// Read-modify-write of the `drained` node by compare-and-set; `edit`
    /// says whether it changed the set (nothing is written if not).
    async fn change_drained(&self, edit: impl Fn(&mut BTreeSet<WorkerId>) -> bool) -> Result<()> {
        let path = drained::path(&self.layout)?;
        for _ in 0..CAS_RETRIES {
            let node = self.store.get(&path).await?;
            let mut record = match &node {
                Some(n) => DrainedRecord::decode(&path, &n.data)?,
                None => DrainedRecord::default(),
            };
            if !edit(&mut record.workers) {
                return Ok(());
            }
            let data = record.encode()?;
            let written = match node {
                Some(n) => self
                    .store
                    .set(&path, &data, Some(n.version))
                    .await
                    .map(drop),
                None => self
                    .store
                    .create(&path, &data, CreateMode::Persistent)
                    .await
                    .map(drop),
            };
            match written {
                Err(
                    Error::VersionConflict { .. }
                    | Error::AlreadyExists { .. }
                    | Error::NotFound { .. },
                ) => {
                    continue;
                }
                other => return other,
            }
        }
        Err(Error::VersionConflict { path: path.clone() })
    }
}

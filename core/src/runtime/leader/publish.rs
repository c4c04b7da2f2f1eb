//! Writing the leader's decisions: per-worker targets and the open list,
//! each write fenced by the leader's term.

use std::collections::BTreeMap;

use tracing::debug;

use crate::error::Result;
use crate::ids::{TaskId, WorkerId};
use crate::runtime::leader::plan::LeaderState;
use crate::runtime::records::{OpenRecord, OpenTask, Revision, TargetRecord, decode, encode};
use crate::runtime::view;
use crate::runtime::worker::Inner;
use crate::store::{CreateMode, Op, Path};
use crate::strategy::{Target, TaskInfo};

impl LeaderState {
    pub(super) async fn publish(
        &mut self,
        inner: &Inner,
        live: &[WorkerId],
        target: &Target,
        tasks: &[TaskInfo],
        revisions: &BTreeMap<TaskId, Revision>,
    ) -> Result<()> {
        let layout = &inner.layout;
        self.load_published(inner).await?;
        let mut wanted: BTreeMap<WorkerId, TargetRecord> = live
            .iter()
            .map(|w| {
                let seen = self.ages.get(w);
                (
                    w.clone(),
                    TargetRecord {
                        term: self.term,
                        tasks: BTreeMap::new(),
                        seen_ms: seen.map(|s| s.ms),
                        seen_session: seen.map(|s| s.session),
                    },
                )
            })
            .collect();
        for (task, worker) in &target.placements {
            if let (Some(rec), Some(v)) = (wanted.get_mut(worker), revisions.get(task)) {
                rec.tasks.insert(task.clone(), *v);
            }
        }
        // Targets first emptied, then filled: a task moving from A to B is
        // released by A while B already waits for it.
        let published = self.published.clone().unwrap_or_default();
        for (worker, old) in &published {
            if !wanted.contains_key(worker) {
                self.write(inner, &layout.target(worker), None, true)
                    .await?;
                if let Some(p) = &mut self.published {
                    p.remove(worker);
                }
                debug!(worker = %worker, tasks = old.tasks.len(), "target of a departed worker removed");
            }
        }
        for (worker, rec) in wanted {
            let old = published.get(&worker);
            if old.is_some_and(|o| {
                o.tasks == rec.tasks
                    && o.seen_ms == rec.seen_ms
                    && o.seen_session == rec.seen_session
            }) {
                continue;
            }
            let data = encode(&rec)?;
            self.write(inner, &layout.target(&worker), Some(data), old.is_some())
                .await?;
            if let Some(p) = &mut self.published {
                p.insert(worker, rec);
            }
        }
        let open = OpenRecord {
            term: self.term,
            tasks: target
                .open
                .iter()
                .filter_map(|t| {
                    let revision = *revisions.get(t)?;
                    let info = tasks
                        .binary_search_by(|i| i.id.cmp(t))
                        .ok()
                        .map(|i| &tasks[i])?;
                    Some((
                        t.clone(),
                        OpenTask {
                            revision,
                            tags: info.tags.clone(),
                            pinned: info.pinned.clone(),
                        },
                    ))
                })
                .collect(),
        };
        if self
            .published_open
            .as_ref()
            .is_none_or(|o| o.tasks != open.tasks)
        {
            self.write(inner, layout.open(), Some(encode(&open)?), true)
                .await?;
            self.published_open = Some(open);
        }
        Ok(())
    }

    /// Reads the published targets and open list once after election (or
    /// after an error).
    pub(super) async fn load_published(&mut self, inner: &Inner) -> Result<()> {
        let store = &*inner.store;
        let layout = &inner.layout;
        if self.published.is_none() {
            let existing = view::targets(store, layout).await?;
            self.published = Some(existing.into_iter().map(|(w, (rec, _))| (w, rec)).collect());
        }
        if self.published_open.is_none() {
            let open = match store.get(layout.open()).await? {
                Some(n) if !n.data.is_empty() => decode("open", &n.data).unwrap_or_default(),
                _ => OpenRecord::default(),
            };
            self.published_open = Some(open);
        }
        Ok(())
    }

    /// One write fenced by the term: set (or create) `path` to `data`, or
    /// delete it when `data` is `None`.
    async fn write(
        &self,
        inner: &Inner,
        path: &Path,
        data: Option<Vec<u8>>,
        exists: bool,
    ) -> Result<()> {
        let check = Op::Check {
            path: inner.layout.term().clone(),
            version: Some(self.term_version),
        };
        let op = match (data, exists) {
            (None, _) => Op::Delete {
                path: path.clone(),
                version: None,
            },
            (Some(data), true) => Op::Set {
                path: path.clone(),
                data,
                version: None,
            },
            (Some(data), false) => Op::Create {
                path: path.clone(),
                data,
                mode: CreateMode::Persistent,
            },
        };
        match inner.store.multi(&[check, op]).await {
            Ok(_) => Ok(()),
            Err(crate::Error::NotFound { path: p }) if p == path.as_str() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

//! Writing the leader's decisions: per-worker targets and the open list,
//! each write fenced by the leader's term.

use std::collections::BTreeMap;

use tracing::debug;

use crate::error::Result;
use crate::ids::WorkerId;
use crate::runtime::leader::plan::{Decision, LeaderState};
use crate::runtime::leader::standby::Plans;
use crate::runtime::member::Member;
use crate::runtime::records::{OpenRecord, OpenTask, Record, TargetRecord};
use crate::runtime::view;
use crate::store::{CreateMode, Op, Path};

impl LeaderState {
    pub(super) async fn publish(
        &mut self,
        member: &Member,
        decision: &Decision<'_>,
        plans: &Plans,
    ) -> Result<()> {
        let Decision {
            live,
            target,
            tasks,
            revisions,
            frozen,
        } = *decision;
        let layout = &member.layout;
        self.load_published(member).await?;
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
                        standby: plans.get(w).cloned().unwrap_or_default(),
                    },
                )
            })
            .collect();
        for (task, worker) in &target.placements {
            if let (Some(rec), Some(v)) = (wanted.get_mut(worker), revisions.get(task)) {
                rec.tasks.insert(task.clone(), *v);
            }
        }
        let published = self.published.clone().unwrap_or_default();
        // Tasks whose records do not decode stay where they are.
        for (worker, old) in &published {
            if let (Some(old), Some(rec)) = (old, wanted.get_mut(worker)) {
                for (task, revision) in &old.tasks {
                    if frozen.contains(task) {
                        rec.tasks.insert(task.clone(), *revision);
                    }
                }
            }
        }
        // Targets first emptied, then filled: a task moving from A to B is
        // released by A while B already waits for it.
        for (worker, old) in &published {
            if !wanted.contains_key(worker) {
                self.write(member, &layout.target(worker), None, true)
                    .await?;
                if let Some(p) = &mut self.published {
                    p.remove(worker);
                }
                let tasks = old.as_ref().map_or(0, |o| o.tasks.len());
                debug!(worker = %worker, tasks, "target of a departed worker removed");
            }
        }
        for (worker, mut rec) in wanted {
            let old = published.get(&worker);
            // The term is not compared: a new leader leaves a target that
            // says the same thing as it is.
            let unchanged = |rec: &TargetRecord| {
                old.and_then(Option::as_ref).is_some_and(|o| {
                    o.tasks == rec.tasks
                        && o.seen_ms == rec.seen_ms
                        && o.seen_session == rec.seen_session
                        && o.standby == rec.standby
                })
            };
            if unchanged(&rec) {
                continue;
            }
            let mut data = rec.encode()?;
            if data.len() > member.store.info().max_payload / 2 && !rec.standby.is_empty() {
                // The plans are a hint: a target near the backend's limit
                // goes without them rather than not at all.
                rec.standby.clear();
                if unchanged(&rec) {
                    continue;
                }
                data = rec.encode()?;
            }
            self.write(member, &layout.target(&worker), Some(data), old.is_some())
                .await?;
            if let Some(p) = &mut self.published {
                p.insert(worker, Some(rec));
            }
        }
        let old_open = self.published_open.clone().flatten();
        let kept = old_open
            .iter()
            .flat_map(|o| &o.tasks)
            .filter(|(t, _)| frozen.contains(*t))
            .map(|(t, open)| (t.clone(), open.clone()));
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
                .chain(kept)
                .collect(),
        };
        if old_open.is_none_or(|o| o.tasks != open.tasks) {
            self.write(member, layout.open(), Some(open.encode()?), true)
                .await?;
            self.published_open = Some(Some(open));
        }
        // Whatever of its own did not decode is written again by now.
        self.published_malformed.clear();
        Ok(())
    }

    /// Reads the published targets and open list once after election (or
    /// after an error).
    pub(super) async fn load_published(&mut self, member: &Member) -> Result<()> {
        let store = &*member.store;
        let layout = &member.layout;
        if self.published.is_none() {
            let existing = view::targets(store, layout).await?;
            self.published_malformed.clear();
            let mut published: BTreeMap<_, _> = existing
                .records
                .into_iter()
                .map(|(w, (rec, _))| (w, Some(rec)))
                .collect();
            for (worker, e) in existing.malformed {
                published.insert(worker, None);
                self.published_malformed.push(e);
            }
            self.published = Some(published);
        }
        if self.published_open.is_none() {
            let open = match store.get(layout.open()).await? {
                Some(n) => OpenRecord::decode(layout.open(), &n.data),
                None => Ok(OpenRecord::default()),
            };
            self.published_open = Some(match open {
                Ok(open) => Some(open),
                Err(e) => {
                    self.published_malformed.push(e);
                    None
                }
            });
        }
        Ok(())
    }

    /// One write fenced by the term: set (or create) `path` to `data`, or
    /// delete it when `data` is `None`.
    async fn write(
        &self,
        member: &Member,
        path: &Path,
        data: Option<Vec<u8>>,
        exists: bool,
    ) -> Result<()> {
        let check = Op::Check {
            path: member.layout.term().clone(),
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
        match member.store.multi(&[check, op]).await {
            Ok(_) => Ok(()),
            Err(crate::Error::NotFound { path: p }) if p == path.as_str() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

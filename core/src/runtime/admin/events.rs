//! Following ownership: a stream of claims, releases, takeovers and moves,
//! derived from watching the ownership records and the live workers.

use std::collections::BTreeMap;
use std::time::SystemTime;

use futures::Stream;
use tokio::sync::mpsc;
use tracing::debug;

use crate::error::Result;
use crate::ids::{TaskId, WorkerId};
use crate::runtime::admin::Admin;
use crate::runtime::events::{OwnershipChange, OwnershipEvent};
use crate::runtime::owners::OwnerView;
use crate::runtime::records::{OwnerRecord, WorkerRecord};
use crate::runtime::view;

/// How a task's last owner let go.
#[derive(Clone)]
enum Gone {
    Released(WorkerId),
    Lost(WorkerId),
}

impl Admin {
    /// A stream of ownership events, as this observer sees them: each time
    /// the ownership records change, the new records are compared with the
    /// previous ones. A release is told from a loss by the registration of
    /// the previous owner: still registered under the same session after
    /// its record went (it let go), or already unregistered while its record
    /// still existed (a graceful shutdown leaves the cluster first, then
    /// releases); an ended session takes the registration and the records
    /// away together, which is a loss. Changes that
    /// happen between two reads are coalesced (a claim and its release in
    /// the same instant may not show). The stream ends when the store
    /// closes.
    pub fn ownership_events(&self) -> impl Stream<Item = OwnershipEvent> + Send + 'static {
        let (tx, rx) = mpsc::channel(1024);
        let admin = self.clone();
        tokio::spawn(async move {
            if let Err(e) = admin.follow(tx).await {
                debug!(error = %e, "ownership event stream ended");
            }
        });
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) })
    }

    async fn follow(&self, tx: mpsc::Sender<OwnershipEvent>) -> Result<()> {
        let store = &*self.store;
        let mut previous: BTreeMap<TaskId, OwnerRecord> = BTreeMap::new();
        let mut gone: BTreeMap<TaskId, Gone> = BTreeMap::new();
        let mut first = true;
        // The registrations read just before the owners read that last
        // saw each record.
        let mut registered_before = BTreeMap::new();
        let mut owners: Option<OwnerView> = None;
        loop {
            let read = async {
                // A registration that does not decode counts as absent
                // here: events only tell what an observer sees.
                let listing = view::workers(store, &self.layout, true).await?;
                let before = (listing.records, listing.watch);
                match &mut owners {
                    None => owners = Some(OwnerView::read(store, &self.layout).await?),
                    Some(view) => {
                        // A record whose owner is not registered may be
                        // gone with its session: read it after the
                        // registrations, whatever the watches have told so
                        // far, or a loss could look like a release.
                        let (registrations, _) = &before;
                        let unregistered: Vec<TaskId> = view
                            .records
                            .iter()
                            .filter(|(_, (rec, _))| {
                                registrations
                                    .get(&rec.worker)
                                    .is_none_or(|(w, _)| w.session != rec.session)
                            })
                            .map(|(t, _)| t.clone())
                            .collect();
                        view.reread(unregistered);
                        view.refresh(store, &self.layout).await?;
                    }
                }
                Ok::<_, crate::Error>(before)
            };
            let (before, workers_watch) = match read.await {
                Ok(x) => x,
                Err(e) if e.is_retryable() => {
                    owners = None;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(view) = owners.as_mut() else {
                continue;
            };
            let mut current: BTreeMap<TaskId, OwnerRecord> = view
                .records
                .iter()
                .map(|(t, (r, _))| (t.clone(), r.clone()))
                .collect();
            // A record that does not decode tells nothing about who holds
            // its task: no event until it decodes or goes.
            for task in view.malformed.keys() {
                if let Some(old) = previous.get(task) {
                    current.insert(task.clone(), old.clone());
                }
            }
            let mut events = Vec::new();
            if !first {
                let workers = view::workers(store, &self.layout, false).await?.records;
                let registered = |ws: &view::Records<WorkerId, WorkerRecord>, rec: &OwnerRecord| {
                    ws.get(&rec.worker)
                        .is_some_and(|(w, _)| w.session == rec.session)
                };
                let alive = |rec: &OwnerRecord| {
                    registered(&workers, rec) || !registered(&registered_before, rec)
                };
                for (task, old) in &previous {
                    let new = current.get(task);
                    if new.is_some_and(|n| n.worker == old.worker && n.session == old.session) {
                        continue;
                    }
                    let (change, g) = if alive(old) {
                        (
                            OwnershipChange::Released,
                            Gone::Released(old.worker.clone()),
                        )
                    } else {
                        (OwnershipChange::Lost, Gone::Lost(old.worker.clone()))
                    };
                    gone.insert(task.clone(), g);
                    events.push(event(task, &old.worker, old.token, change));
                }
                for (task, new) in &current {
                    match previous.get(task) {
                        Some(old) if old.worker == new.worker && old.session == new.session => {
                            if old.token != new.token {
                                events.push(event(
                                    task,
                                    &new.worker,
                                    new.token,
                                    OwnershipChange::Renewed,
                                ));
                            }
                            continue;
                        }
                        _ => {}
                    }
                    let change = match gone.remove(task) {
                        Some(Gone::Lost(from)) if from != new.worker => {
                            OwnershipChange::TakenOver { from }
                        }
                        Some(Gone::Released(from)) if from != new.worker => {
                            OwnershipChange::Moved { from }
                        }
                        _ => OwnershipChange::Claimed,
                    };
                    events.push(event(task, &new.worker, new.token, change));
                }
            }
            first = false;
            registered_before = before;
            for e in events {
                if tx.send(e).await.is_err() {
                    return Ok(());
                }
            }
            previous = current;
            // Registrations are followed too, so that a worker leaving
            // before it releases is seen leaving first.
            if let Some(workers) = workers_watch {
                let owners_changed = futures::future::poll_fn(|cx| view.poll_fired(cx));
                tokio::select! {
                    () = owners_changed => {}
                    _ = workers => {}
                    _ = tx.closed() => return Ok(()),
                }
            }
        }
    }
}

fn event(task: &TaskId, worker: &WorkerId, token: u64, change: OwnershipChange) -> OwnershipEvent {
    OwnershipEvent {
        at: SystemTime::now(),
        task: task.clone(),
        worker: worker.clone(),
        token,
        change,
    }
}

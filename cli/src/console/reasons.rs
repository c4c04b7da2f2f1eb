//! Why an ownership event happened, as far as an observer of the store can
//! tell. A release is explained by reading the task and the previous
//! owner's registration right after it: removed, paused, the worker
//! leaving, or a handoff. Reads are bounded, so a slow server delays an
//! event by at most [`LOOKUP_LIMIT`] and leaves a plainer reason.

use std::time::Duration;

use tenure_core::internals::records::TaskRecord;
use tenure_core::{Admin, OwnershipChange, OwnershipEvent};

/// How long the reads that explain a release may take.
pub const LOOKUP_LIMIT: Duration = Duration::from_secs(1);

/// The reason of `event`.
pub async fn explain(admin: &Admin, event: &OwnershipEvent) -> String {
    let w = &event.worker;
    let t = event.token;
    match &event.change {
        OwnershipChange::Claimed => format!("{w} claimed it (token {t}); nobody held it before"),
        OwnershipChange::Released => {
            match tokio::time::timeout(LOOKUP_LIMIT, why_released(admin, event)).await {
                Ok(Some(why)) => format!("{w} let it go: {why}"),
                _ => format!(
                    "{w} let it go while alive (a handoff, a pause, a removal or a shutdown)"
                ),
            }
        }
        OwnershipChange::Lost => format!(
            "{w}'s session ended while it held the task (a crash, a network partition, or a \
             pause longer than the session timeout)"
        ),
        OwnershipChange::TakenOver { from } => {
            format!("{w} took it over (token {t}) after {from}'s session ended")
        }
        OwnershipChange::Moved { from } => {
            format!(
                "{from} handed it over to {w} (token {t}): a rebalance, a pin or {from} leaving"
            )
        }
        OwnershipChange::Renewed => format!(
            "{w} claimed it again with token {t}: its connection came back, or the task was updated"
        ),
    }
}

async fn why_released(admin: &Admin, event: &OwnershipEvent) -> Option<&'static str> {
    let store = admin.store();
    let layout = admin.layout();
    let task = store.get(&layout.task(&event.task)).await.ok()?;
    let Some(task) = task else {
        return Some("the task was removed");
    };
    if serde_json::from_slice::<TaskRecord>(&task.data).is_ok_and(|r| r.paused) {
        return Some("the task was paused");
    }
    let registered = store.get(&layout.worker(&event.worker)).await.ok()?;
    Some(if registered.is_none() {
        "the worker is leaving the cluster"
    } else {
        "a handoff to another worker (rebalance, pin or update)"
    })
}

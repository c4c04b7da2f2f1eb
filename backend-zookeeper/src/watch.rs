//! ZooKeeper's one-shot watchers, bridged to tenure's [`Watch`].

use std::time::Duration;

use tenure_core::{Watch, WatchEvent};
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

/// How often a bridge checks whether its [`Watch`] was dropped, so that
/// abandoned watches do not pin a task until the node next changes.
const ABANDON_CHECK: Duration = Duration::from_secs(1);

/// The tenure event for a ZooKeeper watch event. Session events (expiry,
/// authentication failure, close) are the only ones a one-shot watcher sees
/// besides node events, and all of them end the watch: `Lost`.
pub(crate) fn event(watched: &zk::WatchedEvent) -> WatchEvent {
    match watched.event_type {
        zk::EventType::NodeCreated => WatchEvent::Created,
        zk::EventType::NodeDeleted => WatchEvent::Deleted,
        zk::EventType::NodeDataChanged => WatchEvent::Changed,
        zk::EventType::NodeChildrenChanged => WatchEvent::ChildrenChanged,
        zk::EventType::Session => WatchEvent::Lost,
    }
}

/// A [`Watch`] that fires with `watcher`'s event, or `Lost` as soon as the
/// store is closed (`closed`).
pub(crate) fn bridge(watcher: zk::OneshotWatcher, closed: CancellationToken) -> Watch {
    let (sender, watch) = Watch::channel();
    tokio::spawn(async move {
        let changed = watcher.changed();
        tokio::pin!(changed);
        let mut check = tokio::time::interval(ABANDON_CHECK);
        loop {
            tokio::select! {
                watched = &mut changed => {
                    sender.fire(event(&watched));
                    return;
                }
                _ = closed.cancelled() => {
                    sender.fire(WatchEvent::Lost);
                    return;
                }
                _ = check.tick() => {
                    if sender.is_abandoned() {
                        return;
                    }
                }
            }
        }
    });
    watch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_events_map_one_to_one() {
        let cases = [
            (zk::EventType::NodeCreated, WatchEvent::Created),
            (zk::EventType::NodeDeleted, WatchEvent::Deleted),
            (zk::EventType::NodeDataChanged, WatchEvent::Changed),
            (
                zk::EventType::NodeChildrenChanged,
                WatchEvent::ChildrenChanged,
            ),
        ];
        for (zk_event, want) in cases {
            assert_eq!(event(&zk::WatchedEvent::new(zk_event, "/a")), want);
        }
    }
}

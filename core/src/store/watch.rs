//! One-shot watches: a value you hold that resolves at the first change.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

/// What changed, as reported by a [`Watch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// The watched node was created.
    Created,
    /// The watched node's data changed.
    Changed,
    /// The watched node was deleted.
    Deleted,
    /// The children of the watched node changed.
    ChildrenChanged,
    /// The watch can no longer report changes (the session ended or the
    /// store was closed). Whatever was watched may have changed: re-read it.
    Lost,
}

/// A one-shot watch, armed atomically with a read: it resolves at the first
/// change after that read, so no change between the read and the watch is
/// ever missed. Re-read and re-arm to keep watching; changes in between are
/// coalesced, which is what a level-triggered reconciler wants.
#[must_use = "a watch does nothing unless awaited"]
#[derive(Debug)]
pub struct Watch {
    rx: oneshot::Receiver<WatchEvent>,
}

/// The sending half of a [`Watch`], held by a backend.
#[derive(Debug)]
pub struct WatchSender {
    tx: oneshot::Sender<WatchEvent>,
}

impl Watch {
    /// A connected pair: the backend keeps the sender and fires it once.
    pub fn channel() -> (WatchSender, Watch) {
        let (tx, rx) = oneshot::channel();
        (WatchSender { tx }, Watch { rx })
    }

    /// Waits for the change. Same as awaiting the watch itself.
    pub async fn changed(self) -> WatchEvent {
        self.await
    }
}

impl WatchSender {
    /// Fires the watch. A watch whose [`Watch`] was dropped is silently
    /// discarded.
    pub fn fire(self, event: WatchEvent) {
        let _ = self.tx.send(event);
    }

    /// Whether the [`Watch`] was dropped, so firing would do nothing.
    pub fn is_abandoned(&self) -> bool {
        self.tx.is_closed()
    }
}

impl Future for Watch {
    type Output = WatchEvent;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WatchEvent> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(WatchEvent::Lost))
    }
}

//! The ownership events the console has seen: kept (up to `--history`)
//! for the Live page and the timeline, and passed on to every open event
//! stream. One follower reads them from the cluster for all viewers and
//! starts again when its stream ends (the session ended, the servers were
//! away), leaving a gap entry that says changes in between are not shown.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::output::schema::{EventDoc, SCHEMA, millis};

/// An ownership event with its place in the history and why it happened.
#[derive(Debug, Serialize)]
pub struct EventJson {
    /// The event, as `tenure watch --json` prints it.
    #[serde(flatten)]
    pub event: EventDoc,
    /// Its number in this console's history (strictly increasing).
    pub seq: u64,
    /// Why it happened, as far as the console can tell.
    pub reason: String,
}

/// A stretch of time whose events the console may have missed.
#[derive(Debug, Serialize)]
pub struct GapJson {
    /// [`SCHEMA`].
    pub schema: u32,
    /// `gap`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its number in this console's history.
    pub seq: u64,
    /// When the event stream ended, in milliseconds since the Unix epoch.
    pub from_ms: u64,
    /// When it was following again.
    pub to_ms: u64,
    /// What happened.
    pub detail: String,
}

/// One history entry.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Entry {
    /// An ownership event.
    Event(EventJson),
    /// Events may be missing here.
    Gap(GapJson),
}

impl Entry {
    /// Its number in the history.
    pub fn seq(&self) -> u64 {
        match self {
            Entry::Event(e) => e.seq,
            Entry::Gap(g) => g.seq,
        }
    }
}

struct History {
    entries: VecDeque<Arc<Entry>>,
    next: u64,
    /// Since when the history is complete (events before were dropped, or
    /// happened before the console started).
    complete_from_ms: u64,
}

/// The history and the broadcast of new entries.
pub struct Hub {
    history: Mutex<History>,
    capacity: usize,
    tx: broadcast::Sender<Arc<Entry>>,
}

impl Hub {
    /// A hub keeping `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Hub {
            history: Mutex::new(History {
                entries: VecDeque::new(),
                next: 1,
                complete_from_ms: millis(SystemTime::now()),
            }),
            capacity: capacity.max(1),
            tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, History> {
        // A panic while holding the lock cannot leave the history
        // inconsistent (each change is one push or pop), so a poisoned
        // lock is used as it is.
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, make: impl FnOnce(u64) -> Entry) {
        let entry = {
            let mut h = self.lock();
            let entry = Arc::new(make(h.next));
            h.next += 1;
            h.entries.push_back(entry.clone());
            while h.entries.len() > self.capacity {
                if let Some(Entry::Event(e)) = h.entries.pop_front().as_deref() {
                    h.complete_from_ms = h.complete_from_ms.max(e.event.at_ms);
                }
            }
            entry
        };
        // No viewer listening is fine.
        let _ = self.tx.send(entry);
    }

    /// Records an event.
    pub fn push_event(&self, event: EventDoc, reason: String) {
        self.push(|seq| Entry::Event(EventJson { event, seq, reason }));
    }

    /// Records a gap.
    pub fn push_gap(&self, from_ms: u64, to_ms: u64, detail: String) {
        self.push(|seq| {
            Entry::Gap(GapJson {
                schema: SCHEMA,
                kind: "gap",
                seq,
                from_ms,
                to_ms,
                detail,
            })
        });
    }

    /// New entries from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Entry>> {
        self.tx.subscribe()
    }

    /// The entries after `after` (all kept ones for `None`), at most the
    /// last `limit` of them, oldest first.
    pub fn after(&self, after: Option<u64>, limit: usize) -> Vec<Arc<Entry>> {
        let h = self.lock();
        let start = after.map_or(0, |seq| h.entries.partition_point(|e| e.seq() <= seq));
        let kept = h.entries.len() - start;
        h.entries
            .iter()
            .skip(start + kept.saturating_sub(limit))
            .cloned()
            .collect()
    }

    /// Every entry kept, oldest first, and since when the history is
    /// complete.
    pub fn all(&self) -> (Vec<Arc<Entry>>, u64) {
        let h = self.lock();
        (h.entries.iter().cloned().collect(), h.complete_from_ms)
    }

    /// The number of the newest entry (0 when there is none).
    pub fn last_seq(&self) -> u64 {
        self.lock().next - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(task: &str, at_ms: u64) -> EventDoc {
        EventDoc {
            schema: SCHEMA,
            kind: "event",
            at_ms,
            task: task.into(),
            worker: "w".into(),
            token: 1,
            change: "claimed",
            from: None,
        }
    }

    #[test]
    fn history_keeps_the_newest_and_knows_since_when_it_is_complete() {
        let hub = Hub::new(3);
        let mut rx = hub.subscribe();
        let started = hub.all().1;
        for i in 0..5u64 {
            hub.push_event(doc(&format!("t{i}"), started + i), "r".into());
        }
        let (entries, complete) = hub.all();
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq()).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(complete, started + 1, "events up to t1 were dropped");
        assert_eq!(hub.last_seq(), 5);
        let after: Vec<u64> = hub.after(Some(3), 10).iter().map(|e| e.seq()).collect();
        assert_eq!(after, [4, 5]);
        let last: Vec<u64> = hub.after(None, 1).iter().map(|e| e.seq()).collect();
        assert_eq!(last, [5]);
        assert_eq!(rx.try_recv().unwrap().seq(), 1, "every entry is broadcast");
    }
}

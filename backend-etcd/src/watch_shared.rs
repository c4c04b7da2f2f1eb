//! Node watches that share one etcd range watch per folder.
//!
//! A client that watches many nodes of one folder (the leader watches
//! every ownership record: 10,000 at 10,000 tasks) would hold as many etcd
//! watchers, each created with its own request, and re-created after each
//! event. etcd keeps a watcher armed at a revision it has passed as
//! "unsynced" and catches it up from its store every 100 ms; a burst of
//! hundreds (a lease revoked with its keys, each record read again with a
//! new watch) slowed every write of the server: measured at 10,000 tasks ×
//! 20 workers, a takeover took 930 ms above the server's deletion with a
//! watcher per record and 536 ms with none (BENCHMARKS.md). So from
//! [`SHARE_FROM`] node watches under one folder on, new ones join one etcd
//! watch of the whole folder's range instead, which the client filters: a
//! node watch armed after a read at revision `r - 1` fires at the first
//! event on its key at revision `r` or later, exactly as its own watch
//! would. A folder watch started at `s` serves only node watches from
//! `s` on (the events before `s` are not replayed to it); an older one
//! gets a watch of its own. Below the threshold (a worker waiting for a few
//! tasks) nothing changes: a folder's range watch would carry every other
//! worker's changes too.

use std::collections::HashMap;

use tenure_core::WatchEvent;

/// From this many node watches under one folder on, they share a range
/// watch of the folder.
pub(crate) const SHARE_FROM: usize = 64;

/// A node watch waiting on a shared range watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiter {
    group: u64,
    /// The first revision that fires it.
    start: i64,
}

/// One range watch over a folder, and the node watches it serves.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Its etcd watch id.
    pub(crate) id: i64,
    /// The folder's prefix (the key of a child up to its last `/`).
    pub(crate) prefix: Vec<u8>,
    /// The revision it started from: it serves node watches from here on.
    start: i64,
    /// The revision to (re)start from: after the last event seen.
    pub(crate) next: i64,
    waiters: HashMap<Vec<u8>, Vec<Waiter>>,
}

/// Where a new node watch went.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Onto an existing range watch: nothing to send.
    Joined,
    /// Onto a new range watch, with this id: create it.
    Opened(i64),
    /// Nowhere: it needs an etcd watch of its own.
    Own,
}

/// One event on a shared range, as the node watches see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) key: Vec<u8>,
    pub(crate) revision: i64,
    pub(crate) event: WatchEvent,
}

/// Every shared range watch of a client, and how many node watches of
/// their own each folder has.
#[derive(Debug, Default)]
pub(crate) struct SharedWatches {
    by_prefix: HashMap<Vec<u8>, Shared>,
    by_id: HashMap<i64, Vec<u8>>,
    own: HashMap<Vec<u8>, usize>,
}

impl SharedWatches {
    /// Places node watch `id` of `group` on `key`, firing from revision
    /// `start`.
    pub(crate) fn place(&mut self, id: i64, key: &[u8], start: i64, group: u64) -> Placed {
        let Some(prefix) = folder_of(key) else {
            return Placed::Own;
        };
        let waiter = Waiter { group, start };
        if let Some(shared) = self.by_prefix.get_mut(&prefix) {
            if shared.start <= start {
                shared.waiters.entry(key.to_vec()).or_default().push(waiter);
                return Placed::Joined;
            }
            *self.own.entry(prefix).or_default() += 1;
            return Placed::Own;
        }
        let own = self.own.get(&prefix).copied().unwrap_or(0);
        if own + 1 < SHARE_FROM {
            *self.own.entry(prefix).or_default() += 1;
            return Placed::Own;
        }
        let mut waiters = HashMap::new();
        waiters.insert(key.to_vec(), vec![waiter]);
        self.by_id.insert(id, prefix.clone());
        self.by_prefix.insert(
            prefix.clone(),
            Shared {
                id,
                prefix,
                start,
                next: start,
                waiters,
            },
        );
        Placed::Opened(id)
    }

    /// A node watch of its own on `key` ended.
    pub(crate) fn own_ended(&mut self, key: &[u8]) {
        if let Some(prefix) = folder_of(key)
            && let Some(n) = self.own.get_mut(&prefix)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.own.remove(&prefix);
            }
        }
    }

    /// Removes `group`'s node watch on `key`; returns the id of the range
    /// watch to cancel if it serves nothing any more.
    pub(crate) fn leave(&mut self, key: &[u8], group: u64) -> Option<i64> {
        let prefix = folder_of(key)?;
        let shared = self.by_prefix.get_mut(&prefix)?;
        if let Some(waiters) = shared.waiters.get_mut(key) {
            waiters.retain(|w| w.group != group);
            if waiters.is_empty() {
                shared.waiters.remove(key);
            }
        }
        if !shared.waiters.is_empty() {
            return None;
        }
        let id = shared.id;
        self.by_prefix.remove(&prefix);
        self.by_id.remove(&id);
        Some(id)
    }

    /// Whether `id` is a shared range watch.
    pub(crate) fn is_shared(&self, id: i64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// Applies the events of range watch `id`: returns the groups that
    /// fire, with their event (each once, at its first relevant change).
    /// The caller removes them with [`SharedWatches::leave`].
    pub(crate) fn on_changes(
        &mut self,
        id: i64,
        changes: &[Change],
    ) -> Vec<(u64, Vec<u8>, WatchEvent)> {
        let Some(shared) = self.by_id.get(&id).and_then(|p| self.by_prefix.get_mut(p)) else {
            return Vec::new();
        };
        let mut fired = Vec::new();
        for change in changes {
            shared.next = shared.next.max(change.revision + 1);
            let Some(waiters) = shared.waiters.get_mut(&change.key) else {
                continue;
            };
            waiters.retain(|w| {
                let fires = change.revision >= w.start;
                if fires {
                    fired.push((w.group, change.key.clone(), change.event));
                }
                !fires
            });
            if waiters.is_empty() {
                shared.waiters.remove(&change.key);
            }
        }
        fired
    }

    /// Ends range watch `id` (compacted or cancelled by the server):
    /// returns every group it served, with the key each waited on.
    pub(crate) fn end(&mut self, id: i64) -> Vec<(u64, Vec<u8>)> {
        let Some(prefix) = self.by_id.remove(&id) else {
            return Vec::new();
        };
        let Some(shared) = self.by_prefix.remove(&prefix) else {
            return Vec::new();
        };
        shared
            .waiters
            .into_iter()
            .flat_map(|(key, ws)| ws.into_iter().map(move |w| (w.group, key.clone())))
            .collect()
    }

    /// Every range watch, to create again on a new stream.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Shared> {
        self.by_prefix.values()
    }

    /// Whether any range watch is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    /// Forgets everything (every watch was lost).
    pub(crate) fn clear(&mut self) {
        self.by_prefix.clear();
        self.by_id.clear();
        self.own.clear();
    }
}

/// The prefix of `key`'s folder: `key` up to and with its last `/`.
fn folder_of(key: &[u8]) -> Option<Vec<u8>> {
    let slash = key.iter().rposition(|&b| b == b'/')?;
    Some(key[..=slash].to_vec())
}

/// The end of the range of keys that start with `prefix` (etcd's
/// `range_end`): `prefix` with its last byte one higher (the prefix ends
/// with `/`, whose successor is `0`).
pub(crate) fn range_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last = last.saturating_add(1);
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Vec<u8> {
        format!("/ns/owners/T{i}").into_bytes()
    }

    /// `SHARE_FROM - 1` node watches of their own under `/ns/owners/`.
    fn below_the_threshold() -> SharedWatches {
        let mut s = SharedWatches::default();
        for i in 0..SHARE_FROM - 1 {
            assert_eq!(s.place(i as i64, &key(i), 10, i as u64), Placed::Own);
        }
        s
    }

    fn change(i: usize, revision: i64, event: WatchEvent) -> Change {
        Change {
            key: key(i),
            revision,
            event,
        }
    }

    #[test]
    fn from_the_threshold_on_node_watches_share_one_range_watch() {
        let mut s = below_the_threshold();
        assert_eq!(s.place(100, &key(100), 10, 100), Placed::Opened(100));
        assert_eq!(s.place(101, &key(101), 12, 101), Placed::Joined);
        assert!(s.is_shared(100));
        assert_eq!(s.all().count(), 1);
        // Another folder counts on its own.
        assert_eq!(s.place(102, b"/ns/tasks/T1", 12, 102), Placed::Own);
    }

    #[test]
    fn a_node_watch_fires_at_its_key_s_first_change_from_its_start_only() {
        let mut s = below_the_threshold();
        s.place(100, &key(100), 10, 100);
        s.place(101, &key(101), 20, 101);
        let fired = s.on_changes(
            100,
            &[
                // Before 101's read: not for it.
                change(101, 15, WatchEvent::Changed),
                change(100, 16, WatchEvent::Deleted),
                change(7, 17, WatchEvent::Changed),
                change(101, 21, WatchEvent::Changed),
                // Already fired: once only.
                change(101, 22, WatchEvent::Deleted),
            ],
        );
        assert_eq!(
            fired,
            [
                (100, key(100), WatchEvent::Deleted),
                (101, key(101), WatchEvent::Changed)
            ]
        );
        assert_eq!(s.all().next().map(|sh| sh.next), Some(23));
    }

    #[test]
    fn a_watch_armed_before_the_range_watch_s_start_gets_its_own() {
        let mut s = below_the_threshold();
        s.place(100, &key(100), 30, 100);
        // Read at an older revision than the range watch starts from: the
        // events in between are not replayed to the range watch.
        assert_eq!(s.place(101, &key(101), 25, 101), Placed::Own);
    }

    #[test]
    fn the_range_watch_ends_with_its_last_node_watch() {
        let mut s = below_the_threshold();
        s.place(100, &key(100), 10, 100);
        s.place(101, &key(101), 10, 101);
        assert_eq!(s.leave(&key(100), 100), None);
        assert_eq!(s.leave(&key(101), 101), Some(100));
        assert!(s.is_empty());
        assert!(!s.is_shared(100));
    }

    #[test]
    fn own_watches_that_end_lower_the_count_below_the_threshold() {
        let mut s = below_the_threshold();
        s.own_ended(&key(0));
        assert_eq!(s.place(100, &key(100), 10, 100), Placed::Own);
        assert_eq!(s.place(101, &key(101), 10, 101), Placed::Opened(101));
    }

    #[test]
    fn an_ended_range_watch_returns_every_waiter() {
        let mut s = below_the_threshold();
        s.place(100, &key(100), 10, 100);
        s.place(101, &key(101), 10, 101);
        let mut ended = s.end(100);
        ended.sort();
        assert_eq!(ended, [(100, key(100)), (101, key(101))]);
        assert!(s.is_empty());
    }

    #[test]
    fn the_range_of_a_folder_ends_after_its_slash() {
        assert_eq!(range_end(b"/ns/owners/"), b"/ns/owners0".to_vec());
        assert_eq!(folder_of(b"/ns/owners/T1"), Some(b"/ns/owners/".to_vec()));
        assert_eq!(folder_of(b"nokey"), None);
    }
}

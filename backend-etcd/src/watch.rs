//! One etcd watch stream per store, shared by all its one-shot watches.
//!
//! Every [`Watch`] the store hands out is one or two etcd watches created
//! on the store's single gRPC watch stream, with ids the hub assigns
//! (etcd ≥ 3.4 accepts client-chosen watch ids), each starting at the
//! revision right after the read that armed it. The first relevant event
//! fires the watch and cancels its etcd watches.
//!
//! - When the stream breaks (connection lost, member restarted), the hub
//!   opens a new one and re-creates every pending watch from the revision
//!   after the last event it saw, so nothing is missed or repeated.
//! - When etcd answers that a watch's start revision has been compacted,
//!   the changes since the read can no longer be replayed: the watch fires
//!   (`Changed` for a node, `ChildrenChanged` for children) and the caller
//!   re-reads, as after any event.
//! - When the session ends or the store closes, every pending watch fires
//!   [`WatchEvent::Lost`].
//! - From 64 node watches under one folder on, new ones share one etcd
//!   watch of the folder's range (see `watch_shared.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use etcd_client::{
    Event, EventType, WatchClient, WatchFilterType, WatchOptions, WatchRequestSender,
    WatchResponse, WatchResponseStream,
};
use tenure_core::backoff::Backoff;
use tenure_core::store::WatchSender;
use tenure_core::{Watch, WatchEvent};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::watch_shared::{Change, Placed, SharedWatches, range_end};

/// Pause after a failed attempt to open the stream, doubling up to
/// [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Which events of a watched range matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    /// Every change of one key: created, changed, deleted.
    Node,
    /// Keys created or deleted in a children range (data changes ignored).
    Children,
    /// Only the deletion of one key.
    NodeDeleted,
}

/// One etcd watch: a key or a range, and what matters in it.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) key: Vec<u8>,
    pub(crate) range_end: Option<Vec<u8>>,
    pub(crate) filter: Filter,
}

enum Command {
    Add {
        group: u64,
        sender: WatchSender,
        specs: Vec<(i64, Spec)>,
        start: i64,
    },
    /// The session ended: every pending watch fires `Lost`.
    SessionEnded,
}

/// The handle to the hub task.
#[derive(Debug)]
pub(crate) struct WatchHub {
    commands: mpsc::UnboundedSender<Command>,
    next_id: AtomicI64,
    next_group: AtomicU64,
}

impl WatchHub {
    /// Starts the hub; it stops when `closed` is cancelled, firing `Lost`
    /// on every pending watch.
    pub(crate) fn start(
        client: WatchClient,
        open_timeout: Duration,
        closed: CancellationToken,
    ) -> WatchHub {
        let (commands, rx) = mpsc::unbounded_channel();
        let hub = Hub {
            client,
            open_timeout,
            entries: BTreeMap::new(),
            groups: HashMap::new(),
            shared: SharedWatches::default(),
            stream: None,
            retry_at: Instant::now(),
            backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF)
                .seeded(&format!("etcd watch #{}", std::process::id())),
        };
        tokio::spawn(hub.run(rx, closed));
        WatchHub {
            commands,
            next_id: AtomicI64::new(1),
            next_group: AtomicU64::new(1),
        }
    }

    /// A watch over `specs` from `start` (inclusive): it fires at the first
    /// relevant event of any of them.
    pub(crate) fn watch(&self, specs: Vec<Spec>, start: i64) -> Watch {
        let (sender, watch) = Watch::channel();
        let specs = specs
            .into_iter()
            .map(|s| (self.next_id.fetch_add(1, Ordering::Relaxed), s))
            .collect();
        let group = self.next_group.fetch_add(1, Ordering::Relaxed);
        // If the hub has stopped, the sender is dropped with the command
        // and the watch resolves `Lost`.
        let _ = self.commands.send(Command::Add {
            group,
            sender,
            specs,
            start,
        });
        watch
    }

    /// Fires `Lost` on every pending watch (the session ended).
    pub(crate) fn session_ended(&self) {
        let _ = self.commands.send(Command::SessionEnded);
    }
}

struct Entry {
    group: u64,
    spec: Spec,
    /// The revision to (re)start from: after the last event seen.
    next: i64,
}

/// One watch handed out: its sender, its etcd watches of its own, and the
/// keys it waits on through shared range watches.
struct Group {
    sender: WatchSender,
    ids: Vec<i64>,
    shared_keys: Vec<Vec<u8>>,
}

struct Hub {
    client: WatchClient,
    open_timeout: Duration,
    entries: BTreeMap<i64, Entry>,
    groups: HashMap<u64, Group>,
    shared: SharedWatches,
    stream: Option<(WatchRequestSender, WatchResponseStream)>,
    retry_at: Instant,
    backoff: Backoff,
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        closed: CancellationToken,
    ) {
        loop {
            if self.stream.is_none() && self.has_watches() && Instant::now() >= self.retry_at {
                self.open().await;
            }
            let waiting = self.stream.is_none() && self.has_watches();
            tokio::select! {
                // Closed first: the lease is revoked after the close, and
                // its deletions must not reach a watch as `Deleted`.
                biased;
                () = closed.cancelled() => break,
                command = commands.recv() => match command {
                    Some(Command::Add { group, sender, specs, start }) => {
                        self.add(group, sender, specs, start).await;
                    }
                    Some(Command::SessionEnded) => self.lose_all(),
                    None => break,
                },
                message = next_message(&mut self.stream) => self.on_message(message).await,
                () = sleep_until(self.retry_at), if waiting => {}
            }
        }
        self.lose_all();
    }

    fn has_watches(&self) -> bool {
        !self.entries.is_empty() || !self.shared.is_empty()
    }

    async fn add(&mut self, group: u64, sender: WatchSender, specs: Vec<(i64, Spec)>, start: i64) {
        self.cancel_abandoned().await;
        let mut ids = Vec::new();
        let mut shared_keys = Vec::new();
        let mut own = Vec::new();
        let mut opened = Vec::new();
        for (id, spec) in specs {
            if spec.filter == Filter::Node && spec.range_end.is_none() {
                match self.shared.place(id, &spec.key, start, group) {
                    Placed::Joined => {
                        shared_keys.push(spec.key);
                        continue;
                    }
                    Placed::Opened(shared) => {
                        shared_keys.push(spec.key);
                        opened.push(shared);
                        continue;
                    }
                    Placed::Own => {}
                }
            }
            ids.push(id);
            own.push((id, spec));
        }
        self.groups.insert(
            group,
            Group {
                sender,
                ids,
                shared_keys,
            },
        );
        for (id, spec) in own {
            let entry = Entry {
                group,
                spec,
                next: start,
            };
            if self.stream.is_some() {
                self.create(id, &entry).await;
            }
            self.entries.insert(id, entry);
        }
        if self.stream.is_some() {
            for id in opened {
                if let Some((key, options)) = self.shared_create(id) {
                    self.send(key, options).await;
                }
            }
        }
    }

    /// The create request of shared range watch `id`.
    fn shared_create(&self, id: i64) -> Option<(Vec<u8>, WatchOptions)> {
        let shared = self.shared.all().find(|s| s.id == id)?;
        Some((
            shared.prefix.clone(),
            shared_options(shared.id, shared.prefix.as_slice(), shared.next),
        ))
    }

    /// Opens the stream with the first pending watch and re-creates the
    /// others on it.
    async fn open(&mut self) {
        let mut creates: Vec<(Vec<u8>, WatchOptions)> = self
            .entries
            .iter()
            .map(|(&id, entry)| (entry.spec.key.clone(), options(id, entry)))
            .collect();
        creates.extend(
            self.shared
                .all()
                .map(|s| (s.prefix.clone(), shared_options(s.id, &s.prefix, s.next))),
        );
        let mut creates = creates.into_iter();
        let Some((key, first)) = creates.next() else {
            return;
        };
        let opening = self.client.watch(key, Some(first));
        match tokio::time::timeout(self.open_timeout, opening).await {
            Ok(Ok(stream)) => {
                self.stream = Some(stream.split());
                self.backoff.reset();
                for (key, options) in creates {
                    if !self.send(key, options).await {
                        return;
                    }
                }
            }
            Ok(Err(e)) => self.retry_later(&e.to_string()),
            Err(_) => self.retry_later("no answer in time"),
        }
    }

    fn retry_later(&mut self, why: &str) {
        tracing::debug!(why, "opening the etcd watch stream failed; retrying");
        self.retry_at = Instant::now() + self.backoff.next_pause();
    }

    async fn create(&mut self, id: i64, entry: &Entry) {
        let options = options(id, entry);
        self.send(entry.spec.key.clone(), options).await;
    }

    /// Sends a create request; on failure drops the stream (to be opened
    /// again). Returns whether it was sent.
    async fn send(&mut self, key: Vec<u8>, options: WatchOptions) -> bool {
        let Some((sender, _)) = self.stream.as_mut() else {
            return false;
        };
        let sent = tokio::time::timeout(self.open_timeout, sender.watch(key, Some(options))).await;
        if !matches!(sent, Ok(Ok(()))) {
            self.drop_stream("sending a watch request failed");
            return false;
        }
        true
    }

    fn drop_stream(&mut self, why: &str) {
        if self.stream.take().is_some() {
            tracing::debug!(why, "etcd watch stream dropped");
            self.retry_at = Instant::now();
        }
    }

    async fn on_message(&mut self, message: Result<Option<WatchResponse>, etcd_client::Error>) {
        let response = match message {
            Ok(Some(r)) => r,
            Ok(None) => return self.drop_stream("the server ended the stream"),
            Err(e) => return self.drop_stream(&e.to_string()),
        };
        let id = response.watch_id();
        if self.shared.is_shared(id) {
            return self.on_shared(id, &response).await;
        }
        let Some(group) = self.entries.get(&id).map(|e| e.group) else {
            return;
        };
        if response.compact_revision() > 0 {
            tracing::debug!(
                id,
                compacted = response.compact_revision(),
                "watch start revision compacted; firing so the caller re-reads"
            );
            // A children watch is two etcd watches (the range and the
            // node's own deletion); whichever meets the compaction first
            // tells the caller to re-read its children.
            let event = match self.entries.get(&id).map(|e| e.spec.filter) {
                Some(Filter::Children | Filter::NodeDeleted) => WatchEvent::ChildrenChanged,
                _ => WatchEvent::Changed,
            };
            return self.fire(group, event).await;
        }
        if response.canceled() {
            let reason = response.cancel_reason().to_string();
            if reason.contains("no leader") {
                return self.drop_stream(&reason);
            }
            tracing::warn!(id, reason, "etcd cancelled a watch");
            return self.fire(group, WatchEvent::Lost).await;
        }
        for event in response.events() {
            let Some(entry) = self.entries.get_mut(&id) else {
                return;
            };
            if let Some(kv) = event.kv() {
                entry.next = entry.next.max(kv.mod_revision() + 1);
            }
            if let Some(fired) = classify(entry.spec.filter, event) {
                return self.fire(group, fired).await;
            }
        }
    }

    /// Applies a message of shared range watch `id`.
    async fn on_shared(&mut self, id: i64, response: &WatchResponse) {
        if response.canceled() && response.cancel_reason().contains("no leader") {
            return self.drop_stream(response.cancel_reason());
        }
        if response.compact_revision() > 0 || response.canceled() {
            // Changes since a waiter's read can no longer be told: each
            // re-reads (compacted), or its watch is lost (cancelled).
            let event = match response.compact_revision() > 0 {
                true => WatchEvent::Changed,
                false => WatchEvent::Lost,
            };
            tracing::debug!(id, ?event, "a shared etcd watch ended");
            for (group, _) in self.shared.end(id) {
                self.fire(group, event).await;
            }
            return;
        }
        let changes: Vec<Change> = response
            .events()
            .iter()
            .filter_map(|event| {
                let kv = event.kv()?;
                Some(Change {
                    key: kv.key().to_vec(),
                    revision: kv.mod_revision(),
                    event: classify(Filter::Node, event)?,
                })
            })
            .collect();
        for (group, _, event) in self.shared.on_changes(id, &changes) {
            self.fire(group, event).await;
        }
    }

    /// Fires a group's watch and cancels its etcd watches.
    async fn fire(&mut self, group: u64, event: WatchEvent) {
        let Some(group_of) = self.groups.remove(&group) else {
            return;
        };
        group_of.sender.fire(event);
        self.cancel(&group_of.ids).await;
        self.leave_shared(group, &group_of.shared_keys).await;
    }

    /// Takes `group`'s node watches off their shared range watches,
    /// cancelling a range watch left serving nothing.
    async fn leave_shared(&mut self, group: u64, keys: &[Vec<u8>]) {
        for key in keys {
            if let Some(id) = self.shared.leave(key, group) {
                self.cancel_on_stream(id).await;
            }
        }
    }

    async fn cancel(&mut self, ids: &[i64]) {
        for id in ids {
            if let Some(entry) = self.entries.remove(id)
                && entry.spec.filter == Filter::Node
                && entry.spec.range_end.is_none()
            {
                self.shared.own_ended(&entry.spec.key);
            }
            self.cancel_on_stream(*id).await;
        }
    }

    /// Sends the cancel of etcd watch `id`, if a stream is open.
    async fn cancel_on_stream(&mut self, id: i64) {
        if let Some((sender, _)) = self.stream.as_mut() {
            let sent = tokio::time::timeout(self.open_timeout, sender.cancel(id)).await;
            if !matches!(sent, Ok(Ok(()))) {
                self.drop_stream("sending a watch cancel failed");
            }
        }
    }

    /// Cancels the etcd watches of watches nobody holds any more.
    async fn cancel_abandoned(&mut self) {
        let abandoned: Vec<u64> = self
            .groups
            .iter()
            .filter(|(_, g)| g.sender.is_abandoned())
            .map(|(g, _)| *g)
            .collect();
        for group in abandoned {
            if let Some(g) = self.groups.remove(&group) {
                self.cancel(&g.ids).await;
                self.leave_shared(group, &g.shared_keys).await;
            }
        }
    }

    /// Fires `Lost` on every pending watch and drops the stream (which
    /// cancels every etcd watch on it).
    fn lose_all(&mut self) {
        for (_, group) in self.groups.drain() {
            group.sender.fire(WatchEvent::Lost);
        }
        self.entries.clear();
        self.shared.clear();
        self.stream = None;
    }
}

fn options(id: i64, entry: &Entry) -> WatchOptions {
    let mut options = WatchOptions::new()
        .with_watch_id(id)
        .with_start_revision(entry.next);
    if let Some(end) = &entry.spec.range_end {
        options = options.with_range(end.clone());
    }
    if entry.spec.filter == Filter::NodeDeleted {
        options = options.with_filters([WatchFilterType::NoPut]);
    }
    options
}

/// The options of a shared range watch over the folder `prefix`.
fn shared_options(id: i64, prefix: &[u8], next: i64) -> WatchOptions {
    WatchOptions::new()
        .with_watch_id(id)
        .with_start_revision(next)
        .with_range(range_end(prefix))
}

/// What an event means for a watch with `filter`, if anything.
fn classify(filter: Filter, event: &Event) -> Option<WatchEvent> {
    let created = event
        .kv()
        .is_some_and(|kv| kv.create_revision() == kv.mod_revision());
    match (filter, event.event_type()) {
        (Filter::Node, EventType::Put) if created => Some(WatchEvent::Created),
        (Filter::Node, EventType::Put) => Some(WatchEvent::Changed),
        (Filter::Node | Filter::NodeDeleted, EventType::Delete) => Some(WatchEvent::Deleted),
        (Filter::Children, EventType::Put) if created => Some(WatchEvent::ChildrenChanged),
        (Filter::Children, EventType::Delete) => Some(WatchEvent::ChildrenChanged),
        (Filter::Children | Filter::NodeDeleted, EventType::Put) => None,
    }
}

async fn next_message(
    stream: &mut Option<(WatchRequestSender, WatchResponseStream)>,
) -> Result<Option<WatchResponse>, etcd_client::Error> {
    match stream {
        Some((_, responses)) => responses.message().await,
        None => std::future::pending().await,
    }
}

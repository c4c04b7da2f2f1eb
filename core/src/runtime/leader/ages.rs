//! Worker ages that survive a leader change.
//!
//! A worker's age (what `Delayed` holds moves back by) counts from when a
//! leader first saw its registration. The leader writes that instant into
//! the worker's target (`seen_ms`, with the registration's session); a new
//! leader takes it from the published target when the session matches, and
//! counts from its own first sight otherwise. The instants are read from
//! the leader's clock, so skew between machines makes an age after a
//! leader change too long or too short by the skew: it changes only when
//! tasks move, never who may run one.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::time::Instant;

use crate::ids::WorkerId;
use crate::runtime::records::{TargetRecord, WorkerRecord, now_ms};

/// When a leader first saw a worker's registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    /// The registration's session.
    pub session: u64,
    /// Milliseconds since the Unix epoch, by [`clock_ms`].
    pub ms: u64,
}

/// First sightings of the live workers.
#[derive(Default)]
pub(super) struct Ages {
    seen: BTreeMap<WorkerId, Seen>,
}

impl Ages {
    /// Updates the sightings to the live `workers` (a worker registered
    /// under a new session counts as new) and returns each one's age. A
    /// worker not seen yet takes its sighting from its published target
    /// when that names the same session.
    pub fn update<'a>(
        &mut self,
        workers: impl Iterator<Item = (&'a WorkerId, &'a WorkerRecord)> + Clone,
        published: Option<&BTreeMap<WorkerId, Option<TargetRecord>>>,
    ) -> BTreeMap<WorkerId, Duration> {
        let now = clock_ms();
        let live: BTreeMap<&WorkerId, u64> = workers.map(|(id, r)| (id, r.session)).collect();
        self.seen
            .retain(|w, s| live.get(w).is_some_and(|session| *session == s.session));
        live.into_iter()
            .map(|(id, session)| {
                let seen = self.seen.entry(id.clone()).or_insert_with(|| {
                    let inherited = published
                        .and_then(|p| p.get(id))
                        .and_then(Option::as_ref)
                        .filter(|t| t.seen_session == Some(session))
                        .and_then(|t| t.seen_ms);
                    Seen {
                        session,
                        ms: inherited.map_or(now, |ms| ms.min(now)),
                    }
                });
                (
                    id.clone(),
                    Duration::from_millis(now.saturating_sub(seen.ms)),
                )
            })
            .collect()
    }

    /// The sighting of `worker`, to publish with its target.
    pub fn get(&self, worker: &WorkerId) -> Option<Seen> {
        self.seen.get(worker).copied()
    }
}

/// Milliseconds since the Unix epoch: the wall clock when first asked in
/// this process, advanced by the monotonic (tokio) clock since, so that
/// ages follow tokio time (paused in tests) and every leader of the
/// process reads the same clock.
pub(super) fn clock_ms() -> u64 {
    static BASE: OnceLock<(u64, Instant)> = OnceLock::new();
    let (wall, at) = *BASE.get_or_init(|| (now_ms(), Instant::now()));
    let now = Instant::now();
    if now >= at {
        wall.saturating_add(u64::try_from((now - at).as_millis()).unwrap_or(u64::MAX))
    } else {
        wall.saturating_sub(u64::try_from((at - now).as_millis()).unwrap_or(u64::MAX))
    }
}

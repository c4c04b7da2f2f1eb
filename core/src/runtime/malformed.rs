//! Telling about records that do not decode: once per node and problem, as
//! a warning and a [`WorkerEventKind::MalformedRecord`] event, so that a
//! node read on every pass does not flood the log. A node that decodes
//! again is forgotten, so that a later problem is told again.

use std::collections::BTreeMap;

use tokio::sync::broadcast;
use tracing::warn;

use crate::error::Error;
use crate::runtime::events::{WorkerEvent, WorkerEventKind};
use crate::store::Path;

/// The malformed records told about so far: path → problem.
#[derive(Default)]
pub(crate) struct Malformed {
    told: BTreeMap<Path, String>,
}

impl Malformed {
    /// Tells about `error` if it is a malformed record not told yet (or
    /// with another problem). Returns whether it is a malformed record.
    pub fn report(&mut self, events: &broadcast::Sender<WorkerEvent>, error: &Error) -> bool {
        let Error::MalformedRecord {
            path,
            record,
            problem,
        } = error
        else {
            return false;
        };
        if self.told.get(path) != Some(problem) {
            warn!(node = %path, record, problem = %problem, "malformed record: what depends on it waits until it is repaired");
            self.told.insert(path.clone(), problem.clone());
            let _ = events.send(WorkerEvent::now(WorkerEventKind::MalformedRecord {
                path: path.clone(),
                record,
                problem: problem.clone(),
            }));
        }
        true
    }

    /// The node at `path` decoded: a later problem is told again.
    pub fn cleared(&mut self, path: &Path) {
        self.told.remove(path);
    }

    /// Tells about every error of `current` not told yet, and forgets
    /// every node not in it (for a caller that knows every malformed
    /// record it depends on at once).
    pub fn report_all<'a>(
        &mut self,
        events: &broadcast::Sender<WorkerEvent>,
        current: impl IntoIterator<Item = &'a Error>,
    ) {
        let mut seen = Vec::new();
        for e in current {
            if self.report(events, e)
                && let Error::MalformedRecord { path, .. } = e
            {
                seen.push(path.clone());
            }
        }
        self.told.retain(|path, _| seen.contains(path));
    }
}

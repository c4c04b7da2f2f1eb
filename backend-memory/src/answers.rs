//! The way back from the server to one client: the fault hooks that lose
//! or delay the answers of its requests (see
//! [`MemoryStore::lose_answers`](crate::MemoryStore::lose_answers) and
//! [`MemoryStore::delay_answers`](crate::MemoryStore::delay_answers)).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tenure_core::{Error, Path, Result};

/// What happens to the answers of one client.
#[derive(Debug, Default)]
pub(crate) struct AnswerFaults {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Writes whose answer is lost.
    lost: Option<LostAnswers>,
    /// How long the answer of a read takes (zero: at once).
    reads: Duration,
    /// How long the answer of a write takes (zero: at once).
    writes: Duration,
}

/// Answers still to lose: of the next `count` writes under `under`.
#[derive(Clone, Debug)]
struct LostAnswers {
    under: Path,
    count: u32,
}

impl AnswerFaults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loses the answers of the next `count` writes under `under` (zero:
    /// none).
    pub(crate) fn lose(&self, under: &Path, count: u32) {
        self.lock().lost = (count > 0).then(|| LostAnswers {
            under: under.clone(),
            count,
        });
    }

    /// Delays the answers of reads and writes alike.
    pub(crate) fn delay_all(&self, delay: Duration) {
        let mut s = self.lock();
        s.reads = delay;
        s.writes = delay;
    }

    /// Delays the answers of writes only.
    pub(crate) fn delay_writes(&self, delay: Duration) {
        self.lock().writes = delay;
    }

    /// How long the answer of a request takes to come back: a write if it
    /// wrote any path.
    pub(crate) fn delay_of(&self, written: &[&Path]) -> Duration {
        let s = self.lock();
        if written.is_empty() {
            s.reads
        } else {
            s.writes
        }
    }

    /// The answer of a write to `written`, as the client sees it: lost (the
    /// write stays applied) while [`AnswerFaults::lose`] says so.
    pub(crate) fn lost_or<T>(&self, written: &[&Path], result: Result<T>) -> Result<T> {
        let mut s = self.lock();
        let Some(l) = s.lost.as_mut() else {
            return result;
        };
        if !written.iter().any(|p| p.starts_with(&l.under)) {
            return result;
        }
        l.count -= 1;
        if l.count == 0 {
            s.lost = None;
        }
        Err(Error::ConnectionLost {
            detail: "the answer was lost after the server handled the request".into(),
        })
    }
}

/// Whether `result` is the server's answer, rather than a refusal of the
/// client before anything reached the server (a cut connection, a closed
/// client): the server itself never answers with these.
pub(crate) fn from_server<T>(result: &Result<T>) -> bool {
    !matches!(result, Err(Error::ConnectionLost { .. } | Error::Closed))
}

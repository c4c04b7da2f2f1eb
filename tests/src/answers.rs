//! A store that writes down, for each of its requests the server answered,
//! when it was sent and when the answer came: what the earliest end of a
//! session is counted from (ARCHITECTURE.md, "Why two runners are
//! impossible", 3), seen from outside the worker.

use std::sync::{Arc, Mutex};

use tenure_core::{DynStore, SessionId};
use tokio::time::Instant;

use crate::observed::{self, Observer, Request};

/// A request the server answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The client's session when it sent the request.
    pub session: Option<SessionId>,
    /// When it was sent.
    pub sent: Instant,
    /// When its answer came.
    pub answered: Instant,
}

/// The answers of the stores it wrapped, in the order they came; clones
/// share it.
#[derive(Clone, Debug, Default)]
pub struct AnswerLog {
    answers: Arc<Mutex<Vec<Answer>>>,
}

impl AnswerLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// `store`, with every answer written down here.
    pub fn wrap(&self, store: DynStore) -> DynStore {
        observed::observe(store, Arc::new(self.clone()))
    }

    /// The answers so far.
    pub fn answers(&self) -> Vec<Answer> {
        self.answers.lock().unwrap().clone()
    }
}

impl Observer for AnswerLog {
    fn answered(&self, request: &Request<'_>) {
        self.answers.lock().unwrap().push(Answer {
            session: request.session,
            sent: request.sent,
            answered: request.answered,
        });
    }
}

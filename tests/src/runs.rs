//! The handlers' runs, as the runtime test clusters record them: every
//! start and stop in a self-checking [`History`], and the payload each
//! start was given; who runs what; waiting (in tokio time) until a
//! condition on them holds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure_core::{TaskContext, TaskHandler, TaskId, WorkerId};
use tokio::time::Instant;

use crate::sim::History;

/// The payload each handler start was given, by task and token.
type Payloads = BTreeMap<(TaskId, u64), Vec<u8>>;

/// Every handler run of a cluster.
#[derive(Clone, Default)]
pub struct Runs {
    /// Every start and stop, self-checked (one runner, rising tokens).
    pub history: History,
    payloads: Arc<Mutex<Payloads>>,
}

impl Runs {
    /// No runs yet; the history's clock starts now.
    pub fn new() -> Self {
        Runs::default()
    }

    /// A handler that records into these runs and runs until cancelled.
    pub fn handler(&self) -> impl TaskHandler {
        let record = self.history.handler();
        let payloads = self.payloads.clone();
        move |ctx: TaskContext| {
            payloads
                .lock()
                .unwrap()
                .insert((ctx.task().clone(), ctx.token()), ctx.payload().to_vec());
            record(ctx)
        }
    }

    /// The payload a handler was started with.
    pub fn payload(&self, task: &TaskId, token: u64) -> Option<Vec<u8>> {
        self.payloads
            .lock()
            .unwrap()
            .get(&(task.clone(), token))
            .cloned()
    }

    /// Who runs what now: task → (worker, token).
    ///
    /// # Panics
    /// If anything went wrong so far (two runners, a token not above the
    /// last one) or a task runs twice.
    pub fn running(&self) -> BTreeMap<TaskId, (WorkerId, u64)> {
        let v = self.history.violations();
        assert!(v.is_empty(), "{v:?}");
        self.history
            .running()
            .into_iter()
            .map(|(t, r)| {
                assert_eq!(r.len(), 1, "{t} runs on {r:?}");
                (t, r[0].clone())
            })
            .collect()
    }

    /// Looks every `poll` (tokio time) until `done` holds; panics after
    /// `limit`, showing what runs. Returns how long it took.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        poll: Duration,
        mut done: impl FnMut() -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            if done() {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "not within {limit:?}: {what}; running {:?}",
                self.history.running()
            );
            tokio::time::sleep(poll).await;
        }
    }
}

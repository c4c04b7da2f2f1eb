//! Unit tests of the memory backend, under paused tokio time.

mod faults;
mod lifecycle;
mod partition;
mod semantics;
mod slow_answers;

use std::time::Duration;

use tenure_core::{CoordinationStore, CreateMode, Path, SessionId, Watch, WatchEvent};

use crate::{MemoryServer, MemoryStore};

pub(crate) const TIMEOUT: Duration = Duration::from_millis(1000);

pub(crate) fn p(s: &str) -> Path {
    Path::new(s).unwrap()
}

pub(crate) async fn connect(server: &MemoryServer) -> MemoryStore {
    server.connect(TIMEOUT).await.unwrap()
}

pub(crate) fn session(store: &MemoryStore) -> SessionId {
    store.session_state().session().unwrap()
}

pub(crate) async fn ephemeral(store: &MemoryStore, path: &str) {
    let s = session(store);
    store
        .create(&p(path), b"e", CreateMode::Ephemeral(s))
        .await
        .unwrap();
}

/// The event of a watch if it has fired, without waiting.
pub(crate) async fn fired(w: &mut Watch) -> Option<WatchEvent> {
    tokio::time::timeout(Duration::ZERO, w).await.ok()
}

/// Lets spawned tasks and timers due by `d` from now run.
pub(crate) async fn advance(d: Duration) {
    tokio::time::sleep(d).await;
}

#![doc = include_str!("../README.md")]
//!
//! [`Backend`]: crate::Backend
//! [`ClientControl`]: crate::ClientControl
//! [`Capabilities`]: crate::Capabilities

#![deny(missing_docs)]
#![allow(clippy::unwrap_used)]

pub mod backend;
pub mod bad_input;
pub mod cas;
pub mod crud;
pub mod ephemeral;
pub mod multi;
pub mod read_many;
pub mod session;
pub mod watch;

mod macros;

pub use backend::{Backend, Capabilities, ClientControl, TestClient, WatchDelivery, unique_root};

use std::future::Future;
use std::time::Duration;

use tenure_core::{Path, SessionId, SessionState, StoreExt, Watch, WatchEvent};

/// A session timeout no test outlives, for clients that must not expire.
pub const LONG_SESSION: Duration = Duration::from_secs(10);

/// How long the suite waits for something that must happen (a watch event,
/// a state change, a node vanishing), beyond any session timeout involved.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// How long the suite watches for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(300);

/// The longest a single conformance test may run.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Runs one conformance test, failing it if it runs over [`TEST_LIMIT`].
pub async fn with_deadline(name: &str, test: impl Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, test).await.is_err() {
        panic!("conformance test {name} ran over {TEST_LIMIT:?}");
    }
}

/// Connects a client with the given session timeout.
pub(crate) async fn connect(backend: &dyn Backend, timeout: Duration) -> TestClient {
    backend
        .connect(timeout)
        .await
        .unwrap_or_else(|e| panic!("{} backend: connect failed: {e}", backend.name()))
}

/// A connected client (long session) and a fresh, existing test root.
pub(crate) async fn setup(backend: &dyn Backend) -> (TestClient, Path) {
    let client = connect(backend, LONG_SESSION).await;
    let root = unique_root("conf");
    client
        .store
        .create_all(&root)
        .await
        .unwrap_or_else(|e| panic!("creating the test root {root}: {e}"));
    (client, root)
}

/// Removes the test root and closes the client (best effort).
pub(crate) async fn teardown(client: &TestClient, root: &Path) {
    let _ = client.store.delete_all(root).await;
    let _ = client.store.close().await;
}

/// `root` joined with a relative path such as `a/b`.
pub(crate) fn at(root: &Path, rel: &str) -> Path {
    Path::new(&format!("{root}/{rel}")).unwrap_or_else(|e| panic!("bad test path {rel}: {e}"))
}

/// The live session of a client.
pub(crate) fn session_of(client: &TestClient) -> SessionId {
    client
        .store
        .live_session()
        .unwrap_or_else(|e| panic!("client has no live session: {e}"))
}

/// The event of a watch, which must fire within [`PATIENCE`].
pub(crate) async fn fires(watch: Watch, what: &str) -> WatchEvent {
    tokio::time::timeout(PATIENCE, watch)
        .await
        .unwrap_or_else(|_| panic!("watch did not fire within {PATIENCE:?}: {what}"))
}

/// Whether a watch stays silent for [`QUIET`].
pub(crate) async fn stays_quiet(watch: &mut Watch) -> bool {
    tokio::time::timeout(QUIET, watch).await.is_err()
}

/// Waits until the client's session state satisfies `want`, for at most
/// `limit`; returns that state.
pub(crate) async fn wait_state(
    client: &TestClient,
    limit: Duration,
    what: &str,
    want: impl Fn(SessionState) -> bool,
) -> SessionState {
    let mut events = client.store.session_events();
    let wait = async {
        loop {
            let state = *events.borrow_and_update();
            if want(state) {
                return state;
            }
            if events.changed().await.is_err() {
                let last = client.store.session_state();
                panic!("session stream ended in {last:?} while waiting for {what}");
            }
        }
    };
    match tokio::time::timeout(limit, wait).await {
        Ok(state) => state,
        Err(_) => panic!(
            "session state {:?} after {limit:?}, waiting for {what}",
            client.store.session_state()
        ),
    }
}

/// Polls `check` every 20 ms until it holds, for at most `limit`.
pub(crate) async fn eventually(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return;
        }
        if start.elapsed() >= limit {
            panic!("not true after {limit:?}: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

//! [`EtcdStore`]: one lease at a time as the session, and the plumbing
//! every request goes through.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::Client;
use tenure_core::{
    CoordinationStore, CreateMode, Error, Name, Node, Op, OpResult, Path, Result, SessionState,
    StoreInfo, Version, Watch,
};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::EtcdConfig;
use crate::errors;
use crate::keys::Keys;
use crate::shared::Shared;
use crate::watch::WatchHub;
use crate::{connect, session};

/// A [`CoordinationStore`] on an etcd cluster.
///
/// The session is a lease with the configured TTL, kept alive by a
/// background task; ephemeral nodes are keys attached to it. When etcd
/// reports the lease gone, the state goes `Expired(s)` and the store grants
/// a new lease on its own (retrying with a capped backoff while the store
/// is open), then reports `Connected(t)`.
///
/// Cloning is cheap and shares the session. Dropping the last clone
/// without [`close`](CoordinationStore::close) revokes the lease in the
/// background (bounded by the request timeout) and resolves pending
/// watches with `Lost`.
#[derive(Clone)]
pub struct EtcdStore {
    handle: Arc<Handle>,
}

/// Owned by the clones of a store only: dropping the last one shuts the
/// background tasks down (they hold [`Shared`], not this).
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.closed.cancel();
    }
}

impl EtcdStore {
    /// Connects to the endpoints of `config`, makes sure the namespace's
    /// root node exists, and grants the first lease.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed configuration;
    /// [`Error::Timeout`] naming the endpoints when no lease was granted
    /// within the connect timeout (unreachable or silent servers);
    /// [`Error::Unauthorized`] for refused credentials.
    pub async fn connect(config: EtcdConfig) -> Result<EtcdStore> {
        config.validate()?;
        let keys = Keys::new(&config.namespace);
        let (client, lease, rotation) = connect::open(&config, &keys).await?;
        let rotation = Arc::new(rotation);
        let closed = CancellationToken::new();
        let hub = WatchHub::start(
            client.watch_client(),
            config.request_timeout,
            closed.clone(),
        );
        let (state, _) = watch::channel(SessionState::Connected(lease.session()));
        let shared = Arc::new(Shared {
            config,
            keys,
            client,
            state,
            lease: Mutex::new(Some(lease)),
            closed,
            probe: Notify::new(),
            renew_within: Mutex::new(None),
            hub,
            rotation: rotation.clone(),
        });
        tokio::spawn(rotation.maintain(shared.client.clone(), shared.closed.clone()));
        tokio::spawn(session::supervise(shared.clone(), lease));
        Ok(EtcdStore {
            handle: Arc::new(Handle { shared }),
        })
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &EtcdConfig {
        &self.shared().config
    }

    /// The endpoints requests go to now, as URLs (`http://host:port`): the
    /// configured ones minus those found refusing connections, which come
    /// back once they accept again (checked every second while one is
    /// out). Never empty.
    pub fn endpoints_in_use(&self) -> Vec<String> {
        self.shared().rotation.used_urls()
    }

    /// The live lease's id, `None` while there is none (after an expiry,
    /// before the next grant; once closed).
    pub fn lease_id(&self) -> Option<i64> {
        self.shared().current_lease().map(|l| l.id)
    }

    /// The etcd client the store uses, for what the store contract does
    /// not cover (maintenance, compaction in tests). Writing under the
    /// store's namespace through it bypasses the store's rules.
    pub fn client(&self) -> &Client {
        &self.shared().client
    }

    /// The etcd key of the node at `path`, as the store lays keys out (see
    /// the crate docs), e.g. to read it with `etcdctl`.
    pub fn key_of(&self, path: &Path) -> Vec<u8> {
        self.shared().keys.node(path)
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }
}

impl fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared();
        f.debug_struct("EtcdStore")
            .field("endpoints", &shared.config.endpoints)
            .field("namespace", &shared.config.namespace)
            .field("state", &*shared.state.borrow())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for EtcdStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared();
        write!(
            f,
            "etcd store at {} (namespace {:?})",
            shared.config.endpoints.join(","),
            shared.config.namespace
        )
    }
}

#[async_trait]
impl CoordinationStore for EtcdStore {
    fn info(&self) -> StoreInfo {
        let shared = self.shared();
        StoreInfo {
            backend: errors::BACKEND,
            max_payload: shared.config.max_payload(),
            session_timeout: shared.ttl(),
            renewal_period: shared.renewal_period(),
        }
    }

    /// Shortens the keep-alive period to `at_most` (the next keep-alive
    /// already follows it), but not below a tenth of the TTL or 100 ms.
    fn fit_renewal(&self, at_most: Duration) -> Duration {
        let shared = self.shared();
        {
            let mut within = shared
                .renew_within
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *within = Some(within.map_or(at_most, |w| w.min(at_most)));
        }
        shared.probe.notify_one();
        shared.renewal_period()
    }

    /// Revokes the lease: its keys go at once, the keep-alive learns that
    /// the lease is gone (`Expired`) and a new one is granted.
    async fn restart_session(&self) -> Result<()> {
        let shared = self.shared();
        if shared.closed.is_cancelled() || *shared.state.borrow() == SessionState::Closed {
            return Err(Error::Closed);
        }
        session::give_up(shared).await;
        Ok(())
    }

    fn session_events(&self) -> watch::Receiver<SessionState> {
        self.shared().state.subscribe()
    }

    /// The send time of the last keep-alive the server answered plus the
    /// TTL it reported, while the session is connected or suspended.
    fn session_deadline(&self) -> Option<Instant> {
        let shared = self.shared();
        match *shared.state.borrow() {
            SessionState::Connected(s) | SessionState::Suspended(s) => shared
                .current_lease()
                .filter(|l| l.session() == s)
                .map(|l| l.deadline),
            _ => None,
        }
    }

    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        let op = Op::Create {
            path: path.clone(),
            data: data.to_vec(),
            mode,
        };
        match self
            .shared()
            .write(std::slice::from_ref(&op))
            .await?
            .as_slice()
        {
            [OpResult::Created(v)] => Ok(*v),
            other => Err(unexpected("create", other)),
        }
    }

    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        Ok(self.shared().read_node(path).await?.0)
    }

    /// One transaction of reads per `--max-txn-ops` paths.
    async fn get_many(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        self.shared().read_nodes(paths).await
    }

    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        let shared = self.shared();
        let (node, revision) = shared.read_node(path).await?;
        Ok((node, shared.watch_node(path, revision)))
    }

    /// One transaction of reads per `--max-txn-ops` paths; each watch
    /// starts after its transaction's revision, on the store's watch
    /// stream (many under one folder share one etcd watch: no request
    /// each).
    async fn get_many_and_watch(&self, paths: &[Path]) -> Result<Vec<(Option<Node>, Watch)>> {
        let shared = self.shared();
        let nodes = shared.read_nodes_at(paths).await?;
        Ok(paths
            .iter()
            .zip(nodes)
            .map(|(path, (node, revision))| (node, shared.watch_node(path, revision)))
            .collect())
    }

    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        let op = Op::Set {
            path: path.clone(),
            data: data.to_vec(),
            version: expected,
        };
        match self
            .shared()
            .write(std::slice::from_ref(&op))
            .await?
            .as_slice()
        {
            [OpResult::Set(v)] => Ok(*v),
            other => Err(unexpected("set", other)),
        }
    }

    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        let op = Op::Delete {
            path: path.clone(),
            version: expected,
        };
        self.shared().write(std::slice::from_ref(&op)).await?;
        Ok(())
    }

    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        Ok(self.shared().read_children(path).await?.0)
    }

    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        let shared = self.shared();
        let (names, revision) = shared.read_children(path).await?;
        Ok((names, shared.watch_children(path, revision)))
    }

    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        if ops.is_empty() {
            self.shared().usable()?;
            return Ok(Vec::new());
        }
        self.shared().write(ops).await
    }

    /// Revokes the lease (its ephemeral nodes go at once), resolves pending
    /// watches with `Lost`, and makes the state `Closed`. The revoke is
    /// bounded by the request timeout; if it fails the lease expires on
    /// the server after its TTL.
    async fn close(&self) -> Result<()> {
        session::close(self.shared()).await;
        Ok(())
    }
}

fn unexpected(what: &str, results: &[OpResult]) -> Error {
    Error::Backend {
        backend: errors::BACKEND,
        message: format!("{what} produced the unexpected results {results:?}"),
        source: None,
    }
}

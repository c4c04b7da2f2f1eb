//! The store contract on ZooKeeper requests.

use async_trait::async_trait;
use tenure_core::{
    CoordinationStore, CreateMode, Error, Name, Node, Op, OpResult, Path, Result, SessionState,
    StoreInfo, Version, Watch,
};
use zookeeper_client as zk;

use crate::errors::{BACKEND, Kind};
use crate::limits::{self, MAX_PAYLOAD};
use crate::proof::Reach;
use crate::shared::Live;
use crate::store::ZkStore;
use crate::versions::{expected, incarnation, owner, version};
use crate::watch::bridge;

impl ZkStore {
    /// The ZooKeeper create mode for `mode`, refusing an ephemeral node of a
    /// session other than the live one.
    pub(crate) fn create_mode(&self, mode: CreateMode, live: &Live) -> Result<zk::CreateMode> {
        match mode {
            CreateMode::Persistent => Ok(zk::CreateMode::Persistent),
            CreateMode::Ephemeral(s) => {
                self.check_owner(s, live)?;
                Ok(zk::CreateMode::Ephemeral)
            }
        }
    }

    /// Reads a node, or `None` if it does not exist.
    async fn read_node(&self, live: &Live, path: &Path) -> Result<Option<Node>> {
        let answer = self
            .request(
                live,
                "read",
                path,
                Reach::Server,
                live.client.get_data(path.as_str()),
            )
            .await?;
        match answer {
            Ok((data, stat)) => Ok(Some(node(data, &stat))),
            Err(zk::Error::NoNode) => Ok(None),
            Err(e) => Err(self.fail(e, Kind::Node, path, live)),
        }
    }
}

pub(crate) fn node(data: Vec<u8>, stat: &zk::Stat) -> Node {
    Node {
        data,
        version: version(stat),
        incarnation: incarnation(stat),
        ephemeral_owner: owner(stat),
    }
}

/// Children names as tenure names, sorted.
fn names(parent: &Path, children: Vec<String>) -> Result<Vec<Name>> {
    let mut names = children
        .into_iter()
        .map(|child| {
            Name::new(&child).map_err(|e| Error::Backend {
                backend: BACKEND,
                message: format!("node {parent} has a child that is not a valid name: {e}"),
                source: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

fn root_is_not_deletable(path: &Path) -> Result<()> {
    if path.is_root() {
        return Err(Error::InvalidPath {
            path: path.to_string(),
            reason: "the root node cannot be deleted".into(),
        });
    }
    Ok(())
}

#[async_trait]
impl CoordinationStore for ZkStore {
    fn info(&self) -> StoreInfo {
        let session_timeout = self
            .shared
            .live_client()
            .map_or(self.shared.config.session_timeout, |l| l.timeout);
        StoreInfo {
            backend: BACKEND,
            max_payload: MAX_PAYLOAD,
            session_timeout,
            renewal_period: self.shared.cadence().lag,
        }
    }

    /// Writes often enough that the deadline lags "now + session timeout"
    /// by at most `at_most` (a third of what is left of it once the
    /// leader's ping interval is taken off, per write), but not more often
    /// than every sixteenth of the session timeout: returns the lag then
    /// in effect.
    fn fit_renewal(&self, at_most: std::time::Duration) -> std::time::Duration {
        self.shared.fit(at_most).lag
    }

    async fn restart_session(&self) -> Result<()> {
        self.restart().await
    }

    fn session_state(&self) -> SessionState {
        *self.shared.state.borrow()
    }

    fn session_events(&self) -> tokio::sync::watch::Receiver<SessionState> {
        self.shared.state.subscribe()
    }

    fn session_deadline(&self) -> Option<tokio::time::Instant> {
        self.shared.deadline()
    }

    async fn create(&self, path: &Path, data: &[u8], mode: CreateMode) -> Result<Version> {
        limits::check_payload(data)?;
        let live = self.live()?;
        let options = self.create_mode(mode, &live)?.with_acls(self.acls());
        if path.is_root() {
            return Err(Error::AlreadyExists { path: path.clone() });
        }
        let request = live.client.create(path.as_str(), data, &options);
        match self
            .request(&live, "create", path, Reach::Quorum, request)
            .await?
        {
            Ok((stat, _)) => Ok(version(&stat)),
            Err(e) => Err(self.fail(e, Kind::Create, path, &live)),
        }
    }

    async fn get(&self, path: &Path) -> Result<Option<Node>> {
        let live = self.live()?;
        self.read_node(&live, path).await
    }

    /// One `multiRead` request (ZooKeeper 3.6 and later).
    async fn get_many(&self, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        let live = self.live()?;
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        crate::read_many::run(self, &live, paths).await
    }

    async fn get_and_watch(&self, path: &Path) -> Result<(Option<Node>, Watch)> {
        let live = self.live()?;
        let closed = self.shared.closed.clone();
        let request = live.client.get_and_watch_data(path.as_str());
        match self
            .request(&live, "read", path, Reach::Server, request)
            .await?
        {
            Ok((data, stat, watcher)) => Ok((Some(node(data, &stat)), bridge(watcher, closed))),
            Err(zk::Error::NoNode) => {
                // Missing: an exists-watch fires at its creation. If it was
                // created in between, the watch is armed on the live node and
                // the read below comes after it, so no change is missed.
                let request = live.client.check_and_watch_stat(path.as_str());
                match self
                    .request(&live, "watch", path, Reach::Server, request)
                    .await?
                {
                    Ok((None, watcher)) => Ok((None, bridge(watcher, closed))),
                    Ok((Some(_), watcher)) => {
                        let watch = bridge(watcher, closed);
                        Ok((self.read_node(&live, path).await?, watch))
                    }
                    Err(e) => Err(self.fail(e, Kind::Node, path, &live)),
                }
            }
            Err(e) => Err(self.fail(e, Kind::Node, path, &live)),
        }
    }

    async fn set(&self, path: &Path, data: &[u8], expected: Option<Version>) -> Result<Version> {
        limits::check_payload(data)?;
        let live = self.live()?;
        let want = self::expected(path, expected)?;
        let request = live.client.set_data(path.as_str(), data, want);
        match self
            .request(&live, "write", path, Reach::Quorum, request)
            .await?
        {
            Ok(stat) => Ok(version(&stat)),
            Err(e) => Err(self.fail(e, Kind::Node, path, &live)),
        }
    }

    async fn delete(&self, path: &Path, expected: Option<Version>) -> Result<()> {
        let live = self.live()?;
        root_is_not_deletable(path)?;
        let want = self::expected(path, expected)?;
        let request = live.client.delete(path.as_str(), want);
        match self
            .request(&live, "delete", path, Reach::Quorum, request)
            .await?
        {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(e, Kind::Node, path, &live)),
        }
    }

    async fn children(&self, path: &Path) -> Result<Vec<Name>> {
        let live = self.live()?;
        let request = live.client.list_children(path.as_str());
        match self
            .request(&live, "listing", path, Reach::Server, request)
            .await?
        {
            Ok(children) => names(path, children),
            Err(e) => Err(self.fail(e, Kind::List, path, &live)),
        }
    }

    async fn children_and_watch(&self, path: &Path) -> Result<(Vec<Name>, Watch)> {
        let live = self.live()?;
        let request = live.client.list_and_watch_children(path.as_str());
        match self
            .request(&live, "listing", path, Reach::Server, request)
            .await?
        {
            Ok((children, watcher)) => {
                let watch = bridge(watcher, self.shared.closed.clone());
                Ok((names(path, children)?, watch))
            }
            Err(e) => Err(self.fail(e, Kind::List, path, &live)),
        }
    }

    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        limits::check_multi(ops, self.chroot_len())?;
        let live = self.live()?;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        for op in ops {
            if let Op::Delete { path, .. } = op {
                root_is_not_deletable(path)?;
            }
            if let Op::Create { path, .. } = op
                && path.is_root()
            {
                return Err(Error::AlreadyExists { path: path.clone() });
            }
        }
        crate::multi::run(self, &live, ops).await
    }

    async fn close(&self) -> Result<()> {
        self.shut().await;
        Ok(())
    }
}

//! The single requests: create, read, write, delete, list, and the reads
//! that arm a watch under the same lock, so no change can fall between the
//! read and the watch.

use tenure_core::{CreateMode, Error, Name, Node, Path, Result, SessionId, Version, Watch};

use crate::client::ClientId;
use crate::counts::OpKind;
use crate::server::MemoryServer;

/// The owner of a node created with `mode` by a client whose live session
/// is `live`.
///
/// # Errors
/// [`Error::SessionExpired`] for an ephemeral node of another session.
pub(crate) fn owner_for(mode: CreateMode, live: SessionId) -> Result<Option<SessionId>> {
    match mode {
        CreateMode::Persistent => Ok(None),
        CreateMode::Ephemeral(s) if s == live => Ok(Some(s)),
        CreateMode::Ephemeral(s) => Err(Error::SessionExpired { session: s.0 }),
    }
}

impl MemoryServer {
    pub(crate) fn create(
        &self,
        client: ClientId,
        path: &Path,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<Version> {
        self.request(client, OpKind::Write, |st, live| {
            let owner = owner_for(mode, live)?;
            let (version, change) = st.tree.create(path, data, owner)?;
            st.watches.trigger(&change, &mut st.pending);
            Ok(version)
        })
    }

    pub(crate) fn get(&self, client: ClientId, path: &Path) -> Result<Option<Node>> {
        self.request(client, OpKind::Read, |st, _| {
            Ok(st.tree.get(path).map(|e| e.to_node()))
        })
    }

    /// Reads every node of `paths` in one request, under one lock.
    pub(crate) fn get_many(&self, client: ClientId, paths: &[Path]) -> Result<Vec<Option<Node>>> {
        self.request(client, OpKind::Read, |st, _| {
            Ok(paths
                .iter()
                .map(|p| st.tree.get(p).map(|e| e.to_node()))
                .collect())
        })
    }

    pub(crate) fn get_and_watch(
        &self,
        client: ClientId,
        path: &Path,
    ) -> Result<(Option<Node>, Watch)> {
        self.request(client, OpKind::Read, |st, _| {
            let node = st.tree.get(path).map(|e| e.to_node());
            let (sender, watch) = Watch::channel();
            st.watches.watch_data(path, client, sender);
            Ok((node, watch))
        })
    }

    pub(crate) fn set(
        &self,
        client: ClientId,
        path: &Path,
        data: &[u8],
        expected: Option<Version>,
    ) -> Result<Version> {
        self.request(client, OpKind::Write, |st, _| {
            let (version, change) = st.tree.set(path, data, expected)?;
            st.watches.trigger(&change, &mut st.pending);
            Ok(version)
        })
    }

    pub(crate) fn delete(
        &self,
        client: ClientId,
        path: &Path,
        expected: Option<Version>,
    ) -> Result<()> {
        self.request(client, OpKind::Write, |st, _| {
            let change = st.tree.delete(path, expected)?;
            st.watches.trigger(&change, &mut st.pending);
            Ok(())
        })
    }

    pub(crate) fn children(&self, client: ClientId, path: &Path) -> Result<Vec<Name>> {
        self.request(client, OpKind::Read, |st, _| st.tree.children(path))
    }

    pub(crate) fn children_and_watch(
        &self,
        client: ClientId,
        path: &Path,
    ) -> Result<(Vec<Name>, Watch)> {
        self.request(client, OpKind::Read, |st, _| {
            let children = st.tree.children(path)?;
            let (sender, watch) = Watch::channel();
            st.watches.watch_children(path, client, sender);
            Ok((children, watch))
        })
    }
}

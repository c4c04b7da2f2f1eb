//! Conveniences every store gets for free.

use async_trait::async_trait;

use super::{CoordinationStore, CreateMode, Path, SessionId, SessionState};
use crate::error::{Error, Result};

/// Conveniences over [`CoordinationStore`], implemented for every store.
#[async_trait]
pub trait StoreExt: CoordinationStore {
    /// Creates `path` and every missing ancestor as persistent nodes with
    /// empty data; nodes that already exist are left as they are.
    async fn create_all(&self, path: &Path) -> Result<()> {
        let mut missing = Vec::new();
        let mut cursor = Some(path.clone());
        while let Some(p) = cursor {
            if p.is_root() || self.get(&p).await?.is_some() {
                break;
            }
            cursor = p.parent();
            missing.push(p);
        }
        for p in missing.into_iter().rev() {
            match self.create(&p, b"", CreateMode::Persistent).await {
                Ok(_) | Err(Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Deletes `path` and everything below it (children first). Missing
    /// nodes are not an error.
    async fn delete_all(&self, path: &Path) -> Result<()> {
        let mut stack = vec![(path.clone(), false)];
        while let Some((p, expanded)) = stack.pop() {
            if expanded {
                match self.delete(&p, None).await {
                    Ok(()) | Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            stack.push((p.clone(), true));
            match self.children(&p).await {
                Ok(kids) => {
                    for k in kids {
                        stack.push((p.join(&k)?, false));
                    }
                }
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The live session, or an error saying why there is none.
    ///
    /// # Errors
    /// [`Error::ConnectionLost`] while connecting or suspended,
    /// [`Error::SessionExpired`], [`Error::Closed`].
    fn live_session(&self) -> Result<SessionId> {
        match self.session_state() {
            SessionState::Connected(s) => Ok(s),
            SessionState::Suspended(_) | SessionState::Connecting => Err(Error::ConnectionLost {
                detail: "no live connection".into(),
            }),
            SessionState::Expired(s) => Err(Error::SessionExpired { session: s.0 }),
            SessionState::Closed => Err(Error::Closed),
        }
    }

    /// Waits until the store is connected and returns the session, for at
    /// most `timeout`.
    ///
    /// # Errors
    /// [`Error::Timeout`] naming the wait; [`Error::Closed`].
    async fn wait_connected(&self, timeout: std::time::Duration) -> Result<SessionId> {
        let mut events = self.session_events();
        let wait = async {
            loop {
                let state = *events.borrow_and_update();
                match state {
                    SessionState::Connected(s) => return Ok(s),
                    SessionState::Closed => return Err(Error::Closed),
                    _ => {}
                }
                if events.changed().await.is_err() {
                    return Err(Error::Closed);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| Error::Timeout {
                operation: "waiting for a connected session".into(),
                after: timeout,
            })?
    }
}

impl<T: CoordinationStore + ?Sized> StoreExt for T {}

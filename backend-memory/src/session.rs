//! The life of sessions on the server: opened at connect, cut off by a
//! suspended connection, ended by expiry or close, renewed after expiry.
//!
//! Renewal is immediate: when the server ends the session of a connected
//! client, the client publishes `Expired(s)` and at once opens a new
//! session and publishes `Connected(t)` (as a ZooKeeper backend that
//! reconnects on expiry does, minus the network time). A cut-off client
//! learns of the end only when its connection is resumed, and renews then.

use std::time::Duration;

use tenure_core::{Error, Result, SessionId, SessionState, WatchEvent};
use tokio::runtime::Handle;
use tokio::time::Instant;

use crate::client::{ClientId, Link};
use crate::counts::OpKind;
use crate::server::{SessionEntry, State};
use crate::watches::Fired;

/// An expiry timer to start: the server ends `session` after `after`
/// unless the cut `epoch` is healed first.
#[derive(Debug)]
pub(crate) struct ExpiryTimer {
    pub(crate) session: SessionId,
    pub(crate) epoch: u64,
    pub(crate) after: Duration,
    pub(crate) handle: Handle,
}

impl State {
    /// Admits a request: the client must be open and connected. Counts it.
    pub(crate) fn admit(&mut self, client: ClientId, kind: OpKind) -> Result<SessionId> {
        let c = self.clients.get_mut(&client).ok_or(Error::Closed)?;
        let session = match (c.link, c.session) {
            (Link::Connected, Some(session)) => session,
            (Link::Suspended { .. }, _) => {
                return Err(Error::ConnectionLost {
                    detail: "the connection to the in-memory server is cut (suspended)".into(),
                });
            }
            _ => return Err(Error::Closed),
        };
        c.counts.bump(kind);
        self.counts.bump(kind);
        Ok(session)
    }

    /// Opens a new session for a connected client and publishes it.
    pub(crate) fn open_session(&mut self, client: ClientId) -> SessionId {
        self.next_session += 1;
        let session = SessionId(self.next_session);
        self.sessions
            .insert(session, SessionEntry { client, cut: None });
        if let Some(c) = self.clients.get_mut(&client) {
            c.session = Some(session);
            c.ended_unseen = None;
            c.publish(SessionState::Connected(session));
        }
        session
    }

    /// The server ends a session: the owner's pending watches fire `Lost`,
    /// its ephemeral nodes are deleted (firing other watches), and the owner
    /// learns of it: at once if connected (and renews), on resume if cut off.
    pub(crate) fn end_session(&mut self, session: SessionId) {
        let Some(entry) = self.sessions.remove(&session) else {
            return;
        };
        let client = entry.client;
        let owner = self
            .clients
            .get_mut(&client)
            .filter(|c| c.session == Some(session));
        if let Some(c) = owner {
            let lost = self
                .watches
                .take_client(client)
                .into_iter()
                .chain(c.dropped.drain(..));
            self.pending.extend(lost.map(|sender| Fired {
                client,
                sender,
                event: WatchEvent::Lost,
            }));
        }
        for path in self.tree.ephemerals_of(session) {
            match self.tree.delete(&path, None) {
                Ok(change) => self.watches.trigger(&change, &mut self.pending),
                Err(e) => tracing::error!(%path, %e, "ephemeral node could not be deleted"),
            }
        }
        tracing::debug!(%session, %client, "session ended");
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        if c.session != Some(session) {
            return;
        }
        match c.link {
            Link::Connected => {
                c.publish(SessionState::Expired(session));
                self.open_session(client);
            }
            Link::Suspended { .. } => c.ended_unseen = Some(Instant::now()),
            Link::Closed => c.session = None,
        }
        self.reap(client);
    }

    /// Cuts a connected client off; returns the expiry timer to start. A
    /// `silent` cut is not reported to the client (its state stays
    /// connected) and holds its requests instead of failing them.
    pub(crate) fn suspend(&mut self, client: ClientId, silent: bool) -> Option<ExpiryTimer> {
        let c = self.clients.get_mut(&client)?;
        let session = c.session?;
        if c.link != Link::Connected {
            return None;
        }
        c.link = Link::Suspended {
            since: Instant::now(),
            silent,
        };
        if silent {
            c.reachable.send_replace(false);
        } else {
            c.drops += 1;
            c.publish(SessionState::Suspended(session));
        }
        let (after, handle) = (c.timeout, c.handle.clone());
        self.next_epoch += 1;
        let epoch = self.next_epoch;
        self.sessions.get_mut(&session)?.cut = Some(epoch);
        Some(ExpiryTimer {
            session,
            epoch,
            after,
            handle,
        })
    }

    /// The expiry timer of a cut ran out: ends the session if the cut is
    /// still the same.
    pub(crate) fn cut_timed_out(&mut self, session: SessionId, epoch: u64) {
        if self.sessions.get(&session).and_then(|s| s.cut) == Some(epoch) {
            tracing::debug!(%session, "session timed out while cut off");
            self.end_session(session);
        }
    }

    /// Restores a cut-off client: the same session if it is still alive
    /// (held events delivered), otherwise `Expired` then a new session.
    pub(crate) fn resume(&mut self, client: ClientId) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        if !matches!(c.link, Link::Suspended { .. }) {
            return;
        }
        c.link = Link::Connected;
        c.reachable.send_replace(true);
        let held = std::mem::take(&mut c.held);
        self.pending
            .extend(held.into_iter().map(|(sender, event)| Fired {
                client,
                sender,
                event,
            }));
        let alive = c.session.filter(|s| self.sessions.contains_key(s));
        match alive {
            Some(session) => {
                c.publish(SessionState::Connected(session));
                if let Some(entry) = self.sessions.get_mut(&session) {
                    entry.cut = None;
                }
            }
            None => {
                if let Some(old) = c.session {
                    c.publish(SessionState::Expired(old));
                }
                self.open_session(client);
            }
        }
    }

    /// The server ends the client's session now (a fault hook).
    pub(crate) fn expire(&mut self, client: ClientId) {
        let session = self
            .clients
            .get(&client)
            .filter(|c| c.link != Link::Closed)
            .and_then(|c| c.session);
        if let Some(session) = session {
            self.end_session(session);
        }
    }

    /// Closes a client. A connected client's close reaches the server, which
    /// ends the session at once; a cut-off client's close does not, and its
    /// session lives until the server times it out. Either way the client's
    /// pending watches fire `Lost` and its state becomes `Closed`.
    pub(crate) fn close(&mut self, client: ClientId) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        let was = std::mem::replace(&mut c.link, Link::Closed);
        c.reachable.send_replace(true);
        c.drops += 1;
        let session = c.session;
        match was {
            Link::Closed => return,
            Link::Connected => {
                if let Some(session) = session {
                    self.end_session(session);
                }
            }
            Link::Suspended { .. } => {
                let lost = self
                    .watches
                    .take_client(client)
                    .into_iter()
                    .chain(c.dropped.drain(..))
                    .chain(c.held.drain(..).map(|(sender, _)| sender));
                self.pending.extend(lost.map(|sender| Fired {
                    client,
                    sender,
                    event: WatchEvent::Lost,
                }));
                if session.is_none_or(|s| !self.sessions.contains_key(&s)) {
                    c.session = None;
                }
            }
        }
        if let Some(c) = self.clients.get_mut(&client) {
            c.publish(SessionState::Closed);
        }
        tracing::debug!(%client, "memory client closed");
    }

    /// Every handle of the client is gone without a close: as when a process
    /// dies, the connection drops and the server times the session out.
    pub(crate) fn detach(&mut self, client: ClientId) -> Option<ExpiryTimer> {
        let c = self.clients.get_mut(&client)?;
        c.detached = true;
        let timer = self.suspend(client, false);
        self.reap(client);
        timer
    }

    /// Forgets a detached client once it has no live session.
    fn reap(&mut self, client: ClientId) {
        let gone = self.clients.get(&client).is_some_and(|c| {
            c.detached && c.session.is_none_or(|s| !self.sessions.contains_key(&s))
        });
        if gone {
            self.clients.remove(&client);
        }
    }
}

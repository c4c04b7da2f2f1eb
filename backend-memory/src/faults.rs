//! Fault hooks for simulation tests: end a session, cut a connection, delay
//! or drop watch events, lose or delay the answers of requests, and count
//! requests.
//!
//! Every hook acts at once and is deterministic under
//! `tokio::time::pause()`: the only timers are tokio timers (the server's
//! expiry of a cut-off session, delayed watch events, on the runtime the
//! client was connected from; delayed answers, on the runtime of the
//! request).

use std::time::Duration;

use crate::client::ClientId;
use crate::counts::OpCounts;
use crate::server::MemoryServer;
use crate::session::ExpiryTimer;
use crate::store::MemoryStore;
use tenure_core::Path;

impl MemoryStore {
    /// The server ends this client's session now, as if it had timed out:
    /// its ephemeral nodes are deleted (firing other clients' watches), its
    /// own pending watches fire [`Lost`](tenure_core::WatchEvent::Lost).
    ///
    /// A connected client learns at once: its state becomes
    /// [`Expired(s)`](tenure_core::SessionState::Expired), then it opens a new session
    /// and reports [`Connected(t)`](tenure_core::SessionState::Connected) with `t != s`
    /// before this returns (observers of the state stream may see only the
    /// latter). A suspended client learns on [`resume`](Self::resume). A
    /// closed client is left as it is.
    pub fn expire_session(&self) {
        self.server().apply(|st| st.expire(self.id()));
    }

    /// Cuts the connection: every request fails with
    /// [`ConnectionLost`](tenure_core::Error::ConnectionLost) and the state
    /// becomes [`Suspended(s)`](tenure_core::SessionState::Suspended). The session stays
    /// alive on the server for the session timeout, measured on tokio time
    /// from now, and then ends (ephemeral nodes deleted) unless
    /// [`resume`](Self::resume) comes first. Watch events for this client
    /// are held meanwhile and delivered on resume. Does nothing unless
    /// connected.
    pub fn suspend(&self) {
        let timer = self.server().apply(|st| st.suspend(self.id(), false));
        self.server().start(timer);
    }

    /// Cuts the connection silently, as a network partition that drops
    /// packets without resetting the connection: the client is not told.
    /// Its state stays [`Connected(s)`](tenure_core::SessionState::Connected)
    /// and its [`session_deadline`](tenure_core::CoordinationStore::session_deadline)
    /// keeps moving as on a healthy connection (a client library that has
    /// not noticed); its requests are neither answered nor failed but wait
    /// for the connection to heal; its watch events are held. On the server
    /// the session ends after the session timeout, measured on tokio time
    /// from now, as for [`suspend`](Self::suspend).
    ///
    /// [`resume`](Self::resume) heals it: if the session is still alive the
    /// waiting requests are then handled and the held events delivered; if
    /// the server ended it meanwhile, the state becomes
    /// [`Expired(s)`](tenure_core::SessionState::Expired) then
    /// [`Connected(t)`](tenure_core::SessionState::Connected), and the
    /// waiting requests fail with
    /// [`ConnectionLost`](tenure_core::Error::ConnectionLost). Only a worker
    /// that times its own requests can tell it is cut off. Does nothing
    /// unless connected.
    pub fn partition(&self) {
        let timer = self.server().apply(|st| st.suspend(self.id(), true));
        self.server().start(timer);
    }

    /// Restores a suspended connection. If the session is still alive the
    /// state returns to [`Connected(s)`](tenure_core::SessionState::Connected) and the
    /// held watch events are delivered; if the server ended it meanwhile,
    /// the state becomes [`Expired(s)`](tenure_core::SessionState::Expired) and then
    /// [`Connected(t)`](tenure_core::SessionState::Connected) with a new session, and the
    /// held events (`Lost` for the watches still pending at the end) are
    /// delivered. Also heals a [`partition`](Self::partition). Does nothing
    /// unless suspended or partitioned.
    pub fn resume(&self) {
        self.server().apply(|st| st.resume(self.id()));
    }

    /// Delays every later node and children watch event of this client by
    /// `delay` (tokio time); [`Duration::ZERO`] switches the delay off.
    /// Events already on their way keep their delay.
    pub fn delay_watches(&self, delay: Duration) {
        self.with_faults(|f| f.delay = delay);
    }

    /// While `on`, node and children watch events of this client are never
    /// delivered: the watch stays pending (it fires
    /// [`Lost`](tenure_core::WatchEvent::Lost) only when the session ends),
    /// as if the notification were lost on the way.
    pub fn drop_watches(&self, on: bool) {
        self.with_faults(|f| f.drop = on);
    }

    /// Loses the answers of the next `count` writes (create, set, delete,
    /// or a multi writing at least one node) at or under `under`: the
    /// server handles each as usual (a successful write stays applied,
    /// watches fire), and the client gets
    /// [`ConnectionLost`](tenure_core::Error::ConnectionLost) instead of
    /// the answer, as when a connection drops after the server applied a
    /// request. The session and the connection stay as they are. A `count`
    /// of zero switches it off. Reads and other paths are not affected.
    pub fn lose_answers(&self, under: &Path, count: u32) {
        self.answer_faults().lose(under, count);
    }

    /// Delays the answers of this client's later requests by `delay`
    /// (tokio time), as a slow network or a server stalled on its disk
    /// would; [`Duration::ZERO`] switches it off. The server handles each
    /// request at once, as usual (a write is applied and visible to other
    /// clients, watches fire, the request is counted); only its answer
    /// reaches the client `delay` later. So the session stays alive on the
    /// server while the client waits, and a client that counts a session's
    /// life from the send time of its last answered request stays
    /// conservative.
    ///
    /// An answer on its way is lost, the client getting
    /// [`ConnectionLost`](tenure_core::Error::ConnectionLost) (the request
    /// stays applied), if meanwhile the connection is cut
    /// ([`suspend`](Self::suspend), even if resumed since), the session
    /// ends, or the client is closed. A
    /// [`partition`](Self::partition) holds it further until healed, like a
    /// request. Answers already on their way keep their delay; each takes
    /// its own, so answers of different delays may overtake each other.
    /// Requests refused before reaching the server (a cut connection, a
    /// payload too large) fail at once, and watch events are not delayed
    /// (see [`delay_watches`](Self::delay_watches)). The client's
    /// [`session_deadline`](tenure_core::CoordinationStore::session_deadline)
    /// is that of a healthy connection.
    ///
    /// Sets the delay of reads and writes alike; see
    /// [`delay_write_answers`](Self::delay_write_answers) for writes alone.
    pub fn delay_answers(&self, delay: Duration) {
        self.answer_faults().delay_all(delay);
    }

    /// Delays the answers of this client's later writes (create, set,
    /// delete, or a multi writing at least one node) by `delay`, as
    /// [`delay_answers`](Self::delay_answers) does, leaving the delay of
    /// reads as it is: a ZooKeeper server stalled on the fsync of its
    /// transaction log still answers reads from memory at once.
    /// [`Duration::ZERO`] switches it off; `delay_answers` sets both again.
    pub fn delay_write_answers(&self, delay: Duration) {
        self.answer_faults().delay_writes(delay);
    }

    /// How many watches this client has armed that have not fired and
    /// that it still holds (dropped ones do not count): what the server
    /// keeps for it.
    pub fn watch_count(&self) -> usize {
        self.server().lock().watches.held_by(self.id())
    }

    /// The requests this client sent to the server so far.
    pub fn op_counts(&self) -> OpCounts {
        self.server()
            .lock()
            .clients
            .get(&self.id())
            .map(|c| c.counts)
            .unwrap_or_default()
    }

    fn with_faults(&self, f: impl FnOnce(&mut crate::client::DeliveryFaults)) {
        if let Some(c) = self.server().lock().clients.get_mut(&self.id()) {
            f(&mut c.faults);
        }
    }
}

impl MemoryServer {
    /// Starts an expiry timer of a cut-off session.
    pub(crate) fn start(&self, timer: Option<ExpiryTimer>) {
        let Some(timer) = timer else {
            return;
        };
        let server = self.clone();
        timer.handle.spawn(async move {
            tokio::time::sleep(timer.after).await;
            server.apply(|st| st.cut_timed_out(timer.session, timer.epoch));
        });
    }

    pub(crate) fn close(&self, client: ClientId) {
        self.apply(|st| st.close(client));
    }

    pub(crate) fn detach(&self, client: ClientId) {
        let timer = self.apply(|st| st.detach(client));
        self.start(timer);
    }

    pub(crate) fn deadline(&self, client: ClientId) -> Option<tokio::time::Instant> {
        self.lock().clients.get(&client).and_then(|c| c.deadline())
    }

    /// The client's current session, if any.
    pub(crate) fn session_of(&self, client: ClientId) -> Option<tenure_core::SessionId> {
        self.lock().clients.get(&client).and_then(|c| c.session)
    }

    /// The client's current session and how often its connection dropped:
    /// an answer is delivered only if both are the same as when it left.
    pub(crate) fn connection_of(
        &self,
        client: ClientId,
    ) -> Option<(Option<tenure_core::SessionId>, u64)> {
        self.lock()
            .clients
            .get(&client)
            .map(|c| (c.session, c.drops))
    }
}

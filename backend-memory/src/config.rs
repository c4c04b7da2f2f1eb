//! What an in-memory server accepts.

use std::time::Duration;

/// The limits of a [`MemoryServer`](crate::MemoryServer).
///
/// ```
/// use tenure_memory::{MemoryConfig, MemoryServer};
///
/// let server = MemoryServer::with_config(MemoryConfig {
///     max_payload: 4096,
///     ..MemoryConfig::default()
/// });
/// assert_eq!(server.config().max_payload, 4096);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryConfig {
    /// The largest node payload accepted, in bytes. Default 1 MiB
    /// (1 048 576 bytes), ZooKeeper's default `jute.maxbuffer`.
    pub max_payload: usize,
    /// The shortest session timeout granted; shorter requests are raised to
    /// it, as ZooKeeper negotiates. Default 1 ms.
    pub min_session_timeout: Duration,
    /// The longest session timeout granted; longer requests are lowered to
    /// it. Default 1 hour.
    pub max_session_timeout: Duration,
    /// The most sessions open at once; a connect beyond it is refused with
    /// [`Error::ConnectionLost`](tenure_core::Error::ConnectionLost), as a
    /// ZooKeeper server with `maxClientCnxns` drops the connection.
    /// Default: no limit.
    pub max_sessions: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            max_payload: 1_048_576,
            min_session_timeout: Duration::from_millis(1),
            max_session_timeout: Duration::from_secs(3600),
            max_sessions: usize::MAX,
        }
    }
}

impl MemoryConfig {
    /// The session timeout granted for a requested one.
    pub fn negotiate(&self, requested: Duration) -> Duration {
        requested.clamp(
            self.min_session_timeout,
            self.max_session_timeout.max(self.min_session_timeout),
        )
    }
}

//! Waiting for the signal that asks a service to stop.
//!
//! Listen first, then tell the user (or a supervisor) that the service is
//! ready: a SIGTERM that arrives before the listener exists ends the
//! process at once, without the graceful shutdown.

/// The stop signals (SIGTERM on Unix, Ctrl-C), listened to from
/// [`StopSignal::listen`] on.
pub struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignal {
    /// Starts listening.
    ///
    /// # Errors
    /// When a signal handler cannot be installed.
    pub fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignal {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    /// Resolves when a stop signal arrived since [`StopSignal::listen`].
    ///
    /// # Errors
    /// When Ctrl-C cannot be listened to (not Unix).
    pub async fn received(mut self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Ok(()),
                _ = self.interrupt.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await
    }
}

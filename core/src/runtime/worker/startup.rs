//! Creating the cluster layout before the worker's first step.

use tracing::debug;

use crate::error::{Error, Result};
use crate::runtime::worker::inner::Inner;
use crate::store::StoreExt;

/// Creates the cluster layout. A worker may start while its connection is
/// down (or its session is being renewed): it retries with backoff until
/// the store answers, or until it is asked to stop (returns false).
pub(super) async fn create_layout(inner: &Inner) -> Result<bool> {
    let mut backoff =
        crate::backoff::requests(inner.member.timing.heartbeat, inner.member.id.as_str());
    loop {
        let attempt = async {
            for path in inner.member.layout.skeleton() {
                inner.member.store.create_all(path).await?;
            }
            Ok(())
        };
        // Bounded: a request hung on a cut connection is retried.
        let attempt = tokio::time::timeout(inner.member.timing.session_timeout, attempt);
        let made: Result<()> = tokio::select! {
            made = attempt => made.unwrap_or_else(|_| Err(Error::Timeout {
                operation: "creating the cluster layout".into(),
                after: inner.member.timing.session_timeout,
            })),
            _ = inner.shutdown.cancelled() => return Ok(false),
            _ = inner.kill.cancelled() => return Ok(false),
        };
        match made {
            Ok(()) => return Ok(true),
            // A folder missing: the cluster is being removed
            // (`Admin::remove_cluster`) meanwhile; make it again.
            Err(e)
                if e.is_retryable()
                    || e.is_not_found()
                    || matches!(e, Error::SessionExpired { .. }) =>
            {
                debug!(error = %e, "creating the cluster layout failed; retrying");
            }
            Err(e) => return Err(e),
        }
        let pause = backoff.next_pause();
        tokio::select! {
            _ = inner.shutdown.cancelled() => return Ok(false),
            _ = inner.kill.cancelled() => return Ok(false),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

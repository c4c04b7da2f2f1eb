//! Opening a store: client, root node and first lease, bounded in time.

use std::sync::Mutex;
use std::time::Duration;

use etcd_client::{Client, Compare, CompareOp, ConnectOptions, GetOptions, Txn, TxnOp};
use tenure_core::backoff::Backoff;
use tenure_core::{Error, Path, Result};
use tokio::time::Instant;

use crate::config::EtcdConfig;
use crate::endpoints::{self, Endpoint, Rotation};
use crate::errors;
use crate::keys::Keys;
use crate::shared::{self, LiveLease};

/// The seed of this process's retry jitter towards these endpoints: two
/// processes retrying the same cluster pause differently.
pub(crate) fn jitter_seed(config: &EtcdConfig) -> String {
    format!("{}#{}", config.endpoints.join(","), std::process::id())
}

/// Connects, creates the namespace's root node if missing, and grants the
/// first lease, retrying transient failures until the connect timeout.
///
/// # Errors
/// [`Error::Timeout`] naming the endpoints and the last failure;
/// [`Error::Unauthorized`] at once for refused credentials; other
/// non-transient errors at once.
pub(crate) async fn open(
    config: &EtcdConfig,
    keys: &Keys,
) -> Result<(Client, LiveLease, Rotation)> {
    let bound = config.connect_timeout;
    let last: Mutex<Option<String>> = Mutex::new(None);
    let attempts = async {
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1))
            .seeded(&jitter_seed(config));
        loop {
            match attempt(config, keys).await {
                Ok(opened) => return Ok(opened),
                Err(e) if e.is_retryable() => {
                    #[cfg(feature = "tls")]
                    if let Some(problem) = crate::tls::certificate_problem(config).await {
                        return Err(problem);
                    }
                    tracing::debug!(error = %e, "connecting to etcd failed; retrying");
                    *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    tokio::time::sleep(backoff.next_pause()).await;
                }
                Err(e) => return Err(e),
            }
        }
    };
    match tokio::time::timeout(bound, attempts).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let last = last.lock().unwrap_or_else(|p| p.into_inner()).take();
            let cause =
                last.map_or_else(|| "no answer".to_string(), |e| format!("last error: {e}"));
            Err(Error::Timeout {
                operation: format!(
                    "connecting to etcd at {} ({cause})",
                    config.endpoints.join(",")
                ),
                after: bound,
            })
        }
    }
}

/// Connects through the endpoints that accept connections (see
/// `endpoints.rs`), creates the root node and grants a lease.
async fn attempt(config: &EtcdConfig, keys: &Keys) -> Result<(Client, LiveLease, Rotation)> {
    let all: Vec<Endpoint> = config
        .endpoints
        .iter()
        .map(|e| Endpoint::parse(e, uses_tls(config)))
        .collect();
    let used = endpoints::choose(&endpoints::probe_all(&all).await);
    let rotation = Rotation::new(all, used);
    let client = Client::connect(rotation.used_urls(), Some(options(config)?))
        .await
        .map_err(|e| errors::map(e, None))?;
    ensure_root(&client, keys).await?;
    let lease = grant(&client, config).await?;
    Ok((client, lease, rotation))
}

/// Whether a bare `host:port` endpoint means `https://`.
fn uses_tls(config: &EtcdConfig) -> bool {
    #[cfg(feature = "tls")]
    return config.tls.is_some();
    #[cfg(not(feature = "tls"))]
    {
        let _ = config;
        false
    }
}

fn options(config: &EtcdConfig) -> Result<ConnectOptions> {
    let ttl = Duration::from_secs(config.lease_ttl().unsigned_abs());
    let probe = shared::period(ttl, config.keep_alive_interval, None);
    let mut options = ConnectOptions::new()
        .with_connect_timeout(config.connect_timeout)
        .with_keep_alive(probe, probe)
        .with_keep_alive_while_idle(true)
        .with_require_leader(true);
    if let Some(c) = &config.credentials {
        options = options
            .with_user(c.user.clone(), c.password.clone())
            .with_auto_token_refresh(true);
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
        options = options.with_tls(crate::tls::options(tls));
    }
    Ok(options)
}

/// Creates the store's root node (empty, persistent) unless it exists.
/// Reads first, so that a user with read-only rights on the namespace
/// can connect to a namespace that exists (a transaction holding a put
/// needs write rights even when its comparison fails).
async fn ensure_root(client: &Client, keys: &Keys) -> Result<()> {
    let root = keys.node(&Path::root());
    let found = client
        .kv_client()
        .get(root.clone(), Some(GetOptions::new().with_count_only()))
        .await
        .map_err(|e| errors::map(e, None))?;
    if found.count() > 0 {
        return Ok(());
    }
    let txn = Txn::new()
        .when([Compare::create_revision(root.clone(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(root, Vec::new(), None)]);
    client
        .kv_client()
        .txn(txn)
        .await
        .map_err(|e| errors::map(e, None))?;
    Ok(())
}

/// Grants a lease with the configured TTL, bounded by the connect timeout.
///
/// # Errors
/// [`Error::Timeout`]; request errors.
pub(crate) async fn grant(client: &Client, config: &EtcdConfig) -> Result<LiveLease> {
    let sent = Instant::now();
    let mut leases = client.lease_client();
    let after = config.connect_timeout;
    let granted = tokio::time::timeout(after, leases.grant(config.lease_ttl(), None))
        .await
        .map_err(|_| Error::Timeout {
            operation: format!("granting an etcd lease at {}", config.endpoints.join(",")),
            after,
        })?
        .map_err(|e| errors::map(e, None))?;
    if !granted.error().is_empty() {
        return Err(Error::Backend {
            backend: errors::BACKEND,
            message: format!("etcd refused a lease: {}", granted.error()),
            source: None,
        });
    }
    let ttl = Duration::from_secs(granted.ttl().unsigned_abs());
    Ok(LiveLease {
        id: granted.id(),
        ttl,
        deadline: sent + ttl,
    })
}

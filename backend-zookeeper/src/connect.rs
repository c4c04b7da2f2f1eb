//! Opening one ZooKeeper session, bounded in time.

use std::time::Duration;

use tenure_core::backoff::Backoff;
use tenure_core::{Error, Result, SessionId};
use tokio::time::Instant;
use zookeeper_client as zk;

use crate::acl;
use crate::config::ZkConfig;
use crate::errors;

/// A session just opened.
pub(crate) struct Opened {
    /// The client (chrooted when configured), the only handle of the session.
    pub client: zk::Client,
    /// The session's id.
    pub session: SessionId,
    /// The timeout the server granted.
    pub timeout: Duration,
    /// When the successful attempt started: the server heard from this
    /// session no earlier.
    pub started: Instant,
}

/// Opens a session: connects (retrying refused or dropped connections with
/// a short backoff), authenticates, prepares the chroot; all within the
/// configured connect timeout.
///
/// # Errors
/// [`Error::Timeout`] naming the servers and the last failure when no
/// session could be established in time; [`Error::Unauthorized`] when the
/// server refuses the credentials or the chroot's ACL refuses this client.
pub(crate) async fn open(config: &ZkConfig) -> Result<Opened> {
    let limit = config.connect_timeout;
    let deadline = Instant::now() + limit;
    let mut connector = zk::Client::connector()
        .with_session_timeout(config.session_timeout)
        .with_fail_eagerly();
    if let Some(c) = &config.credentials {
        connector = connector.with_auth("digest", &c.auth_bytes());
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
        connector = connector.with_tls(crate::tls::options(tls)?);
    }
    let timed_out = |last: &str| Error::Timeout {
        operation: format!(
            "connecting to ZooKeeper at {} (last attempt: {last})",
            config.servers
        ),
        after: limit,
    };
    let mut backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(500))
        .seeded(&format!("{}#{}", config.servers, std::process::id()));
    let mut last = String::from("no answer");
    loop {
        let started = Instant::now();
        let attempt = dial(connector.clone(), config);
        match tokio::time::timeout_at(deadline, attempt).await {
            Err(_) => return Err(timed_out(&last)),
            Ok(Ok(client)) => {
                let session = SessionId(client.session_id().0 as u64);
                let prepared = tokio::time::timeout_at(deadline, finish(client, config, session));
                let client = prepared
                    .await
                    .map_err(|_| timed_out("preparing the chroot"))??;
                let timeout = client.session_timeout();
                tracing::debug!(%session, ?timeout, servers = %config.servers, "ZooKeeper session opened");
                return Ok(Opened {
                    client,
                    session,
                    timeout,
                    started,
                });
            }
            Ok(Err(zk::Error::AuthFailed)) => {
                return Err(errors::map_session(zk::Error::AuthFailed, SessionId(0)));
            }
            Ok(Err(zk::Error::BadArguments(why))) => {
                return Err(Error::InvalidInput(format!(
                    "ZooKeeper servers {:?}: {why}",
                    config.servers
                )));
            }
            // Over TLS a refused handshake looks like a dropped
            // connection: a handshake of our own tells which it was.
            #[cfg(feature = "tls")]
            Ok(Err(zk::Error::NoHosts)) if config.tls.is_some() => {
                if let Some(problem) = crate::tls::certificate_problem(config).await {
                    return Err(problem);
                }
                last = "connection refused or closed".to_string();
            }
            Ok(Err(e)) => {
                last = match e {
                    zk::Error::NoHosts => "connection refused or closed".to_string(),
                    zk::Error::Timeout => "no answer".to_string(),
                    other => other.to_string(),
                };
                tracing::debug!(servers = %config.servers, error = %last, "ZooKeeper connect attempt failed");
            }
        }
        let pause = backoff.next_pause();
        if Instant::now() + pause >= deadline {
            tokio::time::sleep_until(deadline).await;
            return Err(timed_out(&last));
        }
        tokio::time::sleep(pause).await;
    }
}

/// One attempt to open a session, over TLS when configured.
async fn dial(connector: zk::Connector, config: &ZkConfig) -> Result<zk::Client, zk::Error> {
    #[cfg(feature = "tls")]
    if config.tls.is_some() {
        return connector.secure_connect(&config.servers).await;
    }
    connector.connect(&config.servers).await
}

/// Prepares the chroot, if any, and confines the client to it.
async fn finish(client: zk::Client, config: &ZkConfig, session: SessionId) -> Result<zk::Client> {
    let Some(chroot) = &config.chroot else {
        return Ok(client);
    };
    acl::prepare_chroot(&client, chroot, config.credentials.as_ref(), session).await?;
    client
        .chroot(chroot.as_str())
        .map_err(|_| Error::InvalidPath {
            path: chroot.to_string(),
            reason: "ZooKeeper refused it as a chroot".into(),
        })
}

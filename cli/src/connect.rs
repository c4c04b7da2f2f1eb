//! Opening the store the connect options name, within a bounded time.

use std::sync::Arc;
use std::time::Duration;

use tenure_core::{DynStore, Error, Path};
use tracing::{debug, info};

use crate::args::{Backend, ConnectArgs};
use crate::error::{CliError, CliResult};

/// Extra time allowed on top of `--connect-timeout` before the whole
/// attempt is abandoned, for a backend that does not bound itself.
const OUTER_SLACK: Duration = Duration::from_secs(2);

/// Connects to the store of `args`, refusing bad options before any
/// network traffic.
///
/// # Errors
/// [`CliError::Invalid`] for bad options, [`CliError::Unreachable`] when no
/// server answered within the connect timeout, [`CliError::Unauthorized`]
/// when the credentials are refused.
pub async fn connect(args: &ConnectArgs) -> CliResult<DynStore> {
    let hosts = servers(args);
    if args.password.is_some() && args.user.is_none() {
        return Err(CliError::Invalid(
            "a password was given (--password or TENURE_PASSWORD) without a user (--user or TENURE_USER)"
                .into(),
        ));
    }
    let attempt = async {
        match args.backend {
            Backend::Zookeeper => zookeeper(args, &hosts).await,
            Backend::Etcd => etcd(args, &hosts).await,
        }
    };
    let limit = args.connect_timeout + OUTER_SLACK;
    let store = match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result.map_err(|e| explain(args, &hosts, e))?,
        Err(_) => {
            return Err(unreachable(args, &hosts, limit));
        }
    };
    let info = store.info();
    info!(backend = info.backend, servers = %hosts, session_timeout = ?info.session_timeout, "connected");
    Ok(store)
}

/// The servers `args` name: `--connect`, or the backend's default.
pub fn servers(args: &ConnectArgs) -> String {
    args.connect
        .clone()
        .unwrap_or_else(|| args.backend.default_connect().to_owned())
}

fn unreachable(args: &ConnectArgs, hosts: &str, after: Duration) -> CliError {
    CliError::Unreachable(format!(
        "cannot reach {} at {hosts} within {after:?}: is the server running and the address right? (--connect, --connect-timeout)",
        args.backend.name()
    ))
}

/// Words a connect error for the command line.
fn explain(args: &ConnectArgs, hosts: &str, e: Error) -> CliError {
    debug!(error = ?e, "connect failed");
    match e {
        Error::Timeout { after, .. } => unreachable(args, hosts, after),
        Error::ConnectionLost { detail } => CliError::Unreachable(format!(
            "cannot reach {} at {hosts}: {detail}",
            args.backend.name()
        )),
        Error::Unauthorized { detail } => CliError::Unauthorized(format!(
            "{} at {hosts} refused the credentials of user {:?}: {detail}",
            args.backend.name(),
            args.user.as_deref().unwrap_or("")
        )),
        other => other.into(),
    }
}

async fn zookeeper(args: &ConnectArgs, hosts: &str) -> Result<DynStore, Error> {
    use tenure_zookeeper::{Credentials, ZkConfig};

    let (servers, chroot) = match hosts.find('/') {
        Some(at) => (&hosts[..at], Some(Path::new(&hosts[at..])?)),
        None => (hosts, None),
    };
    let mut config = ZkConfig::new(servers)
        .with_session_timeout(args.session_timeout)
        .with_connect_timeout(args.connect_timeout);
    if let Some(chroot) = chroot {
        config = config.with_chroot(chroot);
    }
    if let Some(tick) = args.zk_tick_time {
        config = config.with_tick_time(tick);
    }
    if let Some(user) = &args.user {
        let password = args.password.as_ref().map(|p| p.expose()).unwrap_or("");
        config = config.with_credentials(Credentials::new(user, password)?);
    }
    config.validate()?;
    Ok(Arc::new(config.connect().await?))
}

/// etcd: `--connect` is a comma-separated list of endpoints
/// (`host:port` or `http://host:port`); the session timeout becomes the
/// lease TTL (rounded up to whole seconds, possibly raised by the server);
/// the cluster lives under the default namespace `/tenure`.
#[cfg(feature = "etcd")]
async fn etcd(args: &ConnectArgs, hosts: &str) -> Result<DynStore, Error> {
    use tenure_etcd::{Credentials, EtcdConfig};

    let endpoints = hosts.split(',').map(str::trim).filter(|e| !e.is_empty());
    let mut config = EtcdConfig::new(endpoints)
        .with_session_timeout(args.session_timeout)
        .with_connect_timeout(args.connect_timeout);
    if let Some(user) = &args.user {
        let password = args.password.as_ref().map(|p| p.expose()).unwrap_or("");
        config = config.with_credentials(Credentials::new(user, password)?);
    }
    config.validate()?;
    Ok(Arc::new(config.connect().await?))
}

#[cfg(not(feature = "etcd"))]
async fn etcd(_args: &ConnectArgs, _hosts: &str) -> Result<DynStore, Error> {
    Err(Error::InvalidInput(
        "this tenure was built without the etcd backend: rebuild tenure-cli with its `etcd` feature (needs protoc)"
            .into(),
    ))
}

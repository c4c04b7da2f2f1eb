//! The demo's etcd clients (built with `--features etcd`, which needs
//! `protoc`).

use std::sync::Arc;
use std::time::Duration;

use tenure::DynStore;
use tenure::etcd::EtcdConfig;

use crate::backend::Error;

/// Opens an etcd store on `endpoints` whose lease TTL is `session`
/// (rounded up to whole seconds).
///
/// # Errors
/// Bad endpoints; the server unreachable within `connect_timeout`.
pub async fn connect(
    endpoints: &[String],
    session: Duration,
    connect_timeout: Duration,
) -> Result<DynStore, Error> {
    let config = EtcdConfig::new(endpoints)
        .with_session_timeout(session)
        .with_connect_timeout(connect_timeout);
    config.validate()?;
    Ok(Arc::new(config.connect().await?))
}

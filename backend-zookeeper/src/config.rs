//! How to reach a ZooKeeper ensemble: servers, chroot, timeouts and
//! credentials.

use std::fmt;
use std::time::Duration;

use tenure_core::{Error, Path, Result};

/// The default session timeout asked of the server.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The default bound on establishing a session.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Digest credentials (`user:password`), as ZooKeeper's `digest` scheme
/// takes them. The password never appears in `Debug` output.
///
/// With the `serde` feature it deserializes from a table of `user` and
/// `password`, through [`Credentials::new`]; no error of its own shows the
/// password. In TOML, write it as a `[credentials]` table rather than an
/// inline one: the `toml` crate quotes the line an error is on.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tenure_zookeeper::Credentials;
///
/// let credentials: Credentials = toml::from_str("user = \"tenure\"\npassword = \"secret\"").unwrap();
/// assert_eq!(credentials.user(), "tenure");
/// assert!(toml::from_str::<Credentials>("user = \"a:b\"\npassword = \"secret\"").is_err());
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(try_from = "tenure_core::config_file::UserPassword")
)]
pub struct Credentials {
    user: String,
    password: String,
    /// The ACL granting this identity all rights, `digest:<user>:<hash>`.
    acl: [zookeeper_client::Acl; 1],
}

impl Credentials {
    /// Credentials for `user` with `password`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the user is empty or contains `:`.
    pub fn new(user: &str, password: &str) -> Result<Self> {
        if user.is_empty() || user.contains(':') {
            return Err(Error::InvalidInput(format!(
                "ZooKeeper digest user {user:?} must be non-empty and contain no `:`"
            )));
        }
        let id = crate::acl::digest_id(user, password);
        let acl = zookeeper_client::Acl::new(
            zookeeper_client::Permission::ALL,
            zookeeper_client::AuthId::new("digest", &id),
        );
        Ok(Credentials {
            user: user.to_string(),
            password: password.to_string(),
            acl: [acl],
        })
    }

    /// Parses `user:password` (the password may contain `:`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when there is no `:` or the user is empty.
    pub fn parse(user_password: &str) -> Result<Self> {
        match user_password.split_once(':') {
            Some((user, password)) => Self::new(user, password),
            None => Err(Error::InvalidInput(
                "ZooKeeper digest credentials must have the form user:password".into(),
            )),
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The ACL of every node created with these credentials.
    pub(crate) fn acl(&self) -> &[zookeeper_client::Acl] {
        &self.acl
    }

    /// The `user:password` bytes sent with the `digest` scheme.
    pub(crate) fn auth_bytes(&self) -> Vec<u8> {
        format!("{}:{}", self.user, self.password).into_bytes()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// Everything needed to open a [`ZkStore`](crate::ZkStore); a builder:
///
/// ```no_run
/// # async fn demo() -> tenure_core::Result<()> {
/// use std::time::Duration;
/// use tenure_zookeeper::{Credentials, ZkConfig};
///
/// let store = ZkConfig::new("10.0.0.1:2181,10.0.0.2:2181")
///     .with_chroot(tenure_core::Path::new("/tenure")?)
///     .with_session_timeout(Duration::from_secs(6))
///     .with_credentials(Credentials::parse("tenure:secret")?)
///     .connect()
///     .await?;
/// # drop(store); Ok(()) }
/// ```
///
/// With the `serde` feature it deserializes from a configuration file:
/// each builder method is a field (durations as text, such as `"4s"`),
/// each value goes through the builder and [`ZkConfig::validate`], and an
/// error names the field; unknown fields are refused. `tls` takes
/// [`tenure_core::TlsConfig`]'s fields (PEM files) and needs the `tls`
/// feature.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use tenure_zookeeper::ZkConfig;
///
/// let config: ZkConfig = toml::from_str(
///     r#"
///     servers = "10.0.0.1:2181,10.0.0.2:2181"   # required
///     chroot = "/tenure"
///     session_timeout = "6s"
///     connect_timeout = "10s"
///     tick_time = "2s"
///     reconnect_backoff = { min = "50ms", max = "1s" }
///
///     [credentials]
///     user = "tenure"
///     password = "secret"
///
///     ## [tls]                                   # with the `tls` feature
///     ## ca_file = "/etc/zookeeper/ca.pem"
///     ## cert_file = "/etc/zookeeper/client.pem"
///     ## key_file = "/etc/zookeeper/client-key.pem"
///     "#,
/// )
/// .unwrap();
/// assert_eq!(config.session_timeout(), Duration::from_secs(6));
/// assert!(!format!("{config:?}").contains("secret"));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(try_from = "crate::config_file::RawZkConfig")
)]
pub struct ZkConfig {
    pub(crate) servers: String,
    pub(crate) chroot: Option<Path>,
    pub(crate) session_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) reconnect_backoff: (Duration, Duration),
    pub(crate) tick_time: Option<Duration>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
}

impl ZkConfig {
    /// A configuration for the servers `host:port,host:port,…`, with the
    /// default timeouts, no chroot and no credentials.
    pub fn new(servers: impl Into<String>) -> Self {
        ZkConfig {
            servers: servers.into(),
            chroot: None,
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            credentials: None,
            reconnect_backoff: (Duration::from_millis(50), Duration::from_secs(1)),
            tick_time: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Confines the store below `chroot`: the store's `/` is that node. It
    /// is created (with the store's ACL) if missing.
    pub fn with_chroot(mut self, chroot: Path) -> Self {
        self.chroot = (!chroot.is_root()).then_some(chroot);
        self
    }

    /// The session timeout to ask for; the server clamps it to its
    /// `[minSessionTimeout, maxSessionTimeout]` (by default 2 to 20 ticks),
    /// and [`StoreInfo::session_timeout`](tenure_core::StoreInfo) reports
    /// what it granted.
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// How long establishing a session may take before
    /// [`Error::Timeout`] (also bounds each attempt to renew an expired
    /// session).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Authenticates every session with these digest credentials, and
    /// protects every node the store creates with an ACL granting all rights
    /// to this identity (`digest:<user>:<hash>`) and none to anyone else,
    /// whatever other identity the session has (an `x509` one over TLS).
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The pause between attempts to open a new session after the old one
    /// ended: starts at `min`, doubles up to `max`.
    pub fn with_reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_backoff = (min, max.max(min));
        self
    }

    /// The ensemble's `tickTime`, or an upper bound of it. The leader
    /// learns that a client of a follower is alive only from the
    /// follower's replies to its pings, sent every half tick; the session
    /// deadline counts from requests proven to have reached the leader
    /// that way, so a shorter tick keeps it closer to "now + session
    /// timeout" for the same number of renewal writes.
    ///
    /// Unset, the store assumes the largest tick the granted session
    /// timeout allows under the server's default `minSessionTimeout`
    /// (2 × tickTime): half that timeout. Set it when the ensemble's
    /// `minSessionTimeout` is below 2 × tickTime: a tick above the
    /// assumed one could let the deadline run past the leader's expiry.
    pub fn with_tick_time(mut self, tick: Duration) -> Self {
        self.tick_time = Some(tick);
        self
    }

    /// Connects to every server over TLS (the servers' secure client
    /// port) with these certificates (requires the `tls` feature).
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The TLS configuration, if any.
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&crate::tls::TlsConfig> {
        self.tls.as_ref()
    }

    /// The same configuration for other servers.
    pub fn with_servers(mut self, servers: impl Into<String>) -> Self {
        self.servers = servers.into();
        self
    }

    /// The servers, as given.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// The chroot, if any.
    pub fn chroot(&self) -> Option<&Path> {
        self.chroot.as_ref()
    }

    /// The session timeout asked for.
    pub fn session_timeout(&self) -> Duration {
        self.session_timeout
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The ensemble's tickTime as configured, if it was.
    pub fn tick_time(&self) -> Option<Duration> {
        self.tick_time
    }

    /// Checks the configuration without contacting any server.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the bad server entry or timeout.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidInput(why));
        if self.servers.trim().is_empty() {
            return bad("no ZooKeeper server given (expected host:port,host:port)".into());
        }
        for server in self.servers.split(',') {
            let server = server.trim();
            let Some((host, port)) = server.rsplit_once(':') else {
                return bad(format!("ZooKeeper server {server:?} is not host:port"));
            };
            if host.is_empty() || host.contains('/') || port.parse::<u16>().is_err() {
                return bad(format!(
                    "ZooKeeper server {server:?} is not host:port (set a chroot with with_chroot)"
                ));
            }
        }
        if self.session_timeout < Duration::from_millis(1) {
            return bad("the ZooKeeper session timeout must be positive".into());
        }
        if self.connect_timeout < Duration::from_millis(1) {
            return bad("the ZooKeeper connect timeout must be positive".into());
        }
        if self.tick_time.is_some_and(|t| t < Duration::from_millis(1)) {
            return bad("the ZooKeeper tickTime must be at least 1 ms".into());
        }
        Ok(())
    }

    /// Opens a store with this configuration; see
    /// [`ZkStore::connect`](crate::ZkStore::connect).
    ///
    /// # Errors
    /// As [`ZkStore::connect`](crate::ZkStore::connect).
    pub async fn connect(self) -> Result<crate::ZkStore> {
        crate::ZkStore::connect(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_and_hide_the_password() {
        let c = Credentials::parse("alice:pa:ss").unwrap();
        assert_eq!(c.user(), "alice");
        assert_eq!(c.auth_bytes(), b"alice:pa:ss");
        assert!(!format!("{c:?}").contains("pa:ss"));
        assert!(Credentials::parse("nocolon").is_err());
        assert!(Credentials::parse(":pw").is_err());
    }

    #[test]
    fn servers_must_be_host_port() {
        assert!(ZkConfig::new("127.0.0.1:2181").validate().is_ok());
        assert!(ZkConfig::new("a:1, b:2").validate().is_ok());
        for bad in ["", "host", "host:port", "a:1/chroot", ":1"] {
            assert!(ZkConfig::new(bad).validate().is_err(), "{bad:?} accepted");
        }
        let zero = ZkConfig::new("a:1").with_session_timeout(Duration::ZERO);
        assert!(zero.validate().is_err());
        let tick = ZkConfig::new("a:1").with_tick_time(Duration::ZERO);
        assert!(tick.validate().is_err());
    }

    #[test]
    fn debug_of_a_whole_configuration_shows_no_secret() {
        let config = ZkConfig::new("a:1")
            .with_credentials(Credentials::parse("alice:PASSWORD-s3cret").unwrap());
        #[cfg(feature = "tls")]
        let config =
            config.with_tls(crate::TlsConfig::new("CA").with_identity("CERT", "KEY-s3cret"));
        let shown = format!("{config:?}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn root_chroot_is_no_chroot() {
        let c = ZkConfig::new("a:1").with_chroot(Path::root());
        assert!(c.chroot.is_none());
    }
}

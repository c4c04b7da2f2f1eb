//! How to reach an etcd cluster: endpoints, namespace, timeouts,
//! credentials, TLS and the server's request limits.

use std::fmt;
use std::time::Duration;

use tenure_core::{Error, Result};

use crate::limits;

/// The default session timeout, which becomes the lease TTL (10 s).
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The default bound on connecting and granting the first lease.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default bound on one request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The default namespace: every key the store writes starts with it.
pub const DEFAULT_NAMESPACE: &str = "/tenure";

/// User name and password for etcd's authentication. The password never
/// appears in `Debug` output.
///
/// With the `serde` feature it deserializes from a table of `user` and
/// `password`, through [`Credentials::new`]; no error of its own shows the
/// password.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tenure_etcd::Credentials;
///
/// let credentials: Credentials = toml::from_str("user = \"tenure\"\npassword = \"secret\"").unwrap();
/// assert_eq!(credentials.user(), "tenure");
/// assert!(toml::from_str::<Credentials>("user = \"\"\npassword = \"secret\"").is_err());
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(try_from = "tenure_core::config_file::UserPassword")
)]
pub struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl Credentials {
    /// Credentials of `user` with `password`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the user name is empty.
    pub fn new(user: &str, password: &str) -> Result<Self> {
        if user.is_empty() {
            return Err(Error::InvalidInput("the etcd user name is empty".into()));
        }
        Ok(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        })
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
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

/// Everything needed to open an [`EtcdStore`](crate::EtcdStore); a
/// builder:
///
/// ```no_run
/// # async fn demo() -> tenure_core::Result<()> {
/// use std::time::Duration;
/// use tenure_etcd::{Credentials, EtcdConfig};
///
/// let store = EtcdConfig::new(["10.0.0.1:2379", "10.0.0.2:2379"])
///     .with_namespace("/tenure")
///     .with_session_timeout(Duration::from_secs(6))
///     .with_credentials(Credentials::new("tenure", "secret")?)
///     .connect()
///     .await?;
/// # drop(store); Ok(()) }
/// ```
///
/// With the `serde` feature it deserializes from a configuration file:
/// each builder method is a field (durations as text, such as `"4s"`),
/// each value goes through the builder and [`EtcdConfig::validate`], and
/// an error names the field; unknown fields are refused. `tls` takes
/// [`tenure_core::TlsConfig`]'s fields (PEM files) and needs the `tls`
/// feature. In TOML, write the credentials as a `[credentials]` table
/// rather than an inline one: the `toml` crate quotes the line an error is
/// on.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use std::time::Duration;
/// use tenure_etcd::EtcdConfig;
///
/// let config: EtcdConfig = toml::from_str(
///     r#"
///     endpoints = ["10.0.0.1:2379", "10.0.0.2:2379"]   # required
///     namespace = "/tenure"
///     session_timeout = "6s"
///     connect_timeout = "10s"
///     request_timeout = "5s"
///     keep_alive_interval = "1s"
///     max_request_bytes = 1572864
///     max_txn_ops = 128
///
///     [credentials]
///     user = "tenure"
///     password = "secret"
///
///     ## [tls]                                          # with the `tls` feature
///     ## ca_file = "/etc/etcd/ca.pem"
///     ## cert_file = "/etc/etcd/client.pem"
///     ## key_file = "/etc/etcd/client-key.pem"
///     ## domain = "etcd.internal"
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
    serde(try_from = "crate::config_file::RawEtcdConfig")
)]
pub struct EtcdConfig {
    pub(crate) endpoints: Vec<String>,
    pub(crate) namespace: String,
    pub(crate) session_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) max_request_bytes: usize,
    pub(crate) max_txn_ops: usize,
    pub(crate) keep_alive_interval: Option<Duration>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
}

impl EtcdConfig {
    /// A configuration for these endpoints (`host:port`, `http://host:port`
    /// or, with the `tls` feature, `https://host:port`), with the default
    /// namespace, timeouts and limits, and no credentials.
    pub fn new<E: AsRef<str>>(endpoints: impl IntoIterator<Item = E>) -> Self {
        EtcdConfig {
            endpoints: endpoints
                .into_iter()
                .map(|e| e.as_ref().trim().to_string())
                .collect(),
            namespace: DEFAULT_NAMESPACE.to_string(),
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            credentials: None,
            max_request_bytes: limits::DEFAULT_MAX_REQUEST_BYTES,
            max_txn_ops: limits::DEFAULT_MAX_TXN_OPS,
            keep_alive_interval: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The prefix of every key the store writes (default `/tenure`); the
    /// store's `/` lives there. Stores with different namespaces never see
    /// each other's nodes.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The session timeout, which becomes the TTL of the session's lease.
    /// etcd counts TTLs in whole seconds: the timeout is rounded **up** to
    /// the next second (at least 1 s), and the server may raise it further
    /// to its minimum (1.5 × its election timeout: 1.5 s rounds to 2 s with
    /// the default 1 s election timeout). [`StoreInfo::session_timeout`]
    /// reports the TTL the server granted.
    ///
    /// [`StoreInfo::session_timeout`]: tenure_core::StoreInfo
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// How long connecting (authenticating and granting the first lease)
    /// may take before [`Error::Timeout`] naming the endpoints; also bounds
    /// each attempt to grant a new lease after expiry.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may wait for its answer before
    /// [`Error::Timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The pause between lease keep-alives, which is also how long an
    /// answer may take before the store reports `Suspended` (at least
    /// 100 ms). By default a third of the TTL, but at most 1 s, so a lost
    /// connection is noticed within about 2 s whatever the TTL.
    pub fn with_keep_alive_interval(mut self, interval: Duration) -> Self {
        self.keep_alive_interval = Some(interval);
        self
    }

    /// Authenticates with etcd's user/password authentication.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The server's `--max-request-bytes` (default 1.5 MiB): payloads are
    /// refused before sending when the request would exceed it (see
    /// [`limits`]).
    pub fn with_max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// The server's `--max-txn-ops` (default 128): a multi whose
    /// transaction would need more comparisons or operations is refused
    /// before sending.
    pub fn with_max_txn_ops(mut self, ops: usize) -> Self {
        self.max_txn_ops = ops;
        self
    }

    /// Connects over TLS: a CA to trust and, optionally, a client
    /// certificate (requires the `tls` feature).
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

    /// The same configuration for other endpoints.
    pub fn with_endpoints<E: AsRef<str>>(mut self, endpoints: impl IntoIterator<Item = E>) -> Self {
        self.endpoints = endpoints
            .into_iter()
            .map(|e| e.as_ref().trim().to_string())
            .collect();
        self
    }

    /// The endpoints, as given.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The session timeout asked for.
    pub fn session_timeout(&self) -> Duration {
        self.session_timeout
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The lease TTL to ask for, in whole seconds: the session timeout
    /// rounded up, at least 1.
    pub fn lease_ttl(&self) -> i64 {
        let millis = self.session_timeout.as_millis();
        i64::try_from(millis.div_ceil(1000))
            .unwrap_or(i64::MAX)
            .max(1)
    }

    /// The largest payload a node may hold with this configuration.
    pub fn max_payload(&self) -> usize {
        limits::max_payload(self.max_request_bytes)
    }

    /// Checks the configuration without contacting any server.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the bad endpoint, namespace, timeout
    /// or limit.
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidInput(why));
        if self.endpoints.is_empty() {
            return bad("no etcd endpoint given (expected host:port)".into());
        }
        for e in &self.endpoints {
            let rest = e
                .strip_prefix("http://")
                .or_else(|| e.strip_prefix("https://"))
                .unwrap_or(e);
            let ok = rest
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !ok {
                return bad(format!("etcd endpoint {e:?} is not host:port"));
            }
            #[cfg(not(feature = "tls"))]
            if e.starts_with("https://") {
                return bad(format!(
                    "etcd endpoint {e:?} needs TLS: enable the `tls` feature of tenure-etcd"
                ));
            }
        }
        if self.namespace.chars().any(char::is_control) {
            return bad(format!(
                "etcd namespace {:?} contains a control character",
                self.namespace
            ));
        }
        for (what, t) in [
            ("session", self.session_timeout),
            ("connect", self.connect_timeout),
            ("request", self.request_timeout),
        ] {
            if t.is_zero() {
                return bad(format!("the etcd {what} timeout must be positive"));
            }
        }
        if self.max_request_bytes <= limits::PAYLOAD_MARGIN {
            return bad(format!(
                "max_request_bytes {} leaves no room for a payload (the store reserves {} bytes for keys and framing)",
                self.max_request_bytes,
                limits::PAYLOAD_MARGIN
            ));
        }
        if self.max_txn_ops < 4 {
            return bad(format!(
                "max_txn_ops {} is below 4, too few for one create",
                self.max_txn_ops
            ));
        }
        Ok(())
    }

    /// Opens a store with this configuration; see
    /// [`EtcdStore::connect`](crate::EtcdStore::connect).
    ///
    /// # Errors
    /// As [`EtcdStore::connect`](crate::EtcdStore::connect).
    pub async fn connect(self) -> Result<crate::EtcdStore> {
        crate::EtcdStore::connect(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up_to_whole_seconds() {
        let ttl = |ms| {
            EtcdConfig::new(["a:1"])
                .with_session_timeout(Duration::from_millis(ms))
                .lease_ttl()
        };
        assert_eq!(ttl(1), 1);
        assert_eq!(ttl(1000), 1);
        assert_eq!(ttl(1001), 2);
        assert_eq!(ttl(2500), 3);
        assert_eq!(ttl(10_000), 10);
    }

    #[test]
    fn endpoints_must_be_host_port() {
        assert!(EtcdConfig::new(["127.0.0.1:2379"]).validate().is_ok());
        assert!(EtcdConfig::new(["http://a:1", "b:2"]).validate().is_ok());
        for bad in ["", "host", "host:port", ":1"] {
            assert!(
                EtcdConfig::new([bad]).validate().is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(EtcdConfig::new(Vec::<String>::new()).validate().is_err());
        let zero = EtcdConfig::new(["a:1"]).with_request_timeout(Duration::ZERO);
        assert!(zero.validate().is_err());
    }

    #[test]
    fn credentials_hide_the_password() {
        let c = Credentials::new("alice", "s3cret").unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(Credentials::new("", "x").is_err());
    }

    #[test]
    fn debug_of_a_whole_configuration_shows_no_secret() {
        let config = EtcdConfig::new(["a:1"])
            .with_credentials(Credentials::new("alice", "PASSWORD-s3cret").unwrap());
        #[cfg(feature = "tls")]
        let config =
            config.with_tls(crate::TlsConfig::new("CA").with_identity("CERT", "KEY-s3cret"));
        let shown = format!("{config:?}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}

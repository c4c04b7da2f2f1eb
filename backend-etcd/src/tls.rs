//! TLS for the connection to etcd (the `tls` feature): the CA that signed
//! the servers' certificates and, for client-certificate authentication,
//! this client's certificate and key.

use etcd_client::{Certificate, Identity, TlsOptions};
use tenure_core::{Error, Result};

/// What to trust and how to identify, all PEM-encoded.
///
/// ```no_run
/// # async fn demo() -> tenure_core::Result<()> {
/// use tenure_etcd::{EtcdConfig, TlsConfig};
/// let ca = std::fs::read("/etc/etcd/ca.pem").map_err(|e| tenure_core::Error::InvalidInput(e.to_string()))?;
/// let store = EtcdConfig::new(["https://10.0.0.1:2379"])
///     .with_tls(TlsConfig::new().with_ca_pem(ca))
///     .connect()
///     .await?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct TlsConfig {
    ca_pem: Option<Vec<u8>>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
    domain: Option<String>,
}

impl TlsConfig {
    /// No CA (the system's roots are not used: set one), no client
    /// certificate.
    pub fn new() -> Self {
        TlsConfig::default()
    }

    /// Trusts the CA certificate(s) in `pem`.
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Presents this client certificate and private key.
    pub fn with_identity_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.identity = Some((cert.into(), key.into()));
        self
    }

    /// Checks the server certificate against this name instead of the
    /// endpoint's host.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The options etcd-client takes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when no CA was given.
    pub(crate) fn options(&self) -> Result<TlsOptions> {
        let Some(ca) = &self.ca_pem else {
            return Err(Error::InvalidInput(
                "TLS for etcd needs a CA certificate (TlsConfig::with_ca_pem)".into(),
            ));
        };
        let mut options = TlsOptions::new().ca_certificate(Certificate::from_pem(ca));
        if let Some((cert, key)) = &self.identity {
            options = options.identity(Identity::from_pem(cert, key));
        }
        if let Some(domain) = &self.domain {
            options = options.domain_name(domain.clone());
        }
        Ok(options)
    }
}

/// The certificate problem with the first endpoint, if a handshake of our
/// own shows one (see `tenure_core::tls_probe`): etcd-client reports a
/// client certificate the server refused as a cancelled request.
pub(crate) async fn certificate_problem(config: &crate::EtcdConfig) -> Option<Error> {
    let tls = config.tls.as_ref()?;
    let identity = tls
        .identity
        .as_ref()
        .map(|(c, k)| (std::str::from_utf8(c).ok(), std::str::from_utf8(k).ok()));
    let identity = match identity {
        Some((Some(c), Some(k))) => Some((c, k)),
        Some(_) => return None,
        None => None,
    };
    let ca = std::str::from_utf8(tls.ca_pem.as_ref()?).ok()?;
    let provider = rustls::crypto::ring::default_provider();
    let probe = tenure_core::tls_probe::Probe::new(ca, identity, provider)?;
    let first = config.endpoints.first()?;
    let server = first
        .strip_prefix("https://")
        .or_else(|| first.strip_prefix("http://"))
        .unwrap_or(first);
    let reason = probe.problem(server, tls.domain.as_deref()).await?;
    Some(Error::Tls {
        detail: format!("the TLS handshake with etcd at {first} failed: {reason}"),
    })
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca", &self.ca_pem.as_ref().map(|c| c.len()))
            .field("identity", &self.identity.is_some())
            .field("domain", &self.domain)
            .finish()
    }
}

//! TLS for the connection to etcd (the `tls` feature): the CA that signed
//! the servers' certificates and, for client-certificate authentication,
//! this client's certificate and key.

use etcd_client::{Certificate, Identity, TlsOptions};
use tenure_core::Error;

/// What to trust and how to identify, all PEM-encoded: the same builder
/// as ZooKeeper's `TlsConfig` (`new(ca_pem)`, `with_identity(cert_pem,
/// key_pem)`), plus [`with_domain`](TlsConfig::with_domain), which only
/// etcd's client offers. The key never appears in `Debug` output.
///
/// ```no_run
/// # async fn demo() -> tenure_core::Result<()> {
/// use tenure_etcd::{EtcdConfig, TlsConfig};
/// let read = |p: &str| std::fs::read_to_string(p).map_err(|e| tenure_core::Error::InvalidInput(e.to_string()));
/// let tls = TlsConfig::new(read("/etc/etcd/ca.pem")?)
///     .with_identity(read("/etc/etcd/client.pem")?, read("/etc/etcd/client-key.pem")?);
/// let store = EtcdConfig::new(["https://10.0.0.1:2379"]).with_tls(tls).connect().await?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    ca_pem: String,
    identity: Option<(String, String)>,
    domain: Option<String>,
}

impl TlsConfig {
    /// Trusts the CA certificate(s) in `ca_pem` (the system's roots are
    /// not used); no client certificate.
    pub fn new(ca_pem: impl Into<String>) -> Self {
        TlsConfig {
            ca_pem: ca_pem.into(),
            identity: None,
            domain: None,
        }
    }

    /// Presents this client certificate (PEM, chain allowed) and private
    /// key (PEM).
    pub fn with_identity(
        mut self,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.identity = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// Checks the server certificate against this name instead of the
    /// endpoint's host (etcd only: ZooKeeper's client has no such option).
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Whether a client certificate is configured.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// The options etcd-client takes.
    pub(crate) fn options(&self) -> TlsOptions {
        let mut options = TlsOptions::new().ca_certificate(Certificate::from_pem(&self.ca_pem));
        if let Some((cert, key)) = &self.identity {
            options = options.identity(Identity::from_pem(cert, key));
        }
        if let Some(domain) = &self.domain {
            options = options.domain_name(domain.clone());
        }
        options
    }
}

/// The certificate problem with the first endpoint, if a handshake of our
/// own shows one (see `tenure_core::tls_probe`): etcd-client reports a
/// client certificate the server refused as a cancelled request.
pub(crate) async fn certificate_problem(config: &crate::EtcdConfig) -> Option<Error> {
    let tls = config.tls.as_ref()?;
    let identity = tls.identity.as_ref().map(|(c, k)| (c.as_str(), k.as_str()));
    let ca = tls.ca_pem.as_str();
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
            .field("ca_pem_bytes", &self.ca_pem.len())
            .field("client_certificate", &self.identity.is_some())
            .field("client_key", &self.identity.as_ref().map(|_| "<hidden>"))
            .field("domain", &self.domain)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let tls = TlsConfig::new("CA").with_identity("CERT", "SECRET-KEY");
        let shown = format!("{tls:?}");
        assert!(!shown.contains("SECRET-KEY"), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
        assert!(tls.has_identity());
        assert!(!TlsConfig::new("CA").has_identity());
    }
}

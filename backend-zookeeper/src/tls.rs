//! TLS to ZooKeeper's secure client port (the `tls` feature): the CA that
//! signed the servers' certificates and, when the servers require client
//! certificates (`ssl.clientAuth=need`, their default), this client's
//! certificate and key.
//!
//! With TLS every server of the connect string is reached over TLS; the
//! server certificate must name the host as written there (an IP address
//! needs an IP subject alternative name).
//!
//! A client certificate also gives the session an `x509` identity on the
//! server. The store protects its nodes with explicit `digest` ACLs (see
//! the `acl` module), so sharing one client certificate between
//! tenants does not share their trees.

use std::fmt;

use tenure_core::{Error, Result};
use zookeeper_client as zk;

/// What to trust and how to identify, all PEM-encoded.
///
/// ```no_run
/// # async fn demo() -> tenure_core::Result<()> {
/// use tenure_zookeeper::{TlsConfig, ZkConfig};
/// let read = |p: &str| std::fs::read_to_string(p).map_err(|e| tenure_core::Error::InvalidInput(e.to_string()));
/// let tls = TlsConfig::new(read("/etc/zk/ca.pem")?)
///     .with_identity(read("/etc/zk/client.pem")?, read("/etc/zk/client-key.pem")?);
/// let store = ZkConfig::new("10.0.0.1:2281").with_tls(tls).connect().await?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    ca_pem: String,
    identity: Option<(String, String)>,
}

impl TlsConfig {
    /// Trusts the CA certificate(s) in `ca_pem` (the system's roots are
    /// not used); no client certificate.
    pub fn new(ca_pem: impl Into<String>) -> Self {
        TlsConfig {
            ca_pem: ca_pem.into(),
            identity: None,
        }
    }

    /// Presents this client certificate (PEM, chain allowed) and private
    /// key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub fn with_identity(
        mut self,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.identity = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// The CA and the client certificate and key, as PEM.
    pub(crate) fn pem(&self) -> (&str, Option<(&str, &str)>) {
        let identity = self
            .identity
            .as_ref()
            .map(|(c, k)| (c.as_str(), k.as_str()));
        (&self.ca_pem, identity)
    }

    /// Whether a client certificate is configured.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// The options zookeeper-client takes.
    ///
    /// # Errors
    /// [`Error::Tls`] naming the PEM that does not parse.
    pub(crate) fn options(&self) -> Result<zk::TlsOptions> {
        install_crypto_provider();
        let bad = |what: &str, e: zk::Error| Error::Tls {
            detail: format!("the {what} is not usable PEM ({e})"),
        };
        let mut options = zk::TlsOptions::new()
            .with_pem_ca(&self.ca_pem)
            .map_err(|e| bad("CA certificate", e))?;
        if let Some((cert, key)) = &self.identity {
            options = options
                .with_pem_identity(cert, key)
                .map_err(|e| bad("client certificate or key", e))?;
        }
        Ok(options)
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_pem_bytes", &self.ca_pem.len())
            .field("client_certificate", &self.identity.is_some())
            .field("client_key", &self.identity.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// Makes aws-lc-rs (which zookeeper-client's TLS always brings) rustls'
/// process-wide crypto provider unless the application chose one: with
/// two providers compiled in (etcd-client brings ring) rustls would
/// otherwise refuse to pick and panic on the first handshake.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: one is set.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key_and_bad_pem_is_a_tls_error() {
        let tls = TlsConfig::new("not pem").with_identity("cert", "SECRET-KEY");
        let shown = format!("{tls:?}");
        assert!(!shown.contains("SECRET-KEY"), "{shown}");
        let e = tls.options().unwrap_err();
        assert!(matches!(e, Error::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("CA certificate"), "{e}");
    }
}

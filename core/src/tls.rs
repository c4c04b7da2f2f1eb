//! What to trust and how to identify over TLS: one configuration for every
//! backend (ZooKeeper's secure client port, etcd's https endpoints). Each
//! backend re-exports it as its `TlsConfig` (behind its `tls` feature) and
//! turns it into its client library's options; this type only holds the
//! PEM text, so it costs nothing without TLS.

use std::fmt;

/// The CA to trust and, for client-certificate authentication, this
/// client's certificate and key, all PEM text. The key never appears in
/// `Debug` output.
///
/// ```
/// use tenure_core::TlsConfig;
///
/// let tls = TlsConfig::new("-----BEGIN CERTIFICATE-----\n…")
///     .with_identity("-----BEGIN CERTIFICATE-----\n…", "-----BEGIN PRIVATE KEY-----\nSECRET");
/// assert!(tls.has_identity());
/// assert!(!format!("{tls:?}").contains("SECRET"));
/// ```
///
/// With the `serde` feature it deserializes from the names of PEM files,
/// read when the document is deserialized (`ca_file`, and `cert_file` with
/// `key_file` for a client certificate; a relative path is relative to the
/// process's working directory), or from the PEM text itself (`ca_pem`,
/// `cert_pem`, `key_pem`), one of the two for each, and `domain`. Files
/// are what a configuration file should name: a parser may quote the line
/// of an error, and a key inline would be on it. Each PEM must hold a
/// `-----BEGIN` line; whether it parses is checked when a store connects.
/// No error of this type shows a key. Unknown fields are refused.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// # let dir = tempfile::tempdir().unwrap();
/// # let ca = dir.path().join("ca.pem");
/// # std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n…").unwrap();
/// use tenure_core::TlsConfig;
///
/// let doc = format!(
///     r#"
///     ca_file = "{}"                 # or ca_pem = "-----BEGIN CERTIFICATE-----…"
///     ## cert_file = "/etc/tenure/client.pem"
///     ## key_file = "/etc/tenure/client-key.pem"
///     domain = "etcd.internal"       # etcd only
///     "#,
///     ca.display()
/// );
/// let tls: TlsConfig = toml::from_str(&doc).unwrap();
/// assert!(tls.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(!tls.has_identity());
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(try_from = "crate::config_file::RawTls")
)]
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
    /// key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub fn with_identity(
        mut self,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.identity = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// Checks the server certificate against this name instead of the
    /// host of the address. etcd only: ZooKeeper's client cannot, and its
    /// store refuses a configuration with a domain ([`Error::Tls`](crate::Error::Tls)).
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The CA certificate(s), PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The client certificate and private key, PEM, if any.
    pub fn identity(&self) -> Option<(&str, &str)> {
        self.identity
            .as_ref()
            .map(|(cert, key)| (cert.as_str(), key.as_str()))
    }

    /// Whether a client certificate is configured.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// The name checked instead of the address's host, if any.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    fn debug_hides_the_key_and_shows_the_rest() {
        let tls = TlsConfig::new("CA")
            .with_identity("CERT", "SECRET-KEY")
            .with_domain("etcd.local");
        let shown = format!("{tls:?}");
        assert!(!shown.contains("SECRET-KEY"), "{shown}");
        assert!(
            shown.contains("<hidden>") && shown.contains("etcd.local"),
            "{shown}"
        );
        assert_eq!(tls.identity(), Some(("CERT", "SECRET-KEY")));
        assert!(!TlsConfig::new("CA").has_identity());
    }
}

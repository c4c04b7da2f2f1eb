//! TLS for the connection to etcd (the `tls` feature): the CA that signed
//! the servers' certificates and, for client-certificate authentication,
//! this client's certificate and key.

use etcd_client::{Certificate, Identity, TlsOptions};
use tenure_core::Error;

/// What to trust and how to identify: tenure's one TLS configuration
/// ([`tenure_core::TlsConfig`]), the same for ZooKeeper;
/// [`with_domain`](TlsConfig::with_domain) works here.
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
pub use tenure_core::TlsConfig;

/// The options etcd-client takes (it parses the PEM when connecting).
pub(crate) fn options(tls: &TlsConfig) -> TlsOptions {
    let mut options = TlsOptions::new().ca_certificate(Certificate::from_pem(tls.ca_pem()));
    if let Some((cert, key)) = tls.identity() {
        options = options.identity(Identity::from_pem(cert, key));
    }
    if let Some(domain) = tls.domain() {
        options = options.domain_name(domain);
    }
    options
}

/// The certificate problem with the first endpoint, if a handshake of our
/// own shows one (see `tenure_core::tls_probe`): etcd-client reports a
/// client certificate the server refused as a cancelled request.
pub(crate) async fn certificate_problem(config: &crate::EtcdConfig) -> Option<Error> {
    let tls = config.tls.as_ref()?;
    let provider = rustls::crypto::ring::default_provider();
    let probe = tenure_core::tls_probe::Probe::new(tls.ca_pem(), tls.identity(), provider)?;
    let first = config.endpoints.first()?;
    let server = first
        .strip_prefix("https://")
        .or_else(|| first.strip_prefix("http://"))
        .unwrap_or(first);
    let reason = probe.problem(server, tls.domain()).await?;
    Some(Error::Tls {
        detail: format!("the TLS handshake with etcd at {first} failed: {reason}"),
    })
}

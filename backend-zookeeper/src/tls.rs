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

use tenure_core::{Error, Result};
use zookeeper_client as zk;

/// What to trust and how to identify: tenure's one TLS configuration
/// ([`tenure_core::TlsConfig`]), the same for etcd. A
/// [`with_domain`](TlsConfig::with_domain) is refused here: ZooKeeper's
/// client always checks the host as written in the connect string.
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
pub use tenure_core::TlsConfig;

/// The options zookeeper-client takes.
///
/// # Errors
/// [`Error::Tls`] naming the PEM that does not parse, or a domain (which
/// this client cannot check).
pub(crate) fn options(tls: &TlsConfig) -> Result<zk::TlsOptions> {
    install_crypto_provider();
    if let Some(domain) = tls.domain() {
        return Err(Error::Tls {
            detail: format!(
                "ZooKeeper's client checks the server's host as written in the connect string; \
                 it cannot check the name {domain:?} (TlsConfig::with_domain is for etcd only)"
            ),
        });
    }
    let bad = |what: &str, e: zk::Error| Error::Tls {
        detail: format!("the {what} is not usable PEM ({e})"),
    };
    let mut options = zk::TlsOptions::new()
        .with_pem_ca(tls.ca_pem())
        .map_err(|e| bad("CA certificate", e))?;
    if let Some((cert, key)) = tls.identity() {
        options = options
            .with_pem_identity(cert, key)
            .map_err(|e| bad("client certificate or key", e))?;
    }
    Ok(options)
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

/// The certificate problem with the first server, if a handshake of our
/// own shows one (see `tenure_core::tls_probe`).
pub(crate) async fn certificate_problem(config: &crate::ZkConfig) -> Option<Error> {
    let tls = config.tls.as_ref()?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let probe = tenure_core::tls_probe::Probe::new(tls.ca_pem(), tls.identity(), provider)?;
    let first = config.servers.split(',').next()?.trim();
    let reason = probe.problem(first, None).await?;
    Some(Error::Tls {
        detail: format!("the TLS handshake with ZooKeeper at {first} failed: {reason}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_and_a_domain_are_tls_errors() {
        let tls = TlsConfig::new("not pem").with_identity("cert", "SECRET-KEY");
        let e = options(&tls).unwrap_err();
        assert!(matches!(e, Error::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("CA certificate"), "{e}");
        let e = options(&TlsConfig::new("CA").with_domain("zk.local")).unwrap_err();
        assert!(matches!(e, Error::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("zk.local"), "{e}");
    }
}

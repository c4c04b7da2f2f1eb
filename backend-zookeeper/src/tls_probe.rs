//! Why a TLS connection fails: zookeeper-client reports a failed TLS
//! handshake like a dropped connection, so after a failed attempt the
//! store makes one handshake of its own with the first server, with the
//! same certificates, and reads rustls' reason (an unknown issuer, a name
//! mismatch, a client certificate the server refused or required).

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tenure_core::Error;

use crate::config::ZkConfig;

/// How long the probe waits for the server at each step.
const STEP: Duration = Duration::from_secs(1);

/// The certificate problem with the first server, if a handshake shows
/// one; `None` when the handshake works or fails for another reason
/// (refused, timed out).
pub(crate) async fn certificate_problem(config: &ZkConfig) -> Option<Error> {
    let tls = config.tls.as_ref()?;
    let first = config.servers.split(',').next()?.trim().to_string();
    let (host, _) = first.rsplit_once(':')?;
    let name = ServerName::try_from(host.to_string()).ok()?;
    let (ca, identity) = tls.pem();
    let client = client_config(ca, identity)?;
    let tcp = tokio::time::timeout(STEP, tokio::net::TcpStream::connect(&first))
        .await
        .ok()?
        .ok()?
        .into_std()
        .ok()?;
    let reason = tokio::task::spawn_blocking(move || handshake(tcp, client, name))
        .await
        .ok()??;
    Some(Error::Tls {
        detail: format!("the TLS handshake with ZooKeeper at {first} failed: {reason}"),
    })
}

/// The rustls configuration the client uses, rebuilt from the PEM.
fn client_config(ca: &str, identity: Option<(&str, &str)>) -> Option<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.ok()?).ok()?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => {
            let chain: Result<Vec<_>, _> =
                CertificateDer::pem_slice_iter(cert.as_bytes()).collect();
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).ok()?;
            builder.with_client_auth_cert(chain.ok()?, key).ok()?
        }
        None => builder.with_no_client_auth(),
    };
    Some(Arc::new(config))
}

/// Completes a handshake, then waits a moment for the alert a server
/// sends when it refuses the client's certificate (TLS 1.3 servers check
/// it after the client's side of the handshake is done).
fn handshake(
    tcp: std::net::TcpStream,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
) -> Option<rustls::Error> {
    tcp.set_nonblocking(false).ok()?;
    tcp.set_read_timeout(Some(STEP)).ok()?;
    tcp.set_write_timeout(Some(STEP)).ok()?;
    let connection = ClientConnection::new(config, name).ok()?;
    let mut stream = StreamOwned::new(connection, tcp);
    while stream.conn.is_handshaking() {
        if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
            return rustls_error(&e);
        }
    }
    let mut byte = [0u8; 1];
    stream.read(&mut byte).err().and_then(|e| rustls_error(&e))
}

/// The rustls error inside an I/O error, if that is what it is.
fn rustls_error(e: &std::io::Error) -> Option<rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>().cloned()
}

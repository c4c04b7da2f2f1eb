//! Why a TLS connection fails (feature `tls-probe`, for backends): client
//! libraries report a refused TLS handshake like a dropped or cancelled
//! connection, so after a failed attempt a backend makes one handshake of
//! its own with the server, with the same certificates, and reads rustls'
//! reason (an unknown issuer, a name mismatch, a client certificate the
//! server refused or required).

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// How long the probe waits for the server at each step.
const STEP: Duration = Duration::from_secs(1);

/// What a probe handshake uses: the CA and client identity as PEM, and the
/// rustls crypto provider the backend's client library is built with.
#[derive(Clone)]
pub struct Probe {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").finish_non_exhaustive()
    }
}

impl Probe {
    /// A probe trusting `ca_pem` and presenting `identity` (certificate
    /// chain and private key, PEM); `None` when the PEM does not parse
    /// (the client library reports that itself).
    pub fn new(
        ca_pem: &str,
        identity: Option<(&str, &str)>,
        provider: CryptoProvider,
    ) -> Option<Probe> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.ok()?).ok()?;
        }
        let builder = ClientConfig::builder_with_provider(Arc::new(provider))
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
        Some(Probe {
            config: Arc::new(config),
        })
    }

    /// Makes one handshake with `server` (`host:port`; the server's
    /// certificate is checked against `name`, by default the host) and
    /// returns rustls' reason when it fails for a reason of certificates
    /// or the TLS protocol; `None` when it works or fails for another
    /// reason (refused, timed out).
    pub async fn problem(&self, server: &str, name: Option<&str>) -> Option<String> {
        let (host, _) = server.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(name.unwrap_or(host).to_string()).ok()?;
        let config = self.config.clone();
        let server = server.to_string();
        let probe = move || handshake(&server, config, name);
        tokio::task::spawn_blocking(probe).await.ok()?
    }
}

/// Connects, completes a handshake, then waits a moment for the alert a
/// server sends when it refuses the client's certificate (TLS 1.3 servers
/// check it after the client's side of the handshake is done).
fn handshake(server: &str, config: Arc<ClientConfig>, name: ServerName<'static>) -> Option<String> {
    let addr = server.to_socket_addrs().ok()?.next()?;
    let tcp = TcpStream::connect_timeout(&addr, STEP).ok()?;
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
fn rustls_error(e: &std::io::Error) -> Option<String> {
    let inner = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(inner.to_string())
}

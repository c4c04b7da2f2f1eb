//! Certificates for tests of TLS against real servers, generated per run
//! with `rcgen` into a scratch directory as PEM files: a CA, a server
//! certificate for `127.0.0.1` and `localhost`, and client certificates
//! by common name. Nothing is reused between runs.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::server_util::scratch_dir;

/// A certificate and its private key, as PEM files.
#[derive(Clone, Debug)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// The private key (PKCS#8 PEM).
    pub key: PathBuf,
}

impl CertFiles {
    /// The certificate's PEM text.
    pub fn cert_pem(&self) -> String {
        read(&self.cert)
    }

    /// The key's PEM text.
    pub fn key_pem(&self) -> String {
        read(&self.key)
    }
}

/// A test CA with the files signed by it, in one scratch directory that
/// is deleted when this value is dropped.
pub struct TestPki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_file: PathBuf,
    server: CertFiles,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// A new CA (common name `label`) and a server certificate for
    /// `127.0.0.1` and `localhost`, written under a fresh scratch
    /// directory.
    pub fn new(label: &str) -> TestPki {
        let dir = scratch_dir("pki");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{label} test CA"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let ca = CertifiedIssuer::self_signed(params, key).expect("self-signed CA");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).expect("write ca.pem");
        let mut pki = TestPki {
            server: CertFiles {
                cert: PathBuf::new(),
                key: PathBuf::new(),
            },
            dir,
            ca,
            ca_file,
        };
        pki.server = pki.issue(
            "server",
            "127.0.0.1",
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        pki
    }

    /// A client certificate with common name `name` (and the loopback
    /// names, for servers that check a client's address), signed by this
    /// CA.
    pub fn client(&self, name: &str) -> CertFiles {
        self.issue(
            &format!("client-{name}"),
            name,
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ClientAuth,
        )
    }

    /// The CA certificate file (PEM).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The CA certificate (PEM text).
    pub fn ca_pem(&self) -> String {
        read(&self.ca_file)
    }

    /// The server certificate and key.
    pub fn server(&self) -> &CertFiles {
        &self.server
    }

    /// A file holding the server's key followed by its certificate, the
    /// form a Java PEM key store takes.
    pub fn server_key_and_cert(&self) -> PathBuf {
        let path = self.dir.path().join("server-keystore.pem");
        let both = format!("{}{}", self.server.key_pem(), self.server.cert_pem());
        std::fs::write(&path, both).expect("write the PEM key store");
        path
    }

    fn issue(
        &self,
        file: &str,
        common_name: &str,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> CertFiles {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("certificate params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("sign");
        let files = CertFiles {
            cert: self.dir.path().join(format!("{file}.pem")),
            key: self.dir.path().join(format!("{file}-key.pem")),
        };
        std::fs::write(&files.cert, cert.pem()).expect("write certificate");
        std::fs::write(&files.key, key.serialize_pem()).expect("write key");
        files
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Runs one worker on `store` at a fresh root under `prefix`, adds task
/// `T1`, and checks that its handler starts within `patience` with a token
/// (the worker's requests then went through whatever `store` connects
/// over); shuts the worker down and closes the store.
pub async fn a_worker_runs_a_task(
    store: tenure_core::DynStore,
    prefix: &str,
    patience: std::time::Duration,
) {
    use tenure_core::{Admin, Layout, TaskContext, TaskSpec, Worker};
    let root = crate::backend::unique_root(prefix);
    let admin = Admin::at(store.clone(), Layout::at(root.clone()).unwrap())
        .await
        .unwrap();
    let (ran, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let worker = Worker::builder(store.clone(), "tls")
        .root(root)
        .id("W1")
        .handler(move |ctx: TaskContext| {
            let ran = ran.clone();
            async move {
                let _ = ran.send((ctx.task().to_string(), ctx.token()));
                ctx.cancelled().await;
                Ok(())
            }
        })
        .build()
        .unwrap();
    let running = worker.spawn();
    admin.add_task(TaskSpec::new("T1").unwrap()).await.unwrap();
    let (task, token) = tokio::time::timeout(patience, runs.recv())
        .await
        .expect("the task starts over TLS")
        .unwrap();
    assert_eq!(task, "T1");
    assert!(token >= 1, "token {token}");
    worker.shutdown().await;
    running.await.unwrap().unwrap();
    store.close().await.unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_pem_files_for_server_and_clients() {
        let pki = TestPki::new("unit");
        assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.server().key_pem().contains("PRIVATE KEY"));
        let alice = pki.client("alice");
        assert!(alice.cert_pem().contains("BEGIN CERTIFICATE"));
        assert_ne!(alice.cert_pem(), pki.server().cert_pem());
        let store = std::fs::read_to_string(pki.server_key_and_cert()).unwrap();
        assert!(store.contains("PRIVATE KEY") && store.contains("CERTIFICATE"));
    }
}

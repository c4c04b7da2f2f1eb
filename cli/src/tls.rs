//! TLS options of every subcommand: `--ca`, `--cert`, `--key` (or
//! `TENURE_CA`, `TENURE_CERT`, `TENURE_KEY`), all PEM files, turned into
//! the backends' TLS configurations. The files' contents never appear in
//! logs, `Debug` output or `--help`; `tenure worker`'s commands do not
//! inherit the variables (`args::CREDENTIAL_ENV`, removed in
//! `worker/child.rs`).

use std::path::{Path, PathBuf};

use clap::Args;

use tenure_core::{Error, Result};

/// TLS to the servers.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Connect over TLS, trusting the CA certificate(s) in this PEM file
    /// (ZooKeeper: the servers' secure client port; etcd: https endpoints)
    #[arg(long, global = true, env = "TENURE_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Present this client certificate (PEM file; needs --ca and --key)
    #[arg(long, global = true, env = "TENURE_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// The private key of --cert (PEM file; keep it readable only by you)
    #[arg(
        long,
        global = true,
        env = "TENURE_KEY",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub key: Option<PathBuf>,
}

/// The PEM texts the options name: the CA and, if given, the client
/// certificate and key.
pub struct Pem {
    /// The CA certificate(s).
    pub ca: String,
    /// The client certificate and its private key.
    pub identity: Option<(String, String)>,
}

impl TlsArgs {
    /// The PEM files' contents, or `None` without `--ca`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the option whose file cannot be read,
    /// or a client certificate without its key (or the reverse) or
    /// without a CA.
    pub fn pem(&self) -> Result<Option<Pem>> {
        let identity = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some((read("--cert", cert)?, read("--key", key)?)),
            (None, None) => None,
            _ => {
                return Err(Error::InvalidInput(
                    "a client certificate needs both --cert (TENURE_CERT) and --key (TENURE_KEY)"
                        .into(),
                ));
            }
        };
        let Some(ca) = &self.ca else {
            if identity.is_some() {
                return Err(Error::InvalidInput(
                    "--cert and --key need --ca (TENURE_CA): the CA that signed the servers' certificates"
                        .into(),
                ));
            }
            return Ok(None);
        };
        Ok(Some(Pem {
            ca: read("--ca", ca)?,
            identity,
        }))
    }

    /// The ZooKeeper TLS configuration, or `None` without `--ca`.
    ///
    /// # Errors
    /// As [`TlsArgs::pem`].
    pub fn zookeeper(&self) -> Result<Option<tenure_zookeeper::TlsConfig>> {
        Ok(self.pem()?.map(|pem| {
            let tls = tenure_zookeeper::TlsConfig::new(pem.ca);
            match pem.identity {
                Some((cert, key)) => tls.with_identity(cert, key),
                None => tls,
            }
        }))
    }

    /// The etcd TLS configuration, or `None` without `--ca`.
    ///
    /// # Errors
    /// As [`TlsArgs::pem`].
    #[cfg(feature = "etcd")]
    pub fn etcd(&self) -> Result<Option<tenure_etcd::TlsConfig>> {
        Ok(self.pem()?.map(|pem| {
            let tls = tenure_etcd::TlsConfig::new(pem.ca);
            match pem.identity {
                Some((cert, key)) => tls.with_identity(cert, key),
                None => tls,
            }
        }))
    }
}

fn read(option: &str, path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidInput(format!("{option} {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ca: Option<&Path>, cert: Option<&Path>, key: Option<&Path>) -> TlsArgs {
        TlsArgs {
            ca: ca.map(Path::to_path_buf),
            cert: cert.map(Path::to_path_buf),
            key: key.map(Path::to_path_buf),
        }
    }

    #[test]
    fn files_are_read_and_half_an_identity_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (ca, cert, key) = (file("ca", "CA"), file("c", "CERT"), file("k", "KEY"));
        assert!(args(None, None, None).pem().unwrap().is_none());
        let pem = args(Some(&ca), Some(&cert), Some(&key))
            .pem()
            .unwrap()
            .unwrap();
        assert_eq!(pem.ca, "CA");
        assert_eq!(pem.identity, Some(("CERT".into(), "KEY".into())));
        for half in [
            args(Some(&ca), Some(&cert), None),
            args(Some(&ca), None, Some(&key)),
            args(None, Some(&cert), Some(&key)),
        ] {
            assert!(
                matches!(half.pem(), Err(Error::InvalidInput(_))),
                "{half:?}"
            );
        }
        let missing = dir.path().join("nope");
        let err = args(Some(&missing), None, None).pem().err().unwrap();
        assert!(err.to_string().contains("--ca"), "{err}");
    }

    #[test]
    fn debug_of_the_configurations_shows_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----SECRET").unwrap();
        let ca = dir.path().join("ca");
        std::fs::write(&ca, "CA").unwrap();
        let tls = args(Some(&ca), Some(&ca), Some(&key));
        let zk = format!("{:?}", tls.zookeeper().unwrap());
        assert!(!zk.contains("SECRET"), "{zk}");
        #[cfg(feature = "etcd")]
        {
            let etcd = format!("{:?}", tls.etcd().unwrap());
            assert!(!etcd.contains("SECRET"), "{etcd}");
        }
    }
}

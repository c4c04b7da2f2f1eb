//! [`TlsConfig`] from a configuration file. Each PEM comes from a file
//! (`ca_file`, `cert_file`, `key_file`: what a configuration file usually
//! names, read when the document is deserialized) or inline (`ca_pem`,
//! `cert_pem`, `key_pem`: for a document made by a program, or PEM passed
//! in the environment); one of the two for each. No error shows the text
//! of a key.

use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;
use crate::error::{Error, Result};
use crate::tls::TlsConfig;

/// What a configuration file says of a [`TlsConfig`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    ca_file: Option<PathBuf>,
    ca_pem: Option<String>,
    cert_file: Option<PathBuf>,
    cert_pem: Option<String>,
    key_file: Option<PathBuf>,
    key_pem: Option<Secret>,
    domain: Option<String>,
}

impl TryFrom<RawTls> for TlsConfig {
    type Error = Error;

    fn try_from(raw: RawTls) -> Result<TlsConfig> {
        let bad = |why: String| Err(Error::InvalidInput(why));
        let Some(ca) = pem("ca", raw.ca_file, raw.ca_pem)? else {
            return bad("TLS needs the CA certificate: set `ca_file` (or `ca_pem`)".into());
        };
        let key = raw.key_pem.map(|k| k.expose().to_owned());
        let mut tls = TlsConfig::new(ca);
        match (
            pem("cert", raw.cert_file, raw.cert_pem)?,
            pem("key", raw.key_file, key)?,
        ) {
            (Some(cert), Some(key)) => tls = tls.with_identity(cert, key),
            (None, None) => {}
            (Some(_), None) => {
                return bad(
                    "a client certificate needs its private key: set `key_file` (or `key_pem`)"
                        .into(),
                );
            }
            (None, Some(_)) => {
                return bad(
                    "a private key needs its client certificate: set `cert_file` (or `cert_pem`)"
                        .into(),
                );
            }
        }
        if let Some(domain) = raw.domain {
            tls = tls.with_domain(domain);
        }
        Ok(tls)
    }
}

/// The PEM of `what` (`ca`, `cert`, `key`) from `<what>_file` or
/// `<what>_pem`, if either is set.
///
/// # Errors
/// [`Error::InvalidInput`] when both are set, the file cannot be read, or
/// the text holds no PEM block; never with the text itself.
fn pem(what: &str, file: Option<PathBuf>, inline: Option<String>) -> Result<Option<String>> {
    let (field, text) = match (file, inline) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidInput(format!(
                "`{what}_file` and `{what}_pem` are both set: give one"
            )));
        }
        (None, None) => return Ok(None),
        (None, Some(text)) => (format!("`{what}_pem`"), text),
        (Some(path), None) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::InvalidInput(format!(
                    "`{what}_file`: cannot read {} ({e})",
                    path.display()
                ))
            })?;
            (format!("`{what}_file` {}", path.display()), text)
        }
    };
    if !text.contains("-----BEGIN ") {
        return Err(Error::InvalidInput(format!(
            "{field} holds no PEM block (a line -----BEGIN …-----)"
        )));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
    const CERT: &str = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nKEY-s3cret\n-----END PRIVATE KEY-----\n";

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn from_toml(doc: &str) -> std::result::Result<TlsConfig, String> {
        toml::from_str(doc).map_err(|e| e.to_string())
    }

    #[test]
    fn files_and_inline_pem_give_what_the_builder_gives() {
        let (ca, cert, key) = (file(CA), file(CERT), file(KEY));
        let doc = format!(
            "ca_file = {:?}\ncert_file = {:?}\nkey_file = {:?}\ndomain = \"etcd.local\"",
            ca.path(),
            cert.path(),
            key.path()
        );
        let expected = TlsConfig::new(CA)
            .with_identity(CERT, KEY)
            .with_domain("etcd.local");
        assert_eq!(from_toml(&doc).unwrap(), expected);
        let json = serde_json::json!({ "ca_pem": CA, "cert_pem": CERT, "key_pem": KEY });
        let inline: TlsConfig = serde_json::from_value(json).unwrap();
        assert_eq!(inline, TlsConfig::new(CA).with_identity(CERT, KEY));
        assert!(!format!("{inline:?}").contains("s3cret"));
    }

    #[test]
    fn missing_doubled_unreadable_and_non_pem_inputs_name_the_field() {
        let key = file(KEY);
        let k = key.path().display().to_string();
        for (doc, named) in [
            (String::new(), "`ca_file`"),
            (
                format!("ca_pem = {CA:?}\nca_file = {k:?}"),
                "`ca_file` and `ca_pem`",
            ),
            (
                "ca_file = \"/nonexistent/ca.pem\"".into(),
                "`ca_file`: cannot read",
            ),
            ("ca_pem = \"not pem\"".into(), "`ca_pem` holds no PEM"),
            (
                format!("ca_pem = {CA:?}\ncert_pem = {CERT:?}"),
                "`key_file`",
            ),
            (format!("ca_pem = {CA:?}\nkey_file = {k:?}"), "`cert_file`"),
            (format!("ca_pem = {CA:?}\ncrt_file = {k:?}"), "`crt_file`"),
        ] {
            let err = from_toml(&doc).unwrap_err();
            assert!(err.contains(named), "{doc:?}: {err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn a_key_that_is_no_pem_is_refused_without_its_text() {
        let json = serde_json::json!({ "ca_pem": CA, "cert_pem": CERT, "key_pem": "raw-s3cret" });
        let err = serde_json::from_value::<TlsConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`key_pem` holds no PEM"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let json = serde_json::json!({ "ca_pem": CA, "cert_pem": CERT, "key_pem": 1234567 });
        let err = serde_json::from_value::<TlsConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("1234567"), "{err}");
    }
}

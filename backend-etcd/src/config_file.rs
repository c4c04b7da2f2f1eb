//! [`EtcdConfig`] and [`Credentials`] from a configuration file (the
//! `serde` feature): every builder method is a field, and each value goes
//! through its builder method and [`EtcdConfig::validate`] in turn, so a
//! value the builder refuses is an error naming its field. Durations are
//! text (`"4s"`); unknown fields are refused.

use serde::Deserialize;
use tenure_core::config_file::{DurationText, UserPassword, checked, in_field};
use tenure_core::{Error, Result, TlsConfig};

use crate::config::{Credentials, EtcdConfig};

/// What a configuration file says of an [`EtcdConfig`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEtcdConfig {
    endpoints: Vec<String>,
    namespace: Option<String>,
    session_timeout: Option<DurationText>,
    connect_timeout: Option<DurationText>,
    request_timeout: Option<DurationText>,
    keep_alive_interval: Option<DurationText>,
    credentials: Option<Credentials>,
    max_request_bytes: Option<usize>,
    max_txn_ops: Option<usize>,
    tls: Option<TlsConfig>,
}

impl TryFrom<UserPassword> for Credentials {
    type Error = Error;

    fn try_from(raw: UserPassword) -> Result<Credentials> {
        Credentials::new(&raw.user, raw.password.expose()).map_err(|e| in_field("user", e))
    }
}

impl TryFrom<RawEtcdConfig> for EtcdConfig {
    type Error = Error;

    fn try_from(raw: RawEtcdConfig) -> Result<EtcdConfig> {
        // Each step sets one field on a configuration whose other fields
        // are the defaults or already checked: a failing check is that
        // field's.
        let check = |config, field| checked(config, field, EtcdConfig::validate);
        let mut config = check(EtcdConfig::new(&raw.endpoints), "endpoints")?;
        if let Some(namespace) = raw.namespace {
            config = check(config.with_namespace(namespace), "namespace")?;
        }
        let durations = [
            (
                "session_timeout",
                &raw.session_timeout,
                EtcdConfig::with_session_timeout as fn(_, _) -> _,
            ),
            (
                "connect_timeout",
                &raw.connect_timeout,
                EtcdConfig::with_connect_timeout,
            ),
            (
                "request_timeout",
                &raw.request_timeout,
                EtcdConfig::with_request_timeout,
            ),
            (
                "keep_alive_interval",
                &raw.keep_alive_interval,
                EtcdConfig::with_keep_alive_interval,
            ),
        ];
        for (field, text, set) in durations {
            if let Some(t) = DurationText::parse_opt(text.as_ref(), field)? {
                config = check(set(config, t), field)?;
            }
        }
        if let Some(bytes) = raw.max_request_bytes {
            config = check(config.with_max_request_bytes(bytes), "max_request_bytes")?;
        }
        if let Some(ops) = raw.max_txn_ops {
            config = check(config.with_max_txn_ops(ops), "max_txn_ops")?;
        }
        if let Some(credentials) = raw.credentials {
            config = config.with_credentials(credentials);
        }
        if let Some(tls) = raw.tls {
            config = with_tls(config, tls)?;
        }
        Ok(config)
    }
}

#[cfg(feature = "tls")]
fn with_tls(config: EtcdConfig, tls: TlsConfig) -> Result<EtcdConfig> {
    Ok(config.with_tls(tls))
}

#[cfg(not(feature = "tls"))]
fn with_tls(_: EtcdConfig, _: TlsConfig) -> Result<EtcdConfig> {
    Err(Error::InvalidInput(
        "`tls`: this build of tenure-etcd has no TLS: enable its `tls` feature (`etcd-tls` of tenure)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn from_toml(doc: &str) -> std::result::Result<EtcdConfig, String> {
        toml::from_str(doc).map_err(|e| e.to_string())
    }

    #[test]
    fn a_document_gives_what_the_builder_gives() {
        let config = from_toml(
            r#"
            endpoints = ["10.0.0.1:2379", "http://10.0.0.2:2379"]
            namespace = "/tenure-prod"
            session_timeout = "6s"
            connect_timeout = "2s500ms"
            request_timeout = "3s"
            keep_alive_interval = "500ms"
            max_request_bytes = 4194304
            max_txn_ops = 256

            [credentials]
            user = "tenure"
            password = "pw"
            "#,
        )
        .unwrap();
        let built = EtcdConfig::new(["10.0.0.1:2379", "http://10.0.0.2:2379"])
            .with_namespace("/tenure-prod")
            .with_session_timeout(Duration::from_secs(6))
            .with_connect_timeout(Duration::from_millis(2500))
            .with_request_timeout(Duration::from_secs(3))
            .with_keep_alive_interval(Duration::from_millis(500))
            .with_max_request_bytes(4_194_304)
            .with_max_txn_ops(256)
            .with_credentials(Credentials::new("tenure", "pw").unwrap());
        assert_eq!(config, built);
        let minimal: EtcdConfig = serde_json::from_str(r#"{"endpoints": ["a:1"]}"#).unwrap();
        assert_eq!(minimal, EtcdConfig::new(["a:1"]));
    }

    #[test]
    fn unknown_fields_bad_durations_and_refused_values_name_the_field() {
        let a = "endpoints = [\"a:1\"]\n";
        for (doc, named) in [
            (format!("{a}namespce = \"/x\""), "`namespce`"),
            (
                format!("{a}[credentials]\nuser = \"u\"\npasswd = \"p\""),
                "`passwd`",
            ),
            (
                format!("{a}request_timeout = \"5 fortnights\""),
                "`request_timeout`",
            ),
            (
                format!("{a}keep_alive_interval = \"1\""),
                "`keep_alive_interval`",
            ),
            ("endpoints = []".into(), "`endpoints`"),
            ("endpoints = [\"a:1\", \"host\"]".into(), "`endpoints`"),
            (format!("{a}namespace = \"/a\\u0007b\""), "`namespace`"),
            (format!("{a}session_timeout = \"0s\""), "`session_timeout`"),
            (format!("{a}connect_timeout = \"0s\""), "`connect_timeout`"),
            (format!("{a}request_timeout = \"0s\""), "`request_timeout`"),
            (format!("{a}max_request_bytes = 100"), "`max_request_bytes`"),
            (format!("{a}max_txn_ops = 3"), "`max_txn_ops`"),
            (
                format!("{a}[credentials]\nuser = \"\"\npassword = \"p\""),
                "`user`",
            ),
        ] {
            let err = from_toml(&doc).unwrap_err();
            assert!(err.contains(named), "{doc:?}: {err}");
        }
    }

    #[test]
    fn the_password_appears_in_no_error_and_no_debug() {
        let doc =
            "endpoints = [\"a:1\"]\n[credentials]\nuser = \"\"\npassword = \"PASSWORD-s3cret\"";
        let err = from_toml(doc).unwrap_err();
        assert!(err.contains("`user`") && !err.contains("s3cret"), "{err}");
        let json = r#"{"endpoints": ["a:1"], "credentials": {"user": "u", "password": 12345678}}"#;
        let err = serde_json::from_str::<EtcdConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("12345678"), "{err}");
        let json = r#"{"endpoints": ["a:1"], "credentials": {"user": "u", "password": "PASSWORD-s3cret"}}"#;
        let config: EtcdConfig = serde_json::from_str(json).unwrap();
        let shown = format!("{config:?}");
        assert!(
            shown.contains("\"u\"") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn tls_and_https_are_read_with_the_tls_feature_and_refused_without() {
        let doc = "endpoints = [\"https://a:2379\"]\n[tls]\nca_pem = \"-----BEGIN CERTIFICATE-----\"\ndomain = \"etcd.local\"";
        let config = from_toml(doc);
        #[cfg(feature = "tls")]
        assert_eq!(
            config.unwrap().tls(),
            Some(&TlsConfig::new("-----BEGIN CERTIFICATE-----").with_domain("etcd.local"))
        );
        #[cfg(not(feature = "tls"))]
        assert!(config.unwrap_err().contains("`endpoints`"));
        #[cfg(not(feature = "tls"))]
        assert!(
            from_toml("endpoints = [\"a:1\"]\n[tls]\nca_pem = \"-----BEGIN C\"")
                .unwrap_err()
                .contains("`tls`")
        );
    }
}

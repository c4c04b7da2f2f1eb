//! [`ZkConfig`] and [`Credentials`] from a configuration file (the `serde`
//! feature): every builder method is a field, and each value goes through
//! its builder method and [`ZkConfig::validate`] in turn, so a value the
//! builder refuses is an error naming its field. Durations are text
//! (`"4s"`); unknown fields are refused.

use serde::Deserialize;
use tenure_core::config_file::{DurationText, UserPassword, checked, in_field};
use tenure_core::{Error, Path, Result, TlsConfig};

use crate::config::{Credentials, ZkConfig};

/// What a configuration file says of a [`ZkConfig`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawZkConfig {
    servers: String,
    chroot: Option<String>,
    session_timeout: Option<DurationText>,
    connect_timeout: Option<DurationText>,
    credentials: Option<Credentials>,
    reconnect_backoff: Option<RawBackoff>,
    tick_time: Option<DurationText>,
    tls: Option<TlsConfig>,
}

/// [`ZkConfig::with_reconnect_backoff`]'s two bounds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackoff {
    min: DurationText,
    max: DurationText,
}

impl TryFrom<UserPassword> for Credentials {
    type Error = Error;

    fn try_from(raw: UserPassword) -> Result<Credentials> {
        Credentials::new(&raw.user, raw.password.expose()).map_err(|e| in_field("user", e))
    }
}

impl TryFrom<RawZkConfig> for ZkConfig {
    type Error = Error;

    fn try_from(raw: RawZkConfig) -> Result<ZkConfig> {
        // Each step sets one field on a configuration whose other fields
        // are the defaults or already checked: a failing check is that
        // field's.
        let check = |config, field| checked(config, field, ZkConfig::validate);
        let mut config = check(ZkConfig::new(raw.servers), "servers")?;
        if let Some(chroot) = raw.chroot {
            let chroot = Path::new(&chroot).map_err(|e| {
                Error::InvalidInput(format!(
                    "`chroot`: {e} (expected a path such as \"/tenure\")"
                ))
            })?;
            config = config.with_chroot(chroot);
        }
        if let Some(t) = DurationText::parse_opt(raw.session_timeout.as_ref(), "session_timeout")? {
            config = check(config.with_session_timeout(t), "session_timeout")?;
        }
        if let Some(t) = DurationText::parse_opt(raw.connect_timeout.as_ref(), "connect_timeout")? {
            config = check(config.with_connect_timeout(t), "connect_timeout")?;
        }
        if let Some(credentials) = raw.credentials {
            config = config.with_credentials(credentials);
        }
        if let Some(backoff) = raw.reconnect_backoff {
            let min = backoff.min.parse("reconnect_backoff.min")?;
            let max = backoff.max.parse("reconnect_backoff.max")?;
            config = config.with_reconnect_backoff(min, max);
        }
        if let Some(t) = DurationText::parse_opt(raw.tick_time.as_ref(), "tick_time")? {
            config = check(config.with_tick_time(t), "tick_time")?;
        }
        if let Some(tls) = raw.tls {
            config = with_tls(config, tls)?;
        }
        Ok(config)
    }
}

#[cfg(feature = "tls")]
fn with_tls(config: ZkConfig, tls: TlsConfig) -> Result<ZkConfig> {
    Ok(config.with_tls(tls))
}

#[cfg(not(feature = "tls"))]
fn with_tls(_: ZkConfig, _: TlsConfig) -> Result<ZkConfig> {
    Err(Error::InvalidInput(
        "`tls`: this build of tenure-zookeeper has no TLS: enable its `tls` feature (`zookeeper-tls` of tenure)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn from_toml(doc: &str) -> std::result::Result<ZkConfig, String> {
        toml::from_str(doc).map_err(|e| e.to_string())
    }

    #[test]
    fn a_document_gives_what_the_builder_gives() {
        let config = from_toml(
            r#"
            servers = "10.0.0.1:2181,10.0.0.2:2181"
            chroot = "/tenure/prod"
            session_timeout = "6s"
            connect_timeout = "2s500ms"
            tick_time = "500ms"
            reconnect_backoff = { min = "100ms", max = "5s" }
            credentials = { user = "tenure", password = "pw:with:colons" }
            "#,
        )
        .unwrap();
        let built = ZkConfig::new("10.0.0.1:2181,10.0.0.2:2181")
            .with_chroot(Path::new("/tenure/prod").unwrap())
            .with_session_timeout(Duration::from_secs(6))
            .with_connect_timeout(Duration::from_millis(2500))
            .with_tick_time(Duration::from_millis(500))
            .with_reconnect_backoff(Duration::from_millis(100), Duration::from_secs(5))
            .with_credentials(Credentials::new("tenure", "pw:with:colons").unwrap());
        assert_eq!(config, built);
        let minimal: ZkConfig = serde_json::from_str(r#"{"servers": "a:1"}"#).unwrap();
        assert_eq!(minimal, ZkConfig::new("a:1"));
    }

    #[test]
    fn unknown_fields_bad_durations_and_refused_values_name_the_field() {
        for (doc, named) in [
            (
                "servers = \"a:1\"\nsession_timout = \"4s\"",
                "`session_timout`",
            ),
            (
                "servers = \"a:1\"\n[credentials]\nuser = \"u\"\npasswd = \"p\"",
                "`passwd`",
            ),
            (
                "servers = \"a:1\"\nreconnect_backoff = { min = \"1s\" }",
                "`max`",
            ),
            (
                "servers = \"a:1\"\nsession_timeout = \"4x\"",
                "`session_timeout`",
            ),
            (
                "servers = \"a:1\"\nreconnect_backoff = { min = \"1s\", max = \"1\" }",
                "`reconnect_backoff.max`",
            ),
            ("servers = \"a:1/chroot\"", "`servers`"),
            ("servers = \"\"", "`servers`"),
            ("servers = \"a:1\"\nchroot = \"tenure\"", "`chroot`"),
            (
                "servers = \"a:1\"\nsession_timeout = \"0s\"",
                "`session_timeout`",
            ),
            (
                "servers = \"a:1\"\nconnect_timeout = \"0s\"",
                "`connect_timeout`",
            ),
            ("servers = \"a:1\"\ntick_time = \"0s\"", "`tick_time`"),
            (
                "servers = \"a:1\"\n[credentials]\nuser = \"a:b\"\npassword = \"p\"",
                "`user`",
            ),
        ] {
            let err = from_toml(doc).unwrap_err();
            assert!(err.contains(named), "{doc:?}: {err}");
        }
    }

    #[test]
    fn the_password_appears_in_no_error_and_no_debug() {
        let doc =
            "servers = \"a:1\"\n[credentials]\nuser = \"a:b\"\npassword = \"PASSWORD-s3cret\"";
        let err = from_toml(doc).unwrap_err();
        assert!(err.contains("`user`") && !err.contains("s3cret"), "{err}");
        let json = r#"{"servers": "a:1", "credentials": {"user": "u", "password": 12345678}}"#;
        let err = serde_json::from_str::<ZkConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("12345678"), "{err}");
        let json =
            r#"{"servers": "a:1", "credentials": {"user": "u", "password": "PASSWORD-s3cret"}}"#;
        let config: ZkConfig = serde_json::from_str(json).unwrap();
        let shown = format!("{config:?}");
        assert!(
            shown.contains("\"u\"") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn tls_is_read_with_the_tls_feature_and_refused_without() {
        let doc = "servers = \"a:2281\"\n[tls]\nca_pem = \"-----BEGIN CERTIFICATE-----\"";
        let config = from_toml(doc);
        #[cfg(feature = "tls")]
        assert_eq!(
            config.unwrap().tls(),
            Some(&TlsConfig::new("-----BEGIN CERTIFICATE-----"))
        );
        #[cfg(not(feature = "tls"))]
        assert!(config.unwrap_err().contains("`tls`"));
    }
}

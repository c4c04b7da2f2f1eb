//! Reading tenure's configuration types from a file (feature `serde`):
//! [`Timing`](crate::Timing) and [`TlsConfig`](crate::TlsConfig) here,
//! `ZkConfig` and `EtcdConfig` in their backends, each through
//! `serde::Deserialize` in any format serde reads (TOML, JSON, YAML, …).
//!
//! Every type goes through the same checks as its constructor or builder,
//! so a document that deserializes gives a value the builder would have
//! given; a value the builder refuses is an error naming the field and
//! the rule. Unknown fields are refused. What the types share lives here:
//!
//! - [`DurationText`]: durations are text, as `humantime` writes them:
//!   `"4s"`, `"1m30s"`, `"500ms"`, `"2h"`. A bare number is refused (is
//!   `4` seconds or milliseconds?).
//! - [`Secret`]: passwords and private keys; an error about one never
//!   shows its value, and neither does `Debug`. A parser may still quote
//!   the line of the document an error is on (the `toml` crate does), so
//!   keep private keys in files (`key_file`) rather than inline.

mod timing;
mod tls;

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::error::Error;

pub(crate) use timing::RawTiming;
pub(crate) use tls::RawTls;

/// Names the field a configuration error is about: an
/// [`Error::InvalidInput`] becomes one whose text starts with `` `field`: ``;
/// other errors pass unchanged.
pub fn in_field(field: &str, error: Error) -> Error {
    match error {
        Error::InvalidInput(why) => Error::InvalidInput(format!("`{field}`: {why}")),
        other => other,
    }
}

/// `value` when `valid` accepts it, else `valid`'s error naming `field`
/// (as [`in_field`]): for a builder whose `validate` checks every field,
/// applied after each field is set, so a failure is that field's.
///
/// # Errors
/// As `valid`, naming `field`.
pub fn checked<T>(
    value: T,
    field: &str,
    valid: impl FnOnce(&T) -> Result<(), Error>,
) -> Result<T, Error> {
    match valid(&value) {
        Ok(()) => Ok(value),
        Err(e) => Err(in_field(field, e)),
    }
}

/// A user name and password as a configuration file gives them (a table
/// of `user` and `password`, nothing else): what the backends'
/// credentials deserialize through.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPassword {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: Secret,
}

/// A duration as written in a configuration file (`"4s"`, `"1m30s"`,
/// `"500ms"`), kept as text until [`DurationText::parse`] knows the field it
/// came from, so that a bad duration is an error naming its field.
#[derive(Clone, PartialEq, Eq)]
pub struct DurationText(String);

impl DurationText {
    /// The duration, parsed as `humantime` does (units `ns`, `us`, `ms`,
    /// `s`, `m`, `h`, `d`, and their long names; several may follow each
    /// other: `"1m30s"`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `field`, the text and why it is not
    /// a duration.
    pub fn parse(&self, field: &str) -> Result<Duration, Error> {
        humantime::parse_duration(&self.0).map_err(|why| {
            Error::InvalidInput(format!(
                "`{field}`: {:?} is not a duration ({why}); write it as \"4s\", \"1m30s\" or \"500ms\"",
                self.0
            ))
        })
    }

    /// [`DurationText::parse`] of an optional field.
    ///
    /// # Errors
    /// As [`DurationText::parse`].
    pub fn parse_opt(text: Option<&Self>, field: &str) -> Result<Option<Duration>, Error> {
        text.map(|t| t.parse(field)).transpose()
    }
}

impl fmt::Debug for DurationText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration as text, such as \"4s\", \"1m30s\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationText, E> {
                Ok(DurationText(text.to_owned()))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// A password or private key read from a configuration file: it must be
/// text, and neither an error about it nor `Debug` shows its value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The error for a secret of another type than text: serde's own
        /// would show the value (`invalid type: integer `1234``).
        fn not_text<E: de::Error>() -> E {
            E::custom("a secret (password or key) must be text; its value is not shown")
        }
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret as text")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Secret, E> {
                Ok(Secret(text.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(not_text())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(not_text())
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
                Err(not_text())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(not_text())
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
                Err(not_text())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(not_text())
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secret, E> {
                Err(not_text())
            }
        }
        // `deserialize_any`: with `deserialize_str`, a format may report
        // another type itself, value included, without asking the visitor.
        deserializer.deserialize_any(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Doc {
        wait: DurationText,
        password: Secret,
    }

    #[test]
    fn durations_parse_as_humantime_and_bad_ones_name_the_field() {
        let doc: Doc = toml::from_str("wait = \"1m30s\"\npassword = \"pw\"").unwrap();
        assert_eq!(doc.wait.parse("wait").unwrap(), Duration::from_secs(90));
        let bad: Doc = toml::from_str("wait = \"4x\"\npassword = \"pw\"").unwrap();
        let err = bad.wait.parse("wait").unwrap_err().to_string();
        assert!(err.contains("`wait`") && err.contains("\"4x\""), "{err}");
        let number = toml::from_str::<Doc>("wait = 4\npassword = \"pw\"").unwrap_err();
        assert!(number.to_string().contains("\"4s\""), "{number}");
    }

    #[test]
    fn a_secret_of_another_type_is_refused_without_its_value() {
        for value in ["987654321", "98765.4321", "true", "[9876]"] {
            let json = format!("{{\"wait\": \"1s\", \"password\": {value}}}");
            let err = serde_json::from_str::<Doc>(&json).unwrap_err().to_string();
            assert!(!err.contains("9876") && !err.contains("true"), "{err}");
        }
        let doc: Doc = serde_json::from_str(r#"{"wait": "1s", "password": "s3cret"}"#).unwrap();
        assert_eq!(doc.password.expose(), "s3cret");
        assert!(!format!("{doc:?}").contains("s3cret"));
    }
}

//! Who may operate: the console is read-only unless started with
//! `--allow-writes` and at least one token; a write request carries one as
//! `Authorization: Bearer TOKEN`, and the token's name is logged as the
//! operator. Tokens are never printed or logged.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use tracing::warn;

use super::error::ApiError;
use crate::args::ConsoleArgs;
use crate::error::{CliError, CliResult};

/// The environment variable that may hold a token (`NAME:TOKEN` or
/// `TOKEN`).
pub const TOKEN_ENV: &str = "TENURE_CONSOLE_TOKEN";

/// The shortest token accepted.
const MIN_TOKEN: usize = 16;

/// A named token.
struct Token {
    name: String,
    secret: Vec<u8>,
}

/// Whether and by whom the console may be operated.
pub struct Auth {
    /// Empty when the console is read-only.
    tokens: Vec<Token>,
}

/// Who asked for an operation.
#[derive(Clone, Debug)]
pub struct Operator {
    /// The name of the token it carried.
    pub name: String,
    /// Where the request came from.
    pub remote: SocketAddr,
}

impl Auth {
    /// The tokens of `--token-file` and `env_token` (the value of
    /// [`TOKEN_ENV`]), if `--allow-writes` was given.
    ///
    /// # Errors
    /// [`CliError::Invalid`] for `--allow-writes` without a token, an
    /// unreadable token file, or a token that is too short (naming the
    /// file and line, never the token).
    pub fn load(args: &ConsoleArgs, env_token: Option<String>) -> CliResult<Auth> {
        let mut tokens = Vec::new();
        if let Some(path) = &args.token_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::Invalid(format!(
                    "cannot read the token file {}: {e}",
                    path.display()
                ))
            })?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let place = format!("{} line {}", path.display(), n + 1);
                tokens.push(parse(line, &format!("line {}", n + 1), &place)?);
            }
        }
        if let Some(value) = env_token.filter(|v| !v.trim().is_empty()) {
            tokens.push(parse(value.trim(), "env", TOKEN_ENV)?);
        }
        if !args.allow_writes {
            if !tokens.is_empty() {
                warn!("tokens given without --allow-writes are not used: the console is read-only");
            }
            return Ok(Auth { tokens: Vec::new() });
        }
        if tokens.is_empty() {
            return Err(CliError::Invalid(format!(
                "--allow-writes needs a token: --token-file PATH, or the {TOKEN_ENV} variable"
            )));
        }
        Ok(Auth { tokens })
    }

    /// Whether operations are allowed at all.
    pub fn writable(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The operator behind a write request.
    ///
    /// # Errors
    /// [`ApiError::ReadOnly`] when writes are off, [`ApiError::Unauthorized`]
    /// for a missing or unknown token.
    pub fn check(&self, headers: &HeaderMap, remote: SocketAddr) -> Result<Operator, ApiError> {
        if !self.writable() {
            return Err(ApiError::ReadOnly);
        }
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(given) = given.filter(|g| !g.is_empty()) else {
            return Err(ApiError::Unauthorized(
                "this operation needs a token: send `Authorization: Bearer TOKEN` (the page has a \
                 field for it)"
                    .into(),
            ));
        };
        // Every token is compared in full, so the time taken does not
        // tell how much of a guess was right.
        let mut found = None;
        for token in &self.tokens {
            if same(token.secret.as_slice(), given.as_bytes()) && found.is_none() {
                found = Some(token.name.clone());
            }
        }
        match found {
            Some(name) => Ok(Operator { name, remote }),
            None => {
                warn!(%remote, "refused an operation: unknown token");
                Err(ApiError::Unauthorized(
                    "the token is not one of this console's tokens".into(),
                ))
            }
        }
    }
}

/// `NAME:TOKEN` or `TOKEN` (named `default_name`).
fn parse(line: &str, default_name: &str, place: &str) -> CliResult<Token> {
    let (name, secret) = match line.split_once(':') {
        Some((name, secret)) if !name.trim().is_empty() => (name.trim(), secret.trim()),
        _ => (default_name, line),
    };
    if secret.chars().count() < MIN_TOKEN {
        return Err(CliError::Invalid(format!(
            "the token of {place} is shorter than {MIN_TOKEN} characters"
        )));
    }
    Ok(Token {
        name: name.to_owned(),
        secret: secret.as_bytes().to_vec(),
    })
}

/// Equality in time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn args(allow: bool, file: Option<std::path::PathBuf>) -> ConsoleArgs {
        ConsoleArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            allow_writes: allow,
            token_file: file,
            history: 10,
        }
    }

    fn remote() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn named_tokens_from_the_file_and_the_environment_identify_the_operator() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            "# operators\nalice:0123456789abcdefXYZ\n\nunnamed-token-0123456789\n",
        )
        .unwrap();
        let auth = Auth::load(
            &args(true, Some(file.path().into())),
            Some("ci:fedcba9876543210".into()),
        )
        .unwrap();
        let who = |t: &str| auth.check(&bearer(t), remote()).map(|o| o.name);
        assert_eq!(who("0123456789abcdefXYZ").unwrap(), "alice");
        assert_eq!(who("unnamed-token-0123456789").unwrap(), "line 4");
        assert_eq!(who("fedcba9876543210").unwrap(), "ci");
        assert!(matches!(
            who("0123456789abcdef"),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            auth.check(&HeaderMap::new(), remote()),
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[test]
    fn without_allow_writes_the_console_is_read_only_even_with_tokens() {
        let auth = Auth::load(&args(false, None), Some("0123456789abcdef".into())).unwrap();
        assert!(!auth.writable());
        assert!(matches!(
            auth.check(&bearer("0123456789abcdef"), remote()),
            Err(ApiError::ReadOnly)
        ));
    }

    #[test]
    fn allow_writes_needs_a_long_enough_token_and_errors_never_show_it() {
        let err = Auth::load(&args(true, None), None).err().unwrap();
        assert!(err.to_string().contains("--token-file"), "{err}");
        let err = Auth::load(&args(true, None), Some("ops:short-one".into()))
            .err()
            .unwrap();
        assert!(err.to_string().contains(TOKEN_ENV), "{err}");
        assert!(!err.to_string().contains("short-one"), "{err}");
    }

    #[test]
    fn comparison_needs_every_byte_and_the_length() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}

//! Reading and writing records: JSON for the records, decimal text for the
//! two counters (fencing tokens, the leader term).
//!
//! Decoding fails closed. A node that does not hold what its place in the
//! layout says it holds is an [`Error::MalformedRecord`] naming the node,
//! what it should hold and what is wrong; nothing is guessed in its place.
//! A guess is what made tokens go backwards: a fencing counter read as 0
//! hands out token 1 again.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::store::Path;

/// A record kept as JSON in one node of a cluster's layout.
pub trait Record: Serialize + DeserializeOwned {
    /// What the record is called in errors and events: `task`,
    /// `ownership`, `target`, …
    const KIND: &'static str;

    /// The record that empty data stands for, if empty data is allowed
    /// (nodes the layout creates empty before anyone writes them).
    fn empty() -> Option<Self> {
        None
    }

    /// Checks what the JSON form alone cannot.
    ///
    /// # Errors
    /// What is wrong, in words.
    fn check(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Decodes the record read from the node at `path`.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] naming `path`, when `data` is not this
    /// record (not JSON, missing or mistyped fields, invalid names or a
    /// value [`Record::check`] refuses).
    fn decode(path: &Path, data: &[u8]) -> Result<Self> {
        if data.is_empty()
            && let Some(empty) = Self::empty()
        {
            return Ok(empty);
        }
        let record: Self = serde_json::from_slice(data)
            .map_err(|e| malformed(path, Self::KIND, format!("{e} (data: {})", shown(data))))?;
        record
            .check()
            .map_err(|problem| malformed(path, Self::KIND, problem))?;
        Ok(record)
    }

    /// The record as stored.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if it cannot be encoded (never for the
    /// records of this module).
    fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self)
            .map_err(|e| Error::InvalidInput(format!("cannot encode a {} record: {e}", Self::KIND)))
    }
}

/// What the record kind of a fencing counter is called.
pub const EPOCH: &str = "epoch";
/// What the record kind of the leader term is called.
pub const TERM: &str = "term";

/// Decodes a fencing counter (`epochs/<task>`): the last token handed out,
/// as decimal text.
///
/// # Errors
/// [`Error::MalformedRecord`] naming `path` for anything but decimal text
/// of a number (empty data included: a counter is created with its first
/// token).
pub fn decode_epoch(path: &Path, data: &[u8]) -> Result<u64> {
    decode_number(path, EPOCH, data)
}

/// The token after the counter at `path` (holding `data`, or absent): one
/// more than the last one handed out.
///
/// # Errors
/// As [`decode_epoch`]; a counter already at the largest number has no
/// next token (an [`Error::MalformedRecord`] too: nothing larger exists).
pub fn next_token(path: &Path, data: Option<&[u8]>) -> Result<u64> {
    let last = match data {
        Some(data) => decode_epoch(path, data)?,
        None => 0,
    };
    last.checked_add(1).ok_or_else(|| {
        malformed(
            path,
            EPOCH,
            format!("the counter is at {last}, the largest number: no larger token exists"),
        )
    })
}

/// Decodes the leader term (`term`): decimal text, or empty data before
/// the first leader (term 0).
///
/// # Errors
/// [`Error::MalformedRecord`] naming `path` for anything else.
pub fn decode_term(path: &Path, data: &[u8]) -> Result<u64> {
    if data.is_empty() {
        return Ok(0);
    }
    decode_number(path, TERM, data)
}

fn decode_number(path: &Path, kind: &'static str, data: &[u8]) -> Result<u64> {
    std::str::from_utf8(data)
        .ok()
        .map(str::trim)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            malformed(
                path,
                kind,
                format!(
                    "expected a number as decimal text (at most {}), found {}",
                    u64::MAX,
                    shown(data)
                ),
            )
        })
}

fn malformed(path: &Path, record: &'static str, problem: String) -> Error {
    Error::MalformedRecord {
        path: path.clone(),
        record,
        problem,
    }
}

/// At most the first 64 bytes of `data`, for messages.
fn shown(data: &[u8]) -> String {
    const SHOWN: usize = 64;
    let head = String::from_utf8_lossy(&data[..data.len().min(SHOWN)]).into_owned();
    if data.len() > SHOWN {
        format!("{head:?}… ({} bytes)", data.len())
    } else {
        format!("{head:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Path {
        Path::new("/c/epochs/T").unwrap()
    }

    #[test]
    fn counters_are_decimal_text_and_anything_else_names_the_node() {
        assert_eq!(decode_epoch(&p(), b"41").unwrap(), 41);
        assert_eq!(decode_epoch(&p(), b" 7\n").unwrap(), 7);
        assert_eq!(next_token(&p(), None).unwrap(), 1);
        assert_eq!(next_token(&p(), Some(b"41")).unwrap(), 42);
        assert_eq!(decode_term(&p(), b"").unwrap(), 0);
        for bad in [
            &b""[..],
            b"x",
            b"-1",
            b"+1",
            b"1.0",
            b"18446744073709551616",
            b"\xff",
        ] {
            let e = decode_epoch(&p(), bad).unwrap_err();
            assert!(
                matches!(&e, Error::MalformedRecord { path, record: EPOCH, .. } if path == "/c/epochs/T"),
                "{bad:?}: {e:?}"
            );
        }
        let full = u64::MAX.to_string();
        assert!(next_token(&p(), Some(full.as_bytes())).is_err());
    }
}

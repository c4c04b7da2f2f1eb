//! What commands print: tables for people, JSON for programs.

pub mod schema;
pub mod table;

use std::io::Write;

use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// [`CliError::StdoutClosed`] when the reader went away, other write
/// errors as [`CliError::Failed`].
pub fn emit(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::StdoutClosed,
            _ => CliError::Failed(format!("cannot write to standard output: {e}")),
        })
}

/// Writes `doc` as one line of JSON.
///
/// # Errors
/// As [`emit`].
pub fn emit_json<T: Serialize>(doc: &T) -> CliResult {
    let mut line = serde_json::to_string(doc)
        .map_err(|e| CliError::Failed(format!("cannot encode JSON: {e}")))?;
    line.push('\n');
    emit(&line)
}

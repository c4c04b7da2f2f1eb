//! Log lines on standard error, as text or JSON, filtered by level.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::args::{LogArgs, LogFormat};
use crate::error::{CliError, CliResult};

/// The filter when neither `--log-level` nor `RUST_LOG` is given: the
/// runtime's and the supervisor's own lines at `info`, other crates' at
/// `warn`.
pub const WORKER_DEFAULT: &str = "warn,tenure=info,tenure_core=info";

/// The filter of the operating commands: only warnings and errors, so
/// standard output stays the listing.
pub const ADMIN_DEFAULT: &str = "warn";

/// Installs the global subscriber: `--log-level`, else `RUST_LOG`, else
/// `default`.
///
/// # Errors
/// [`CliError::Invalid`] for a filter that does not parse.
pub fn init(args: &LogArgs, default: &str) -> CliResult {
    let directives = match &args.log_level {
        Some(level) => level.clone(),
        None => std::env::var("RUST_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default.to_owned()),
    };
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| CliError::Invalid(format!("bad log filter {directives:?}: {e}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    installed.map_err(|e| CliError::Failed(format!("cannot install the logger: {e}")))
}

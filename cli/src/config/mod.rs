//! Where each option's value comes from: the command line, else the
//! environment (`TENURE_*`), else `tenure worker`'s configuration file
//! (`--config FILE` or `TENURE_CONFIG`), else the default.
//!
//! clap already ranks the command line over the environment over the
//! default; the file goes in as the default: its values replace the
//! options' defaults before the one real parse. So there is one parser
//! for all four sources, and a value from the file is checked by the same
//! rules as one typed on the command line.
//!
//! - `file`: reading the file and installing its values;
//! - `print`: `tenure worker --print-config`.

mod file;
mod print;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::args::Cli;

pub use print::render;

/// A configuration file that cannot be used; the message names the file
/// and, for a bad entry, the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Why the command line was refused.
#[derive(Debug)]
pub enum ParseError {
    /// clap's usage error (or `--help`, `--version`): print it and exit
    /// with its code.
    Usage(clap::Error),
    /// The configuration file.
    Config(ConfigError),
}

/// The parsed command line, and what `--print-config` needs to say where
/// each value came from.
pub struct Parsed {
    /// The options.
    pub cli: Cli,
    /// The configuration file, if one was read.
    pub file: Option<PathBuf>,
    /// The keys the file set.
    pub from_file: Vec<String>,
    /// clap's matches, which know each value's source (and hold every
    /// value as given, secrets included: never shown whole).
    pub matches: ArgMatches,
}

impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parsed")
            .field("cli", &self.cli)
            .field("file", &self.file)
            .field("from_file", &self.from_file)
            .finish_non_exhaustive()
    }
}

/// Parses `argv` (the program's whole argument list), reading the
/// configuration file first if `tenure worker` names one.
///
/// # Errors
/// [`ParseError::Usage`] as clap refuses a command line;
/// [`ParseError::Config`] for a file that cannot be read or is wrong.
pub fn parse(argv: &[OsString]) -> Result<Parsed, ParseError> {
    let mut command = Cli::command();
    let file = config_file(argv);
    let mut from_file = Vec::new();
    if let Some(path) = &file {
        let table = file::read(path).map_err(ParseError::Config)?;
        (command, from_file) = file::apply(command, path, table).map_err(ParseError::Config)?;
    }
    let matches = command
        .try_get_matches_from_mut(argv)
        .map_err(ParseError::Usage)?;
    let cli =
        Cli::from_arg_matches(&matches).map_err(|e| ParseError::Usage(e.format(&mut command)))?;
    Ok(Parsed {
        cli,
        file,
        from_file,
        matches,
    })
}

/// The configuration file `tenure worker` is given (`--config FILE`, else
/// `TENURE_CONFIG`), found by a lenient first parse that ignores every
/// other error: a file may supply required options such as `id`.
fn config_file(argv: &[OsString]) -> Option<PathBuf> {
    let matches = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(argv)
        .ok()?;
    let (name, worker) = matches.subcommand()?;
    if name != "worker" {
        return None;
    }
    worker.get_one::<PathBuf>("config").cloned()
}

#[cfg(test)]
mod tests;

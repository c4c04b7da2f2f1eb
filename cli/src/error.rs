//! What can go wrong, and the exit code each failure gives.

use std::process::ExitCode;

use tenure_core::Error;

/// A failure of a `tenure` command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Input the command refuses (names, payloads, option values).
    #[error("{0}")]
    Invalid(String),
    /// The servers could not be reached in time, or the connection is gone.
    #[error("{0}")]
    Unreachable(String),
    /// The credentials were refused.
    #[error("{0}")]
    Unauthorized(String),
    /// The task does not exist, or already exists.
    #[error("{0}")]
    Conflict(String),
    /// A read-only command named a cluster that does not exist.
    #[error("{0}")]
    NoCluster(String),
    /// A cluster to remove has workers registered.
    #[error("{0}")]
    InUse(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
    /// Standard output was closed by its reader (`tenure status | head`):
    /// not a failure, nothing more to say.
    #[error("standard output closed")]
    StdoutClosed,
}

impl CliError {
    /// The process exit code of this failure (documented in `tenure --help`).
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::StdoutClosed => 0,
            CliError::Failed(_) => 1,
            CliError::Invalid(_) => 2,
            CliError::Unreachable(_) => 3,
            CliError::Unauthorized(_) => 4,
            CliError::Conflict(_) => 5,
            CliError::NoCluster(_) => 6,
            CliError::InUse(_) => 7,
        })
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let text = e.to_string();
        match e {
            Error::InvalidName { .. }
            | Error::InvalidPath { .. }
            | Error::PayloadTooLarge { .. }
            | Error::InvalidInput(_) => CliError::Invalid(text),
            Error::Timeout { .. }
            | Error::ConnectionLost { .. }
            | Error::SessionExpired { .. }
            | Error::Closed => CliError::Unreachable(text),
            Error::Unauthorized { .. } => CliError::Unauthorized(text),
            Error::UnknownTask { .. } => CliError::Conflict(text),
            Error::UnknownCluster { .. } => CliError::NoCluster(text),
            Error::ClusterInUse { .. } => CliError::InUse(text),
            _ => CliError::Failed(text),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Failed(e.to_string())
    }
}

/// A shorthand for results of commands.
pub type CliResult<T = ()> = Result<T, CliError>;

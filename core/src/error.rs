//! The one error type of tenure: variants by meaning, not by backend.

use std::time::Duration;

use crate::store::path::Path;

/// A result whose error is tenure's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from a backend's client library, kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong talking to a coordination store or running
/// the coordination runtime.
///
/// Backends map their private errors into these variants, keeping the
/// original error as the source where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node does not exist.
    #[error("node {path} does not exist")]
    NotFound {
        /// The path that was looked up.
        path: Path,
    },

    /// The node already exists, so it cannot be created.
    #[error("node {path} already exists")]
    AlreadyExists {
        /// The path that was to be created.
        path: Path,
    },

    /// A compare-and-set failed: the node's version is no longer the one
    /// expected. Re-read the node and decide again.
    #[error("version conflict on {path}: the node changed since it was read; re-read and retry")]
    VersionConflict {
        /// The node whose version did not match.
        path: Path,
    },

    /// The parent of a node to be created does not exist.
    #[error("cannot create {path}: its parent does not exist; create the parent first")]
    NoParent {
        /// The path that was to be created.
        path: Path,
    },

    /// A node with children cannot be deleted.
    #[error("cannot delete {path}: it still has children; delete them first")]
    NotEmpty {
        /// The node that still has children.
        path: Path,
    },

    /// Ephemeral nodes cannot have children.
    #[error("cannot create {path}: its parent is ephemeral and ephemeral nodes have no children")]
    EphemeralParent {
        /// The path that was to be created.
        path: Path,
    },

    /// The session is gone: every ephemeral node it owned has been deleted.
    /// The store opens a new session; whatever depended on the old one must be
    /// re-created under the new one.
    #[error("session {session} has expired; its ephemeral nodes are gone")]
    SessionExpired {
        /// The expired session, as the backend numbers it (0 if unknown).
        session: u64,
    },

    /// The connection to the server is lost; the session may still be alive.
    /// Retrying later may succeed.
    #[error("connection to the coordination server lost: {detail}")]
    ConnectionLost {
        /// What the backend reported.
        detail: String,
    },

    /// The server did not answer in time (for example it is unreachable).
    #[error(
        "{operation} timed out after {after:?}: is the server reachable at the configured address?"
    )]
    Timeout {
        /// What was being attempted.
        operation: String,
        /// How long it waited.
        after: Duration,
    },

    /// A name (one path segment, task or worker name) is not acceptable.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name (possibly truncated for display).
        name: String,
        /// Why it was rejected, naming the rule or limit.
        reason: String,
    },

    /// A path is not acceptable.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The rejected text (possibly truncated for display): a string,
        /// not a [`Path`], since it is not a valid one.
        path: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A payload exceeds what the backend accepts.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes of this backend")]
    PayloadTooLarge {
        /// The size of the refused payload.
        size: usize,
        /// The backend's limit.
        limit: usize,
    },

    /// Input that is neither a name nor a path nor a payload is not acceptable
    /// (for example a zero weight, or a malformed record).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A record the runtime read from the store does not decode (written
    /// by hand, by another program, or damaged). Whatever depends on it
    /// stops until the node is repaired; nothing is guessed in its place
    /// (a fencing counter that does not decode hands out no token at all).
    #[error(
        "malformed {record} record at {path}: {problem}; nothing that depends on it goes on until the node is repaired"
    )]
    MalformedRecord {
        /// The node.
        path: Path,
        /// What the node should hold: `task`, `ownership`, `epoch`, …
        record: &'static str,
        /// What is wrong with it.
        problem: String,
    },

    /// The credentials were refused, or the caller may not touch this node.
    #[error("not authorised: {detail}; check the credentials and the node's ACL")]
    Unauthorized {
        /// What the backend reported.
        detail: String,
    },

    /// The TLS connection to the server could not be set up: the server's
    /// certificate is not signed by the configured CA or does not name the
    /// host, the server refused (or required) a client certificate, or the
    /// PEM files do not parse.
    #[error(
        "TLS failure: {detail}; check the CA certificate, the client certificate and key, and that the server's certificate names the host connected to"
    )]
    Tls {
        /// What failed, naming the server or file.
        detail: String,
    },
    /// A task named in a request does not exist.
    #[error("unknown task {task}: add it first")]
    UnknownTask {
        /// The task name.
        task: String,
    },

    /// A cluster named in a request does not exist: nothing has been
    /// written at its path ([`Admin::existing`](crate::Admin::existing)
    /// creates nothing to find out).
    #[error("no cluster at {path}: check the name; adding a task or starting a worker creates it")]
    UnknownCluster {
        /// Where the cluster would live.
        path: Path,
    },

    /// A cluster cannot be removed while workers are registered in it
    /// ([`Admin::remove_cluster`](crate::Admin::remove_cluster)).
    #[error(
        "cluster {cluster} is in use: worker(s) {} registered; stop them (or wait for their sessions to end) and try again",
        workers.join(", ")
    )]
    ClusterInUse {
        /// The cluster's name.
        cluster: String,
        /// The workers registered in it, by name.
        workers: Vec<String>,
    },

    /// The store handle (or the worker) has been closed.
    #[error("the store has been closed")]
    Closed,

    /// Anything else the backend reported; the backend's error is the source.
    #[error("{backend} error: {message}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What happened.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// Whether retrying the same operation later may succeed without any
    /// other change (lost connection, time-out).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::ConnectionLost { .. } | Error::Timeout { .. })
    }

    /// Whether this is a lost compare-and-set race: a version conflict, or a
    /// create of something that already exists.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Error::VersionConflict { .. } | Error::AlreadyExists { .. }
        )
    }

    /// Whether the node (or its parent) did not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. } | Error::NoParent { .. })
    }

    /// The node this error is about, for the variants that name one
    /// (not found, already exists, version conflict, no parent, not empty,
    /// ephemeral parent, malformed record, unknown cluster).
    ///
    /// [`Error::InvalidPath`] has no [`Path`]: what it rejected is not one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::NotFound { path }
            | Error::AlreadyExists { path }
            | Error::VersionConflict { path }
            | Error::NoParent { path }
            | Error::NotEmpty { path }
            | Error::EphemeralParent { path }
            | Error::MalformedRecord { path, .. }
            | Error::UnknownCluster { path } => Some(path),
            _ => None,
        }
    }

    /// Builds a [`Error::Backend`] from a backend's error.
    pub fn backend(
        backend: &'static str,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Backend {
            backend,
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_errors_keep_their_message_and_carry_the_typed_path() {
        let node = Path::new("/tenure/ecas/tasks/TASK_1").unwrap();
        let cases = [
            (
                Error::NotFound { path: node.clone() },
                "node /tenure/ecas/tasks/TASK_1 does not exist",
            ),
            (
                Error::AlreadyExists { path: node.clone() },
                "node /tenure/ecas/tasks/TASK_1 already exists",
            ),
            (
                Error::VersionConflict { path: node.clone() },
                "version conflict on /tenure/ecas/tasks/TASK_1: the node changed since it was read; re-read and retry",
            ),
            (
                Error::NoParent { path: node.clone() },
                "cannot create /tenure/ecas/tasks/TASK_1: its parent does not exist; create the parent first",
            ),
            (
                Error::NotEmpty { path: node.clone() },
                "cannot delete /tenure/ecas/tasks/TASK_1: it still has children; delete them first",
            ),
            (
                Error::EphemeralParent { path: node.clone() },
                "cannot create /tenure/ecas/tasks/TASK_1: its parent is ephemeral and ephemeral nodes have no children",
            ),
            (
                Error::MalformedRecord {
                    path: node.clone(),
                    record: "task",
                    problem: "not JSON".into(),
                },
                "malformed task record at /tenure/ecas/tasks/TASK_1: not JSON; nothing that depends on it goes on until the node is repaired",
            ),
            (
                Error::UnknownCluster { path: node.clone() },
                "no cluster at /tenure/ecas/tasks/TASK_1: check the name; adding a task or starting a worker creates it",
            ),
        ];
        for (err, message) in cases {
            assert_eq!(err.to_string(), message);
            assert_eq!(err.path(), Some(&node), "{err:?}");
        }
    }

    #[test]
    fn errors_without_a_node_have_no_path() {
        let invalid = Path::new("no-slash").unwrap_err();
        assert_eq!(
            invalid.to_string(),
            "invalid path \"no-slash\": must start with `/`"
        );
        assert_eq!(invalid.path(), None);
        assert_eq!(Error::Closed.path(), None);
        assert_eq!(Error::SessionExpired { session: 7 }.path(), None);
    }
}

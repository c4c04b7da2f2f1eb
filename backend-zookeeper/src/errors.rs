//! ZooKeeper's errors, mapped into tenure's one [`Error`].

use tenure_core::store::Path;
use tenure_core::{Error, SessionId};
use zookeeper_client as zk;

/// The backend name used in [`Error::Backend`].
pub(crate) const BACKEND: &str = "zookeeper";

/// What kind of request failed: the same ZooKeeper error means different
/// things for different requests (`NoNode` on a create is a missing parent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Creating a node.
    Create,
    /// Reading, writing, deleting or checking an existing node.
    Node,
    /// Listing children.
    List,
}

/// Maps `err`, raised by a request of `kind` on `path` under `session`.
pub(crate) fn map(err: zk::Error, kind: Kind, path: &Path, session: SessionId) -> Error {
    let path = path.clone();
    match err {
        zk::Error::NoNode => match kind {
            Kind::Create => Error::NoParent { path },
            Kind::Node | Kind::List => Error::NotFound { path },
        },
        zk::Error::NodeExists => Error::AlreadyExists { path },
        zk::Error::BadVersion => Error::VersionConflict { path },
        zk::Error::NotEmpty => Error::NotEmpty { path },
        zk::Error::NoChildrenForEphemerals => Error::EphemeralParent { path },
        zk::Error::NoAuth => Error::Unauthorized {
            detail: format!("ZooKeeper's ACL of {path} (or of its parent) refuses this client"),
        },
        other => map_session(other, session),
    }
}

/// Maps an error that is not about a particular node.
pub(crate) fn map_session(err: zk::Error, session: SessionId) -> Error {
    match err {
        zk::Error::SessionExpired | zk::Error::SessionMoved => {
            Error::SessionExpired { session: session.0 }
        }
        zk::Error::ConnectionLoss => Error::ConnectionLost {
            detail: "the connection to ZooKeeper was lost".into(),
        },
        zk::Error::Timeout => Error::ConnectionLost {
            detail: "ZooKeeper did not answer in time".into(),
        },
        zk::Error::Throttled => Error::ConnectionLost {
            detail: "ZooKeeper throttled the request under load; retry later".into(),
        },
        zk::Error::ClientClosed => Error::ConnectionLost {
            detail: "the ZooKeeper session ended; a new one is being opened".into(),
        },
        zk::Error::AuthFailed => Error::Unauthorized {
            detail: "ZooKeeper refused the credentials".into(),
        },
        zk::Error::NoAuth => Error::Unauthorized {
            detail: "ZooKeeper's ACL refuses this client".into(),
        },
        other => Error::backend(BACKEND, other.to_string(), other),
    }
}

/// A request's error that may still prove the session alive.
pub(crate) trait ServerAnswer {
    /// Whether ZooKeeper itself answered with this error (so the session
    /// was alive and renewed; for a write, the leader committed the
    /// refusal), as opposed to a client-side or session failure.
    fn server_answered(&self) -> bool;
}

impl ServerAnswer for zk::Error {
    fn server_answered(&self) -> bool {
        matches!(
            self,
            zk::Error::NoNode
                | zk::Error::NodeExists
                | zk::Error::BadVersion
                | zk::Error::NotEmpty
                | zk::Error::NoChildrenForEphemerals
                | zk::Error::NoAuth
                | zk::Error::InvalidAcl
        )
    }
}

impl ServerAnswer for zk::MultiWriteError {
    fn server_answered(&self) -> bool {
        // An operation refused because the session is expiring is no proof.
        match self {
            zk::MultiWriteError::OperationFailed { source, .. }
            | zk::MultiWriteError::RequestFailed { source } => source.server_answered(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SessionId = SessionId(7);

    fn p(path: &str) -> Path {
        Path::new(path).unwrap()
    }

    fn kind_of(e: &Error) -> &'static str {
        match e {
            Error::NotFound { .. } => "NotFound",
            Error::NoParent { .. } => "NoParent",
            Error::AlreadyExists { .. } => "AlreadyExists",
            Error::VersionConflict { .. } => "VersionConflict",
            Error::NotEmpty { .. } => "NotEmpty",
            Error::EphemeralParent { .. } => "EphemeralParent",
            Error::SessionExpired { session: 7 } => "SessionExpired",
            Error::ConnectionLost { .. } => "ConnectionLost",
            Error::Unauthorized { .. } => "Unauthorized",
            Error::Backend { .. } => "Backend",
            _ => "other",
        }
    }

    #[test]
    fn every_zookeeper_error_has_a_meaning() {
        let cases = [
            (zk::Error::NoNode, Kind::Create, "NoParent"),
            (zk::Error::NoNode, Kind::Node, "NotFound"),
            (zk::Error::NoNode, Kind::List, "NotFound"),
            (zk::Error::NodeExists, Kind::Create, "AlreadyExists"),
            (zk::Error::BadVersion, Kind::Node, "VersionConflict"),
            (zk::Error::NotEmpty, Kind::Node, "NotEmpty"),
            (
                zk::Error::NoChildrenForEphemerals,
                Kind::Create,
                "EphemeralParent",
            ),
            (zk::Error::SessionExpired, Kind::Node, "SessionExpired"),
            (zk::Error::SessionMoved, Kind::Node, "SessionExpired"),
            (zk::Error::ConnectionLoss, Kind::Node, "ConnectionLost"),
            (zk::Error::Timeout, Kind::Node, "ConnectionLost"),
            (zk::Error::Throttled, Kind::Node, "ConnectionLost"),
            (zk::Error::ClientClosed, Kind::Node, "ConnectionLost"),
            (zk::Error::NoAuth, Kind::Node, "Unauthorized"),
            (zk::Error::AuthFailed, Kind::Node, "Unauthorized"),
            (zk::Error::InvalidAcl, Kind::Create, "Backend"),
            (zk::Error::Unimplemented, Kind::Node, "Backend"),
            (zk::Error::MarshallingError, Kind::Node, "Backend"),
        ];
        for (zk_err, kind, want) in cases {
            let shown = format!("{zk_err:?}");
            let e = map(zk_err, kind, &p("/a/b"), S);
            assert_eq!(kind_of(&e), want, "{shown} on {kind:?}: {e:?}");
        }
    }

    #[test]
    fn node_errors_name_the_path_and_backend_errors_keep_the_source() {
        let e = map(zk::Error::NoNode, Kind::Create, &p("/x/y"), S);
        assert!(e.to_string().contains("/x/y"), "{e}");
        let e = map(zk::Error::Unimplemented, Kind::Node, &p("/x"), S);
        assert!(std::error::Error::source(&e).is_some());
        assert!(!e.is_retryable());
        assert!(map_session(zk::Error::ConnectionLoss, S).is_retryable());
    }
}

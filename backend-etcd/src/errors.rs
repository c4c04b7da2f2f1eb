//! etcd's errors, mapped into tenure's one [`Error`].

use etcd_client::Error as EtcdError;
use tenure_core::{Error, SessionId};
use tonic::Code;

/// The backend name used in [`Error::Backend`].
pub(crate) const BACKEND: &str = "etcd";

/// Maps an error of a request that is not about a particular node (or
/// whose node-specific outcomes the caller has already handled). `session`
/// is the lease the request used, if any: a request refused for a missing
/// lease means that session has ended.
pub(crate) fn map(err: EtcdError, session: Option<SessionId>) -> Error {
    match &err {
        // tonic reports a failure of the connection itself (reset, broken
        // pipe, refused) as a status with code Unknown and the transport
        // error as its source.
        EtcdError::GRpcStatus(status)
            if status.code() == Code::Unknown && std::error::Error::source(status).is_some() =>
        {
            Error::ConnectionLost {
                detail: format!("etcd transport failed: {status}"),
            }
        }
        EtcdError::GRpcStatus(status) => {
            match map_status(status.code(), status.message(), session) {
                Some(mapped) => mapped,
                None => {
                    let message = status.message().to_string();
                    Error::backend(BACKEND, message, err)
                }
            }
        }
        EtcdError::TransportError(_) | EtcdError::IoError(_) => Error::ConnectionLost {
            detail: format!("etcd transport failed: {err}"),
        },
        EtcdError::WatchError(_) | EtcdError::LeaseKeepAliveError(_) => Error::ConnectionLost {
            detail: err.to_string(),
        },
        EtcdError::InvalidArgs(_) | EtcdError::InvalidUri(_) | EtcdError::EndpointError(_) => {
            Error::InvalidInput(format!("etcd client configuration: {err}"))
        }
        _ => Error::backend(BACKEND, err.to_string(), err),
    }
}

/// The tenure meaning of a gRPC status from etcd, when it has one.
fn map_status(code: Code, message: &str, session: Option<SessionId>) -> Option<Error> {
    let detail = || format!("etcd said: {message}");
    Some(match code {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Aborted => {
            Error::ConnectionLost { detail: detail() }
        }
        Code::PermissionDenied | Code::Unauthenticated => Error::Unauthorized { detail: detail() },
        Code::InvalidArgument
            if message.contains("authentication failed")
                || message.contains("user name is empty") =>
        {
            Error::Unauthorized { detail: detail() }
        }
        Code::NotFound if message.contains("lease not found") => Error::SessionExpired {
            session: session.map_or(0, |s| s.0),
        },
        Code::InvalidArgument | Code::ResourceExhausted if is_too_large(message) => {
            Error::InvalidInput(format!(
                "etcd refused the request as too large ({message}): the server's \
                 --max-request-bytes is below the configured one (with_max_request_bytes)"
            ))
        }
        Code::InvalidArgument if message.contains("too many operations") => {
            Error::InvalidInput(format!(
                "etcd refused the transaction ({message}): the server's --max-txn-ops is below \
                 the configured one (with_max_txn_ops)"
            ))
        }
        _ => return None,
    })
}

fn is_too_large(message: &str) -> bool {
    message.contains("too large") || message.contains("larger than max")
}

/// Whether `err` proves the request was not applied: the connection to
/// the member could not be opened, or the member has no leader (with
/// `require_leader`, it refuses before proposing anything).
pub(crate) fn not_applied(err: &EtcdError) -> bool {
    connect_failed(err)
        || matches!(err, EtcdError::GRpcStatus(s)
            if s.code() == Code::Unavailable && s.message().contains("no leader"))
}

/// Whether `err` says the connection to the member could not be opened.
pub(crate) fn connect_failed(err: &EtcdError) -> bool {
    let text = err.to_string().to_lowercase();
    text.contains("tcp connect error") || text.contains("connection refused")
}

/// Whether `err` is a failure of the transport rather than an answer.
pub(crate) fn is_transport(err: &EtcdError) -> bool {
    match err {
        EtcdError::TransportError(_) | EtcdError::IoError(_) => true,
        EtcdError::GRpcStatus(s) => {
            s.code() == Code::Unavailable
                || (s.code() == Code::Unknown && std::error::Error::source(s).is_some())
        }
        _ => false,
    }
}

/// Whether `err` says a read or watch asked for a compacted revision.
pub(crate) fn is_compacted(err: &EtcdError) -> bool {
    matches!(err, EtcdError::GRpcStatus(s) if s.code() == Code::OutOfRange
        || s.message().contains("compacted"))
}

/// The error for a request that got no answer within `after`.
pub(crate) fn timeout(operation: impl Into<String>, after: std::time::Duration) -> Error {
    Error::Timeout {
        operation: operation.into(),
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: Code, message: &str) -> Error {
        map(
            EtcdError::GRpcStatus(tonic::Status::new(code, message)),
            Some(SessionId(7)),
        )
    }

    #[test]
    fn statuses_map_by_meaning() {
        assert!(matches!(
            status(Code::Unavailable, "etcdserver: no leader"),
            Error::ConnectionLost { .. }
        ));
        assert!(matches!(
            status(
                Code::InvalidArgument,
                "etcdserver: authentication failed, invalid user ID or password"
            ),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            status(Code::InvalidArgument, "etcdserver: user name is empty"),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            status(Code::PermissionDenied, "etcdserver: permission denied"),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            status(Code::NotFound, "etcdserver: requested lease not found"),
            Error::SessionExpired { session: 7 }
        ));
        assert!(matches!(
            status(Code::InvalidArgument, "etcdserver: request is too large"),
            Error::InvalidInput(_)
        ));
        let other = status(Code::Internal, "boom");
        assert!(matches!(other, Error::Backend { .. }));
        assert!(std::error::Error::source(&other).is_some(), "source kept");
    }

    #[test]
    fn transport_failures_are_lost_connections() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "broken pipe");
        let status = tonic::Status::from_error(Box::new(io));
        let mapped = map(EtcdError::GRpcStatus(status), None);
        assert!(matches!(mapped, Error::ConnectionLost { .. }), "{mapped:?}");
    }

    #[test]
    fn compaction_is_recognised() {
        let e = EtcdError::GRpcStatus(tonic::Status::new(
            Code::OutOfRange,
            "etcdserver: mvcc: required revision has been compacted",
        ));
        assert!(is_compacted(&e));
    }
}

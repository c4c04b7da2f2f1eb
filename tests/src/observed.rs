//! A store (core's [`Observed`] layer) that tells an observer about every request the server answered:
//! its kind, the path it touched, the session it was sent under, when it
//! was sent and when its answer came. The answer log of the runtime tests
//! and the request counts of the scale benchmark are two such observers.

use std::sync::Arc;

use tenure_core::store::{Completed, Observed, Operation, StoreObserver};
use tenure_core::{DynStore, Path, SessionId};
use tokio::time::Instant;

/// What kind of request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `get`, `get_and_watch`, or a read of several nodes.
    Get,
    /// `children` or `children_and_watch`: one listing.
    List,
    /// `create`, `set` or `delete`.
    Write,
    /// One `multi`, whatever it holds.
    Multi,
}

/// A request the server answered.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// What kind of request.
    pub kind: Kind,
    /// The path it touched; for a multi, the path of its first operation
    /// that is not a check (`None` for an empty multi).
    pub path: Option<&'a Path>,
    /// The client's session when it sent the request.
    pub session: Option<SessionId>,
    /// When it was sent.
    pub sent: Instant,
    /// When its answer came.
    pub answered: Instant,
    /// How many requests the backend sent for it: 1, except a
    /// `get_many_and_watch` where the backend reads and watches one node
    /// per request (ZooKeeper, memory: one per path).
    pub requests: u64,
}

/// Told about every request a wrapped store's server answered.
pub trait Observer: Send + Sync + 'static {
    /// One answered request.
    fn answered(&self, request: &Request<'_>);
}

/// `store`, with every answered request told to `observer`.
pub fn observe(store: DynStore, observer: Arc<dyn Observer>) -> DynStore {
    let batched = store.info().backend == "etcd";
    Arc::new(Observed::new(store, Answers(observer, batched)))
}

/// Adapts an [`Observer`] to core's store layer: the answered requests
/// of the kinds above, nothing else; with whether the backend reads and
/// watches many nodes in one request (etcd: up to 128).
struct Answers(Arc<dyn Observer>, bool);

impl StoreObserver for Answers {
    fn after(&self, completed: &Completed<'_>) {
        let request = completed.request;
        let kind = match request.operation {
            Operation::Get
            | Operation::GetMany
            | Operation::GetAndWatch
            | Operation::GetManyAndWatch => Kind::Get,
            Operation::Children | Operation::ChildrenAndWatch => Kind::List,
            Operation::Create | Operation::Set | Operation::Delete => Kind::Write,
            Operation::Multi => Kind::Multi,
            _ => return,
        };
        let requests = match (request.operation, self.1) {
            (Operation::GetManyAndWatch, false) => request.nodes,
            (Operation::GetManyAndWatch | Operation::GetMany, true) => request.nodes.div_ceil(128),
            _ => 1,
        };
        if completed.answered() {
            self.0.answered(&Request {
                kind,
                path: request.path,
                session: request.session,
                sent: request.sent,
                answered: completed.returned,
                requests: requests.max(1) as u64,
            });
        }
    }
}

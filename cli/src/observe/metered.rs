//! A store observer that counts compare-and-set conflicts (a version that
//! moved, a node that appeared first): lost races, which the runtime
//! retries, made visible as `tenure_store_conflicts_total`.

use std::sync::Arc;

use tenure_core::store::{Completed, Observed, Operation, StoreObserver};
use tenure_core::{DynStore, Error};

use crate::observe::metrics::STORE_CONFLICTS;

/// Counts the conflicts of the store it observes.
#[derive(Debug)]
pub struct Conflicts;

impl StoreObserver for Conflicts {
    fn after(&self, completed: &Completed<'_>) {
        let operation = completed.request.operation;
        let write = matches!(
            operation,
            Operation::Create | Operation::Set | Operation::Delete | Operation::Multi
        );
        if write
            && let Some(Error::VersionConflict { .. } | Error::AlreadyExists { .. }) =
                completed.error
        {
            metrics::counter!(STORE_CONFLICTS, "operation" => operation.as_str()).increment(1);
        }
    }
}

/// `inner`, with its conflicts counted; otherwise transparent.
pub fn metered(inner: DynStore) -> DynStore {
    Arc::new(Observed::new(inner, Conflicts))
}

//! Counts of the requests the server answered, by kind and by the folder
//! of the cluster they touched (an observer of `tenure_tests::observed`):
//! the same count for every backend, seen from the client.

use std::collections::BTreeMap;
use std::ops::Sub;
use std::sync::{Arc, Mutex};

use tenure_core::{DynStore, Path};
use tenure_tests::observed::{self, Observer, Request};

pub use tenure_tests::observed::Kind;

/// Requests by kind and by the cluster folder they touched (`owners`,
/// `tasks`, `workers`, `targets`, `epochs`, `leader`, …; `-` above the
/// folders). A multi counts under the folder of its first operation that is
/// not a check. Subtract two snapshots to count a stretch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    by: BTreeMap<(Kind, String), u64>,
}

impl Counts {
    /// Requests of `kind` under `folder`.
    pub fn of(&self, kind: Kind, folder: &str) -> u64 {
        self.by
            .get(&(kind, folder.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Requests of `kind`, in any folder.
    pub fn kind(&self, kind: Kind) -> u64 {
        self.by
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum()
    }

    /// Reads: nodes read plus listings.
    pub fn reads(&self) -> u64 {
        self.kind(Kind::Get) + self.kind(Kind::List)
    }

    /// Requests that may change the tree: single writes plus multis.
    pub fn mutations(&self) -> u64 {
        self.kind(Kind::Write) + self.kind(Kind::Multi)
    }

    /// Every request.
    pub fn total(&self) -> u64 {
        self.by.values().sum()
    }

    /// Counts one request.
    pub fn add(&mut self, kind: Kind, folder: &str, n: u64) {
        *self.by.entry((kind, folder.to_owned())).or_default() += n;
    }
}

impl Sub for &Counts {
    type Output = Counts;

    /// What was counted after `earlier` (saturating at zero).
    fn sub(self, earlier: &Counts) -> Counts {
        let by = self
            .by
            .iter()
            .map(|(key, n)| {
                let before = earlier.by.get(key).copied().unwrap_or(0);
                (key.clone(), n.saturating_sub(before))
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        Counts { by }
    }
}

impl std::iter::Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Counts {
        let mut total = Counts::default();
        for counts in iter {
            for ((kind, folder), n) in counts.by {
                total.add(kind, &folder, n);
            }
        }
        total
    }
}

/// The folder of a cluster that `path` is in: its third segment
/// (`/tenure/<cluster>/<folder>/…`), or `-` above the folders.
pub fn folder_of(path: &Path) -> &str {
    path.segments().nth(2).unwrap_or("-")
}

/// A shared count of the requests of the stores it wrapped; clones share
/// it.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<Counts>>,
}

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// `store`, with every answered request counted here.
    pub fn wrap(&self, store: DynStore) -> DynStore {
        observed::observe(store, Arc::new(self.clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The counts so far.
    pub fn snapshot(&self) -> Counts {
        self.lock().clone()
    }
}

impl Observer for RequestCounter {
    fn answered(&self, request: &Request<'_>) {
        if let Some(path) = request.path {
            self.lock()
                .add(request.kind, folder_of(path), request.requests);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_the_third_segment() {
        let p = |s: &str| Path::new(s).unwrap();
        assert_eq!(folder_of(&p("/tenure/c/owners/T1")), "owners");
        assert_eq!(folder_of(&p("/tenure/c/owners")), "owners");
        assert_eq!(folder_of(&p("/tenure/c")), "-");
    }

    #[test]
    fn counts_subtract_and_sum_by_kind_and_folder() {
        let mut a = Counts::default();
        a.add(Kind::Get, "owners", 5);
        a.add(Kind::List, "owners", 1);
        a.add(Kind::Multi, "owners", 2);
        let mut b = a.clone();
        b.add(Kind::Get, "owners", 3);
        b.add(Kind::Write, "targets", 1);
        let d = &b - &a;
        assert_eq!(d.of(Kind::Get, "owners"), 3);
        assert_eq!(d.reads(), 3);
        assert_eq!(d.mutations(), 1);
        let sum: Counts = [a, d].into_iter().sum();
        assert_eq!(sum, b);
        assert_eq!(sum.total(), 12);
    }
}

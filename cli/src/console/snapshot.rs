//! The cluster's status as the pages and the API show it. It is read at
//! most once per [`MAX_AGE`] (or twice the time the last read took, if
//! longer: a 10,000-task cluster takes about a second to read) however
//! many pages poll it, and at once after an ownership event or an
//! operation; while the servers cannot be reached, the last status read
//! is kept and the problem is told.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tenure_core::ClusterStatus;
use tenure_core::{Admin, SessionState};

use crate::output::schema::millis;

/// How long a status read serves requests before it is read again.
pub const MAX_AGE: Duration = Duration::from_millis(1000);

/// A status read, and when.
pub struct Snapshot {
    /// What was read.
    pub status: ClusterStatus,
    /// When, in milliseconds since the Unix epoch.
    pub read_ms: u64,
}

/// Why the console cannot read the cluster now.
#[derive(Clone, Debug)]
pub struct Problem {
    /// What went wrong, for people.
    pub detail: String,
    /// Since when, in milliseconds since the Unix epoch.
    pub since_ms: u64,
}

/// What a request gets: the latest status read, and the problem if the
/// latest attempt failed.
pub struct View {
    /// The latest status read, if any succeeded.
    pub snapshot: Option<Arc<Snapshot>>,
    /// Set while the servers cannot be read.
    pub problem: Option<Problem>,
}

struct Cache {
    last: Option<Arc<Snapshot>>,
    tried: Option<Instant>,
    took: Duration,
    problem: Option<Problem>,
}

/// The status cache.
pub struct Snapshots {
    admin: Admin,
    backend: &'static str,
    read_limit: Duration,
    dirty: AtomicBool,
    cache: tokio::sync::Mutex<Cache>,
}

impl Snapshots {
    /// A cache over `admin`; a read that takes longer than `read_limit`
    /// counts as a lost connection.
    pub fn new(admin: Admin, backend: &'static str, read_limit: Duration) -> Self {
        Snapshots {
            admin,
            backend,
            read_limit,
            dirty: AtomicBool::new(true),
            cache: tokio::sync::Mutex::new(Cache {
                last: None,
                tried: None,
                took: Duration::ZERO,
                problem: None,
            }),
        }
    }

    /// Makes the next view read the status again.
    pub fn invalidate(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// The status, read again if the last read is older than [`MAX_AGE`]
    /// (or twice what it took) or a change was seen since. Requests arriving during a read wait
    /// for it and share it.
    ///
    /// # Cancel safety
    /// Dropping the future abandons the wait; the cache stays consistent.
    pub async fn view(&self) -> View {
        let mut cache = self.cache.lock().await;
        let max_age = MAX_AGE.max(cache.took * 2);
        let recent = cache.tried.is_some_and(|t| t.elapsed() < max_age);
        if !recent || self.dirty.load(Ordering::Acquire) {
            self.dirty.store(false, Ordering::Release);
            let started = Instant::now();
            let read = self.read().await;
            cache.took = started.elapsed();
            cache.tried = Some(Instant::now());
            match read {
                Ok(status) => {
                    cache.last = Some(Arc::new(Snapshot {
                        status,
                        read_ms: millis(SystemTime::now()),
                    }));
                    cache.problem = None;
                }
                Err(detail) => {
                    let since_ms = cache
                        .problem
                        .as_ref()
                        .map_or_else(|| millis(SystemTime::now()), |p| p.since_ms);
                    cache.problem = Some(Problem { detail, since_ms });
                }
            }
        }
        View {
            snapshot: cache.last.clone(),
            problem: cache.problem.clone(),
        }
    }

    async fn read(&self) -> Result<ClusterStatus, String> {
        let state = self.admin.store().session_state();
        if !matches!(state, SessionState::Connected(_)) {
            return Err(describe(self.backend, state));
        }
        match tokio::time::timeout(self.read_limit, self.admin.status()).await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(e)) => Err(format!(
                "reading the cluster from {} failed: {e}",
                self.backend
            )),
            Err(_) => Err(format!(
                "{} did not answer within {:?}",
                self.backend, self.read_limit
            )),
        }
    }
}

/// A session state that is not "connected", for people.
pub fn describe(backend: &str, state: SessionState) -> String {
    match state {
        SessionState::Connected(_) => format!("connected to {backend}"),
        SessionState::Connecting => format!("connecting to {backend}"),
        SessionState::Suspended(_) => {
            format!("the connection to {backend} is lost; reconnecting")
        }
        SessionState::Expired(_) => {
            format!("the session with {backend} ended; opening a new one")
        }
        SessionState::Closed => format!("the connection to {backend} is closed"),
    }
}

//! Building a worker.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::ids::WorkerId;
use crate::runtime::handler::TaskHandler;
use crate::runtime::layout::Layout;
use crate::runtime::timing::Timing;
use crate::runtime::worker::Worker;
use crate::store::{DynStore, Path};
use crate::strategy::{Sticky, Strategy};

/// Configures a [`Worker`]. Obtained from [`Worker::builder`].
///
/// Only [`id`](WorkerBuilder::id) and [`handler`](WorkerBuilder::handler)
/// are required; the timings follow from the session timeout the server
/// granted the store ([`Timing::for_session`]).
///
/// ```
/// use std::time::Duration;
/// use tenure_core::strategy::Sticky;
/// use tenure_core::{DynStore, Result, TaskContext, Worker};
///
/// fn build(store: DynStore) -> Result<Worker> {
///     Worker::builder(store, "reports")
///         .id("host-a")
///         .capacity(2) // twice the load of a capacity-1 worker
///         .tag("eu") // runs tasks that require the tag `eu`
///         .strategy(Sticky) // the default; the same on every worker
///         .stop_timeout(Duration::from_millis(500))
///         .handler(|ctx: TaskContext| async move {
///             ctx.cancelled().await;
///             Ok(())
///         })
///         .build()
/// }
/// # let _ = build;
/// ```
pub struct WorkerBuilder {
    store: DynStore,
    cluster: String,
    root: Option<Path>,
    id: Option<String>,
    capacity: u32,
    tags: BTreeSet<String>,
    strategy: Arc<dyn Strategy>,
    handler: Option<Arc<dyn TaskHandler>>,
    stop_timeout: Option<Duration>,
    suspend_grace: Option<Duration>,
    handoff_timeout: Option<Duration>,
    leader_resync: Option<Duration>,
}

impl WorkerBuilder {
    pub(crate) fn new(store: DynStore, cluster: &str) -> Self {
        WorkerBuilder {
            store,
            cluster: cluster.to_owned(),
            root: None,
            id: None,
            capacity: 1,
            tags: BTreeSet::new(),
            strategy: Arc::new(Sticky),
            handler: None,
            stop_timeout: None,
            suspend_grace: None,
            handoff_timeout: None,
            leader_resync: None,
        }
    }

    /// The worker's name, unique among live workers (required).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Relative capacity (default 1): strategies give a worker of capacity 2
    /// twice the load of a worker of capacity 1.
    pub fn capacity(mut self, capacity: u32) -> Self {
        self.capacity = capacity;
        self
    }

    /// Adds a tag; tasks that require tags run only on workers having them.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.insert(tag.into());
        self
    }

    /// The load strategy (default [`Sticky`]). Every worker of a cluster
    /// should use the same one: the elected leader's is the one applied.
    pub fn strategy(mut self, strategy: impl Strategy) -> Self {
        self.strategy = Arc::new(strategy);
        self
    }

    /// The load strategy, already shared.
    pub fn strategy_arc(mut self, strategy: Arc<dyn Strategy>) -> Self {
        self.strategy = strategy;
        self
    }

    /// The task handler (required).
    pub fn handler(mut self, handler: impl TaskHandler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// How long a cancelled handler may take to stop before its future is
    /// dropped (default: a quarter of the session timeout).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = Some(timeout);
        self
    }

    /// How long handlers keep running after the connection is reported lost
    /// (default zero). It never extends past the session deadline.
    pub fn suspend_grace(mut self, grace: Duration) -> Self {
        self.suspend_grace = Some(grace);
        self
    }

    /// How long a graceful shutdown waits for the tasks to be reassigned
    /// before releasing them anyway (default: twice the session timeout).
    pub fn handoff_timeout(mut self, timeout: Duration) -> Self {
        self.handoff_timeout = Some(timeout);
        self
    }

    /// How often the leader re-reads all its inputs although no watch fired,
    /// and a waiting worker looks at the `leader` node again (default: 60 s,
    /// at least twice the session timeout; see
    /// [`Timing::leader_resync`]). It bounds how long a lost watch event can
    /// delay a reassignment; shorter costs one read per task and worker
    /// every period.
    pub fn leader_resync(mut self, period: Duration) -> Self {
        self.leader_resync = Some(period);
        self
    }

    /// Keeps the cluster at `root` instead of `/tenure/<cluster>` (tests use
    /// one root each).
    pub fn root(mut self, root: Path) -> Self {
        self.root = Some(root);
        self
    }

    /// Validates the configuration and builds the worker (nothing is
    /// written to the store until [`Worker::run`]).
    ///
    /// The session timeout is the one the server granted the store
    /// ([`StoreInfo::session_timeout`](crate::store::StoreInfo)): the timing
    /// argument must use the server's value, not a wish.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad cluster or worker name,
    /// [`Error::InvalidInput`] for a missing id or handler, a zero capacity,
    /// or timings that do not fit in the session timeout.
    pub fn build(self) -> Result<Worker> {
        let layout = match self.root {
            Some(root) => Layout::at(root)?,
            None => Layout::new(&self.cluster)?,
        };
        let id =
            WorkerId::new(self.id.ok_or_else(|| {
                Error::InvalidInput("a worker needs an id: call .id(..)".into())
            })?)?;
        let handler = self.handler.ok_or_else(|| {
            Error::InvalidInput("a worker needs a handler: call .handler(..)".into())
        })?;
        let capacity = NonZeroU32::new(self.capacity)
            .ok_or_else(|| Error::InvalidInput("worker capacity must be at least 1".into()))?;
        let mut timing = Timing::for_session(self.store.info().session_timeout);
        if let Some(t) = self.stop_timeout {
            timing.stop_timeout = t;
        }
        if let Some(g) = self.suspend_grace {
            timing.suspend_grace = g;
        }
        if let Some(h) = self.handoff_timeout {
            timing.handoff_timeout = h;
        }
        if let Some(r) = self.leader_resync {
            timing.leader_resync = r;
        }
        timing.fit_to_store(&*self.store);
        timing.validate()?;
        Ok(Worker::new(
            crate::metrics::store(self.store),
            layout,
            id,
            capacity,
            self.tags,
            self.strategy,
            handler,
            timing,
        ))
    }
}

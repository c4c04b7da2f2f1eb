//! What the server itself can do, measured in each run with the same
//! clients tenure's workers use, so that every figure of the benchmark is
//! also a ratio: the raw creation of one ephemeral node (ZooKeeper) or
//! lease key (etcd) per task from one session per worker, all at once,
//! [`AT_ONCE`] in flight per session (as the workers claim); and the
//! latency of one client's versioned writes, one after another.

use std::time::{Duration, Instant};

use futures::StreamExt;
use tenure_core::{CreateMode, DynStore, Path, StoreExt};

use crate::cluster::text;
use crate::options::Setup;
use crate::servers::{Connection, Server};
use crate::stats::Spread;

/// Requests in flight per session, as a worker's claims.
const AT_ONCE: usize = 32;

/// Versioned writes timed one after another.
const WRITES: usize = 200;

/// The server's own figures in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Creating one ephemeral node per task from one session per worker.
    pub ephemerals: Duration,
    /// One versioned write: median.
    pub write_p50: Duration,
    /// One versioned write: 99th percentile.
    pub write_p99: Duration,
}

/// Measures the baseline for `setup` under a root of its own, `root`,
/// removed afterwards.
///
/// # Errors
/// Store errors, as text.
pub async fn measure(server: &Server, setup: Setup, root: &str) -> Result<Baseline, String> {
    let root = Path::new(&format!("/{root}")).map_err(text)?;
    let mut sessions: Vec<Connection> = Vec::new();
    for _ in 0..setup.workers {
        sessions.push(server.connect(setup.session).await.map_err(text)?);
    }
    let first = sessions[0].store.clone();
    first.create_all(&root).await.map_err(text)?;
    let started = Instant::now();
    let per = setup.tasks.div_ceil(setup.workers);
    let creates = sessions.iter().enumerate().map(|(w, c)| {
        let (store, root) = (c.store.clone(), root.clone());
        let first = w * per;
        let last = ((w + 1) * per).min(setup.tasks);
        create_ephemerals(store, root, first..last)
    });
    for created in futures::future::join_all(creates).await {
        created?;
    }
    let ephemerals = started.elapsed();
    let (write_p50, write_p99) = versioned_writes(&first, &root).await?;
    for c in sessions {
        c.close().await;
    }
    let admin = server.connect(setup.session).await.map_err(text)?;
    let _ = admin.store.delete_all(&root).await;
    admin.close().await;
    Ok(Baseline {
        ephemerals,
        write_p50,
        write_p99,
    })
}

async fn create_ephemerals(
    store: DynStore,
    root: Path,
    range: std::ops::Range<usize>,
) -> Result<(), String> {
    let session = store.live_session().map_err(text)?;
    let store = &store;
    let root = &root;
    let mut creates = futures::stream::iter(range)
        .map(|i| async move {
            let path = Path::new(&format!("{root}/e{i}")).map_err(text)?;
            let mode = CreateMode::Ephemeral(session);
            store.create(&path, b"owner", mode).await.map_err(text)
        })
        .buffer_unordered(AT_ONCE);
    while let Some(created) = creates.next().await {
        created?;
    }
    Ok(())
}

/// Median and 99th percentile of [`WRITES`] versioned writes of one node,
/// one after another.
async fn versioned_writes(store: &DynStore, root: &Path) -> Result<(Duration, Duration), String> {
    let path = Path::new(&format!("{root}/written")).map_err(text)?;
    let mode = CreateMode::Persistent;
    let mut version = store.create(&path, b"0", mode).await.map_err(text)?;
    let mut took = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        let started = Instant::now();
        let data = i.to_string();
        version = store
            .set(&path, data.as_bytes(), Some(version))
            .await
            .map_err(text)?;
        took.push(started.elapsed().as_secs_f64());
    }
    let p50 = Spread::of(&took).map_or(0.0, |s| s.median);
    took.sort_by(f64::total_cmp);
    let p99 = took[(took.len() * 99 / 100).min(took.len() - 1)];
    Ok((Duration::from_secs_f64(p50), Duration::from_secs_f64(p99)))
}

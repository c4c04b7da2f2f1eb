//! Fencing a write with the token: a worker that froze (a long GC pause,
//! SIGSTOP, a suspended VM) can wake up still believing it owns its task
//! after another worker has taken it over. tenure cannot stop what the
//! frozen process does next, so the storage it writes to must refuse the
//! stale write: each write carries the claim's fencing token, which
//! strictly increases with every claim, and the storage refuses a token
//! smaller than the largest it has seen. In-memory backend, no setup.
//!
//! ```sh
//! cargo run --example fencing
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure::memory::{MemoryServer, MemoryStore};
use tenure::{Admin, DynStore, TaskContext, TaskSpec, Worker};
use tokio::sync::mpsc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A tiny storage that refuses stale writers: the largest token seen, and
/// the lines written.
#[derive(Default)]
struct Storage {
    state: Mutex<(u64, Vec<String>)>,
}

impl Storage {
    /// Appends `line` if `token` is at least the largest seen so far.
    fn write(&self, token: u64, line: &str) -> Result<(), String> {
        let mut state = self.state.lock().map_err(|_| "poisoned".to_owned())?;
        let (newest, lines) = &mut *state;
        if token < *newest {
            return Err(format!(
                "refused {line:?}: token {token} is older than {newest}"
            ));
        }
        *newest = token;
        lines.push(format!("{line} (token {token})"));
        Ok(())
    }

    fn lines(&self) -> Vec<String> {
        self.state.lock().map(|s| s.1.clone()).unwrap_or_default()
    }
}

/// A worker whose handler writes once to `storage` with its token and
/// reports the token on `claims`.
fn worker(
    store: DynStore,
    id: &str,
    storage: Arc<Storage>,
    claims: mpsc::UnboundedSender<(String, u64)>,
) -> Result<Worker, Error> {
    Ok(Worker::builder(store, "fencing")
        .id(id)
        .handler(move |ctx: TaskContext| {
            let (storage, claims) = (storage.clone(), claims.clone());
            async move {
                let line = format!("{} writes", ctx.worker());
                storage.write(ctx.token(), &line)?;
                println!("{line} with token {}: accepted", ctx.token());
                let _ = claims.send((ctx.worker().to_string(), ctx.token()));
                ctx.cancelled().await;
                Ok(())
            }
        })
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = MemoryServer::new();
    let session = Duration::from_secs(1);
    let storage = Arc::new(Storage::default());
    let (claims_tx, mut claims) = mpsc::unbounded_channel();

    let a_store: MemoryStore = server.connect(session).await?;
    let a = worker(
        Arc::new(a_store.clone()),
        "A",
        storage.clone(),
        claims_tx.clone(),
    )?;
    let a_run = a.spawn();
    Admin::new(Arc::new(a_store.clone()), "fencing")
        .await?
        .add_task(TaskSpec::new("ledger")?)
        .await?;
    let (_, a_token) = claims.recv().await.ok_or("no claim")?;

    let b = worker(
        Arc::new(server.connect(session).await?),
        "B",
        storage.clone(),
        claims_tx,
    )?;
    let b_run = b.spawn();

    // A freezes: its process stops without a word, and the server ends its
    // session when the session timeout runs out. B takes the task over.
    println!("A freezes; its session expires");
    a.kill().await;
    a_store.expire_session();
    let (who, b_token) = claims.recv().await.ok_or("no takeover")?;
    println!("{who} took ledger over with token {b_token} (A had {a_token})");

    // A wakes up and, believing it still owns the task, writes.
    match storage.write(a_token, "A writes after waking up") {
        Ok(()) => return Err("the stale write was accepted".into()),
        Err(refused) => println!("{refused}"),
    }

    b.shutdown().await;
    b_run.await??;
    let _ = a_run.await;
    println!("storage holds: {:?}", storage.lines());
    Ok(())
}

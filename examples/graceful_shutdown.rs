//! Graceful shutdown on SIGTERM: two workers share four tasks; on SIGTERM
//! (or Ctrl-C) worker A shuts down gracefully: it leaves the cluster, the
//! leader moves A's tasks to B, A stops its handlers and releases the
//! tasks, and only then B starts them: no task ever runs twice at once.
//! Then B shuts down too and the program exits 0. In-memory backend, no
//! setup.
//!
//! ```sh
//! cargo run --example graceful_shutdown    # then: kill -TERM <pid it prints>, or Ctrl-C
//! ```
//!
//! A service does the same with its one worker: wait for the signal, call
//! `Worker::shutdown().await`, then exit.

#[path = "common/signal.rs"]
mod signal;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure::memory::MemoryServer;
use tenure::{Admin, DynStore, TaskContext, TaskSpec, Worker};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The tasks running now, in the whole process: a task found here when
/// its handler starts would be running twice.
type Running = Arc<Mutex<BTreeSet<String>>>;

fn worker(store: DynStore, id: &str, running: Running) -> Result<Worker, Error> {
    Ok(Worker::builder(store, "shutdown")
        .id(id)
        .handler(move |ctx: TaskContext| {
            let running = running.clone();
            async move {
                let task = ctx.task().to_string();
                let fresh = running.lock().map_err(|_| "poisoned")?.insert(task.clone());
                assert!(fresh, "{task} would run twice at once");
                println!("{} starts {task} (token {})", ctx.worker(), ctx.token());
                ctx.cancelled().await;
                running.lock().map_err(|_| "poisoned")?.remove(&task);
                println!("{} stops {task}", ctx.worker());
                Ok(())
            }
        })
        .build()?)
}

async fn wait_until(what: &str, done: impl Fn() -> bool) -> Result<(), Error> {
    for _ in 0..500 {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{what} did not happen within 10 s").into())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = MemoryServer::new();
    let session = Duration::from_secs(2);
    let running = Running::default();
    let a_store: DynStore = Arc::new(server.connect(session).await?);
    let b_store: DynStore = Arc::new(server.connect(session).await?);
    let a = worker(a_store.clone(), "A", running.clone())?;
    let b = worker(b_store, "B", running.clone())?;
    let (a_run, b_run) = (a.spawn(), b.spawn());

    let admin = Admin::new(a_store, "shutdown").await?;
    for task in ["t1", "t2", "t3", "t4"] {
        admin.add_task(TaskSpec::new(task)?).await?;
    }
    wait_until("a balanced start", || {
        a.running().len() == 2 && b.running().len() == 2
    })
    .await?;
    let stop = signal::StopSignal::listen()?;
    println!(
        "A runs {:?}, B runs {:?}; send SIGTERM to process {} (or press Ctrl-C)",
        a.running()
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        b.running()
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        std::process::id()
    );

    stop.received().await?;
    println!("SIGTERM: A shuts down gracefully");
    a.shutdown().await;
    a_run.await??;
    wait_until("B running every task", || b.running().len() == 4).await?;
    println!("A handed its tasks off: B runs all 4, none ran twice at once");

    b.shutdown().await;
    b_run.await??;
    println!("B stopped; bye");
    Ok(())
}

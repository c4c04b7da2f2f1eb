//! What the ZooKeeper and etcd worker examples share once their store is
//! built: the command line, one worker with a handler, a task to run, and
//! a graceful shutdown on SIGTERM or Ctrl-C.

use std::time::Duration;

use tenure::{Admin, DynStore, TaskContext, TaskSpec, Worker};

/// Any error, reported by `main`.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The session timeout the examples ask for.
pub const SESSION: Duration = Duration::from_secs(4);

/// `[CONNECT] [CLUSTER] [ID]`, each with a default.
pub struct Args {
    /// The servers.
    pub connect: String,
    /// The cluster to join.
    pub cluster: String,
    /// This worker's name.
    pub id: String,
}

impl Args {
    /// The command line's arguments, `default_connect` when none is given.
    pub fn parse(default_connect: &str) -> Args {
        let mut args = std::env::args().skip(1);
        Args {
            connect: args.next().unwrap_or_else(|| default_connect.to_owned()),
            cluster: args.next().unwrap_or_else(|| "examples".to_owned()),
            id: args
                .next()
                .unwrap_or_else(|| format!("worker-{}", std::process::id())),
        }
    }
}

/// The user and password in `TENURE_USER` and `TENURE_PASSWORD`, if both
/// are set.
pub fn credentials() -> Option<(String, String)> {
    Some((
        std::env::var("TENURE_USER").ok()?,
        std::env::var("TENURE_PASSWORD").ok()?,
    ))
}

/// Runs one worker of `args.cluster` on `store` until SIGTERM or Ctrl-C,
/// after adding the task `hello` unless it exists; then shuts it down
/// gracefully (its tasks are handed to the other workers first).
///
/// # Errors
/// Store errors, or a signal handler that cannot be installed.
pub async fn serve(store: DynStore, args: &Args) -> Result<(), Error> {
    let worker = Worker::builder(store.clone(), &args.cluster)
        .id(&args.id)
        .handler(|ctx: TaskContext| async move {
            let payload = String::from_utf8_lossy(ctx.payload()).into_owned();
            println!(
                "{} runs {} ({payload}), token {}",
                ctx.worker(),
                ctx.task(),
                ctx.token()
            );
            ctx.cancelled().await;
            println!("{} stops {}", ctx.worker(), ctx.task());
            Ok(())
        })
        .build()?;
    let running = worker.spawn();
    let stop = crate::signal::StopSignal::listen()?;
    println!(
        "{} joined cluster {} (session {:?}); stop it with Ctrl-C or SIGTERM",
        args.id,
        args.cluster,
        worker.timing().session_timeout
    );

    let admin = Admin::new(store, &args.cluster).await?;
    match admin
        .add_task(TaskSpec::new("hello")?.payload("hello from tenure"))
        .await
    {
        Ok(()) | Err(tenure::Error::AlreadyExists { .. }) => {}
        Err(e) => return Err(e.into()),
    }

    stop.received().await?;
    println!("{}: shutting down, handing tasks off", args.id);
    worker.shutdown().await;
    running.await??;
    println!("{}: stopped", args.id);
    Ok(())
}

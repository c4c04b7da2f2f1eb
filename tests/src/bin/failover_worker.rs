//! A worker process for the failover tests: joins a cluster on ZooKeeper or
//! etcd and logs every handler start and stop to a run log shared with
//! other processes, until SIGTERM (graceful shutdown, exit 0) or SIGKILL.
//!
//! ```text
//! failover_worker <zookeeper|etcd> <servers> <cluster> <worker> <session_ms> <run_log>
//! ```
//!
//! Its own diagnostics go to stderr (`RUST_LOG` filters them; default
//! `info`). Tests start it through the server harness, so it dies with the
//! test binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tenure_core::Worker;
use tenure_tests::failover::{RunLogWriter, StoreKind};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

/// The command line, parsed.
struct Args {
    kind: StoreKind,
    servers: String,
    cluster: String,
    worker: String,
    session_timeout: Duration,
    run_log: PathBuf,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let [kind, servers, cluster, worker, session_ms, run_log] = args else {
        return Err(format!(
            "usage: failover_worker <zookeeper|etcd> <servers> <cluster> <worker> <session_ms> <run_log> (got {} arguments)",
            args.len()
        ));
    };
    Ok(Args {
        kind: kind.parse().map_err(|e| format!("{e}"))?,
        servers: servers.clone(),
        cluster: cluster.clone(),
        worker: worker.clone(),
        session_timeout: Duration::from_millis(
            session_ms
                .parse()
                .map_err(|e| format!("session_ms {session_ms:?}: {e}"))?,
        ),
        run_log: PathBuf::from(run_log),
    })
}

async fn run(args: Args) -> Result<(), String> {
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let log = RunLogWriter::open(&args.run_log)
        .map_err(|e| format!("opening {}: {e}", args.run_log.display()))?;
    let store = args
        .kind
        .connect(&args.servers, args.session_timeout)
        .await
        .map_err(|e| format!("connecting to {}: {e}", args.servers))?;
    let worker = Worker::builder(store.clone(), &args.cluster)
        .id(&args.worker)
        .handler(log.handler())
        .build()
        .map_err(|e| format!("building the worker: {e}"))?;
    tracing::info!(worker = %args.worker, cluster = %args.cluster, "joining");
    let mut running = worker.spawn();
    tokio::select! {
        _ = terminate.recv() => {
            tracing::info!("SIGTERM: shutting down");
            worker.shutdown().await;
        }
        ended = &mut running => {
            return Err(format!("the worker stopped by itself: {ended:?}"));
        }
    }
    match running.await {
        Ok(Ok(())) => {}
        other => return Err(format!("the worker ended with {other:?}")),
    }
    store
        .close()
        .await
        .map_err(|e| format!("closing the store: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

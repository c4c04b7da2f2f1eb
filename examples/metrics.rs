//! Metrics from the library: with the `metrics` feature a worker records
//! its claims, handler stops, session state, leadership, leader rounds and
//! store latencies through the `metrics` facade (the names are in
//! `tenure::metrics`), so any recorder shows them. Here a Prometheus
//! recorder renders them as text once the worker has run a task; a
//! service would serve them instead (`PrometheusBuilder::with_http_listener`).
//! In-memory backend, no setup.
//!
//! ```sh
//! cargo run --example metrics --features metrics
//! ```

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use tenure::memory::MemoryServer;
use tenure::{Admin, DynStore, TaskContext, TaskSpec, Worker};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Install the recorder before the worker is built.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    tenure::metrics::describe();

    let server = MemoryServer::new();
    let store: DynStore = Arc::new(server.connect(Duration::from_secs(2)).await?);
    let worker = Worker::builder(store.clone(), "measured")
        .id("W1")
        .handler(|ctx: TaskContext| async move {
            ctx.cancelled().await;
            Ok(())
        })
        .build()?;
    let running = worker.spawn();
    let admin = Admin::new(store, "measured").await?;
    admin.add_task(TaskSpec::new("job")?).await?;
    while worker.running().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The metrics the worker recorded so far, as Prometheus would scrape
    // them (the histograms' quantile lines left out here).
    let text = prometheus.render();
    let shown = text
        .lines()
        .filter(|l| l.starts_with("tenure_") && !l.contains("quantile="));
    for line in shown {
        println!("{line}");
    }

    worker.shutdown().await;
    running.await??;
    Ok(())
}

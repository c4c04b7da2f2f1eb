//! The HTTP endpoint of `tenure worker --metrics-addr`: `/metrics`
//! (Prometheus text; any other path answers it too), and the Kubernetes
//! probes `/healthz` (liveness: 200 while the program runs) and `/readyz`
//! (readiness: 200 while the worker's session is connected, it is
//! registered and not fenced; 503 otherwise, and before the worker
//! starts). Both probes answer the worker's health in one line.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tenure_core::{Health, Worker};
use tracing::warn;

use crate::error::{CliError, CliResult};

/// The served endpoint; tell it the worker once it is built.
#[derive(Clone)]
pub struct Probes {
    worker: Arc<OnceLock<Worker>>,
    metrics: PrometheusHandle,
}

impl Probes {
    /// Lets the probes answer with `worker`'s health.
    pub fn watch(&self, worker: &Worker) {
        let _ = self.worker.set(worker.clone());
    }

    fn health(&self) -> Option<Health> {
        self.worker.get().map(Worker::health)
    }
}

/// Binds `addr` and serves the metrics of `metrics` and the probes on it
/// until the program ends.
///
/// # Errors
/// [`CliError::Invalid`] when the address cannot be bound.
pub async fn serve(addr: SocketAddr, metrics: PrometheusHandle) -> CliResult<Probes> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Invalid(format!("cannot serve metrics on {addr}: {e}")))?;
    let probes = Probes {
        worker: Arc::new(OnceLock::new()),
        metrics,
    };
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(get(render))
        .with_state(probes.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            warn!(error = %e, "the metrics endpoint stopped");
        }
    });
    Ok(probes)
}

async fn render(State(probes): State<Probes>) -> String {
    probes.metrics.render()
}

/// One line: `session=connected registered=true leader=false tasks=2 fenced=false`.
fn describe(health: Option<Health>) -> String {
    match health {
        None => "starting\n".to_owned(),
        Some(h) => format!(
            "session={} registered={} leader={} tasks={} fenced={}\n",
            tenure_core::metrics::state_name(h.session),
            h.registered,
            h.leader,
            h.tasks_held,
            h.fenced
        ),
    }
}

async fn healthz(State(probes): State<Probes>) -> (StatusCode, String) {
    (StatusCode::OK, describe(probes.health()))
}

async fn readyz(State(probes): State<Probes>) -> (StatusCode, String) {
    let health = probes.health();
    let status = match health {
        Some(h) if h.is_ready() => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, describe(health))
}

//! `tenure console`: a web console of one cluster, served by this program.
//!
//! - `routes`: every route, and the headers of every answer;
//! - `pages`: the HTML pages (Cluster, Live, Timeline, API docs);
//! - `html`, `svg`: escaping, the page frame, the timeline's drawing;
//! - `api`: the JSON reads; `writes`: the operations; `sse`: the event
//!   stream;
//! - `query`: filters, sorting and pages of tasks;
//! - `snapshot`: the status cache and the connection state;
//! - `hub`, `reasons`: the ownership events seen, and why they happened;
//! - `timeline`: who ran each task when;
//! - `auth`: read-only unless writes are enabled with tokens;
//! - `error`: failures as HTTP answers;
//! - `assets`: the script and style sheet.

mod api;
mod assets;
mod auth;
mod error;
mod html;
mod hub;
mod pages;
mod query;
mod reasons;
mod routes;
mod snapshot;
mod sse;
mod state;
mod svg;
mod timeline;
mod writes;

use std::net::SocketAddr;
use std::sync::Arc;

use tenure_core::Admin;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::args::{ConnectArgs, ConsoleArgs};
use crate::connect;
use crate::error::{CliError, CliResult};
use crate::output::emit;
use state::Console;

/// `tenure console --help`.
pub const LONG_ABOUT: &str = "\
Serve the web console of a cluster: every task with its state, owner,
fencing token and target, every live worker, the ownership events as they
happen, a timeline of who ran what, and a JSON API of the same (see /docs
in the console).

The console listens on 127.0.0.1:7878 unless --listen says otherwise, and
is read-only unless started with --allow-writes and a token
(--token-file PATH, or the TENURE_CONSOLE_TOKEN variable); operations then
need the token, and each is logged with the token's name and the remote
address. It keeps running while the servers are away, says so on every
page, and recovers by itself when they are back. Ctrl-C or SIGTERM stops
it.";

/// Runs `tenure console` until Ctrl-C or SIGTERM.
///
/// # Errors
/// Bad options or tokens, an address that cannot be listened on, the
/// servers unreachable at start.
pub async fn run(options: &ConnectArgs, args: ConsoleArgs) -> CliResult {
    let auth = auth::Auth::load(&args, std::env::var(auth::TOKEN_ENV).ok())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Invalid(format!("cannot listen on {}: {e}", args.listen)))?;
    let local = listener.local_addr()?;
    let mut stop = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let store = connect::connect(options).await?;
    let admin = match Admin::new(store.clone(), &options.cluster).await {
        Ok(admin) => admin,
        Err(e) => {
            let _ = store.close().await;
            return Err(e.into());
        }
    };
    let backend = options.backend.name();
    let shutdown = CancellationToken::new();
    let console = Arc::new(Console {
        snapshots: snapshot::Snapshots::new(admin.clone(), backend, options.connect_timeout),
        admin,
        cluster: options.cluster.clone(),
        backend,
        servers: options
            .connect
            .clone()
            .unwrap_or_else(|| options.backend.default_connect().to_owned()),
        hub: hub::Hub::new(args.history),
        auth,
        shutdown: shutdown.clone(),
    });
    let follower = tokio::spawn(state::follow(console.clone()));
    let loopback = local.ip().is_loopback();
    if !loopback {
        warn!(%local, "the console listens beyond this machine: whoever reaches it can read the cluster");
    }
    let mode = if console.auth.writable() {
        "operations need a token"
    } else {
        "read-only"
    };
    info!(%local, mode, "console serving");
    // A closed standard output does not stop the console.
    let _ = emit(&format!(
        "tenure console of cluster {} on http://{local}/ ({mode})\n",
        options.cluster
    ));
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = stop.recv() => {}
            _ = interrupt.recv() => {}
        }
        cancel.cancel();
    });
    let app = routes::router(console, loopback);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    follower.abort();
    if let Err(e) = store.close().await {
        warn!(error = %e, "closing the session failed");
    }
    served.map_err(|e| CliError::Failed(format!("the console's server failed: {e}")))
}

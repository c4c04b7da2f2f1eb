//! Every route of the console, and the headers every answer carries.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, HOST, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::error::ApiError;
use super::state::Shared;
use super::{api, assets, pages, sse, writes};

/// The router of the console.
pub fn router(console: Shared, loopback_only: bool) -> Router {
    Router::new()
        .route("/", get(pages::cluster::page_handler))
        .route("/cluster/rows", get(pages::cluster::rows_handler))
        .route("/live", get(pages::live::page_handler))
        .route("/timeline", get(pages::timeline::page_handler))
        .route("/timeline.svg", get(pages::timeline::svg_handler))
        .route("/docs", get(pages::docs::page_handler))
        .route("/assets/console.js", get(assets::js))
        .route("/assets/console.css", get(assets::css))
        .route("/api/console", get(api::console))
        .route("/api/status", get(api::status))
        .route("/api/workers", get(api::workers))
        .route("/api/tasks", get(api::tasks).post(writes::add))
        .route(
            "/api/tasks/{name}",
            get(api::task).patch(writes::update).delete(writes::remove),
        )
        .route("/api/tasks/{name}/pause", post(writes::pause))
        .route("/api/tasks/{name}/resume", post(writes::resume))
        .route("/api/events", get(api::events))
        .route("/api/events/stream", get(sse::stream))
        .route("/api/timeline", get(pages::timeline::json_handler))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(loopback_only, guard))
        .with_state(console)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no such page or route: {}; the routes are listed at /docs",
        uri.path()
    ))
}

/// Refuses requests for another host name when the console listens on
/// loopback (a web page elsewhere could otherwise read it through DNS
/// rebinding), and marks every answer as not to be cached or sniffed.
async fn guard(State(loopback_only): State<bool>, request: Request, next: Next) -> Response {
    if loopback_only {
        let host = request
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !is_loopback_host(host) {
            return ApiError::Invalid(format!(
                "host {host:?} is not this machine: the console listens on loopback only; open it \
                 as localhost or 127.0.0.1"
            ))
            .into_response();
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    response
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_names_of_this_machine_pass() {
        for ok in [
            "localhost",
            "LOCALHOST:7878",
            "127.0.0.1:80",
            "127.1.2.3",
            "[::1]:7878",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:7878",
            "10.0.0.1:7878",
            "[::2]",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}

//! The HTML pages: rendered on the server, refreshed by the page's script
//! (which fetches the same fragments again, and follows the event
//! stream).
//!
//! - `cluster`: tasks and workers, with filters, sorting, pages and
//!   operations;
//! - `live`: the ownership events as they happen;
//! - `timeline`: tasks × time as SVG;
//! - `docs`: the JSON API.

pub mod cluster;
pub mod docs;
pub mod live;
pub mod timeline;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::error::ApiError;
use super::html::{Nav, escape, page};
use super::state::Console;

/// A page saying what was wrong with the request, with its status code.
pub fn refused(c: &Console, nav: Nav, e: ApiError) -> Response {
    let message = escape(e.message());
    let status = e.into_response().status();
    let body = format!(r#"<p class="error" role="alert">{message}</p><p><a href="?">back</a></p>"#);
    (status, Html(page(c, nav, "error", None, &body))).into_response()
}

/// A page with status 200.
pub fn ok(html: String) -> Response {
    (StatusCode::OK, Html(html)).into_response()
}

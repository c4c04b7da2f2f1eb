//! The API documentation page.

use axum::extract::State;
use axum::response::Response;

use super::ok;
use crate::console::html::{Nav, page};
use crate::console::state::Shared;

/// The page's body: the routes, their parameters and answers.
const DOCS: &str = include_str!("../assets/docs.html");

/// `GET /docs`.
pub async fn page_handler(State(c): State<Shared>) -> Response {
    ok(page(&c, Nav::Docs, "API", None, DOCS))
}

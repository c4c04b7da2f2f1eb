//! The page script and style sheet, built into the binary.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// `GET /assets/console.js`.
pub async fn js() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/console.js"),
    )
}

/// `GET /assets/console.css`.
pub async fn css() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/console.css"),
    )
}

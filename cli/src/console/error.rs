//! Failures of console requests, as HTTP statuses with a JSON body
//! `{"schema": 1, "error": "what went wrong", "kind": "invalid"}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::http::header::WWW_AUTHENTICATE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::CliError;
use crate::output::schema::SCHEMA;

/// A refused or failed request.
#[derive(Debug)]
pub enum ApiError {
    /// Bad input: nothing was changed (400).
    Invalid(String),
    /// A write without a valid token (401).
    Unauthorized(String),
    /// A write to a read-only console (403).
    ReadOnly,
    /// No such task or page (404).
    NotFound(String),
    /// The task already exists, or a concurrent change won (409).
    Conflict(String),
    /// The cluster's servers cannot be reached now (503).
    Unavailable(String),
    /// The servers refused the console's credentials (502).
    BadGateway(String),
    /// Anything else (500).
    Failed(String),
}

#[derive(Serialize)]
struct ErrorDoc<'a> {
    schema: u32,
    error: &'a str,
    kind: &'static str,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &str) {
        const READ_ONLY: &str = "the console is read-only: start it with --allow-writes and a \
                                 token (--token-file or TENURE_CONSOLE_TOKEN) to allow operations";
        match self {
            ApiError::Invalid(m) => (StatusCode::BAD_REQUEST, "invalid", m),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m),
            ApiError::ReadOnly => (StatusCode::FORBIDDEN, "read-only", READ_ONLY),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not-found", m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "disconnected", m),
            ApiError::BadGateway(m) => (StatusCode::BAD_GATEWAY, "credentials", m),
            ApiError::Failed(m) => (StatusCode::INTERNAL_SERVER_ERROR, "failed", m),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        self.parts().2
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, error) = self.parts();
        let body = Json(ErrorDoc {
            schema: SCHEMA,
            error,
            kind,
        });
        if status == StatusCode::UNAUTHORIZED {
            (status, [(WWW_AUTHENTICATE, "Bearer")], body).into_response()
        } else {
            (status, body).into_response()
        }
    }
}

impl From<CliError> for ApiError {
    fn from(e: CliError) -> Self {
        match e {
            CliError::Invalid(m) => ApiError::Invalid(m),
            CliError::Unreachable(m) => ApiError::Unavailable(m),
            CliError::Unauthorized(m) => ApiError::BadGateway(m),
            CliError::Conflict(m) | CliError::InUse(m) => ApiError::Conflict(m),
            CliError::NoCluster(m) => ApiError::NotFound(m),
            CliError::Failed(m) => ApiError::Failed(m),
            CliError::StdoutClosed => ApiError::Failed(e.to_string()),
        }
    }
}

impl From<tenure_core::Error> for ApiError {
    fn from(e: tenure_core::Error) -> Self {
        match e {
            tenure_core::Error::UnknownTask { .. } => ApiError::NotFound(e.to_string()),
            other => CliError::from(other).into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::Invalid(format!(
            "the request body is not what this route takes: {}",
            e.body_text()
        ))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::Invalid(e.body_text())
    }
}

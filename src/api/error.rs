//! The one place where errors become HTTP responses: a stable JSON shape
//! `{"error": {"code": "...", "message": "..."}}`, internal details logged, never sent.
//! Extractor rejections (malformed JSON, a bad query string or path) are mapped here too, so
//! no response of the API is plain text.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::routing::AcdError;
use crate::store::StoreError;

/// An API failure, sorted by whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// An extractor refused the request (malformed JSON 400, wrong content type 415, ...).
    #[error("{message}")]
    Rejected {
        /// The status the extractor chose.
        status: StatusCode,
        /// Its explanation.
        message: String,
    },
    /// No or wrong credentials (401).
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// Authenticated, but the role or the agent may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit the resource's state (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed authentications from this client (429 with `Retry-After`).
    #[error("too many failed authentications; retry later")]
    TooManyRequests {
        /// How long until the client may try again.
        retry_after: Duration,
    },
    /// A dependency (the CRM, the routing engine) did not answer (503).
    #[error("{0}")]
    Unavailable(String),
    /// Our side failed (500); the detail is logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<AcdError> for ApiError {
    fn from(err: AcdError) -> Self {
        match err {
            AcdError::UnknownQueue(_) | AcdError::UnknownSkill(_) => {
                ApiError::BadRequest(err.to_string())
            }
            AcdError::UnknownAgent(_) => ApiError::NotFound(err.to_string()),
            AcdError::Invalid(_) | AcdError::Routing(_) => ApiError::Conflict(err.to_string()),
            AcdError::Stopped => ApiError::Unavailable(err.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Rejected { status, .. } => (*status, rejection_code(*status)),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "API request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let body = Json(json!({ "error": { "code": code, "message": self.to_string() } }));
        let mut response = (status, body).into_response();
        if let ApiError::TooManyRequests { retry_after } = self {
            let secs = retry_after.as_secs().max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn rejection_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::RANGE_NOT_SATISFIABLE => "range_not_satisfiable",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

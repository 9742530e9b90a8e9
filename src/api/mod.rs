//! HTTP: health, Prometheus metrics, the REST API under `/api/v1` and its WebSocket event
//! stream.
//!
//! Owns: the axum router, authentication and roles (`auth`, `limiter`), DTOs and handlers
//! (`v1`), the event stream (`ws`), the OpenAPI document (`openapi`) and the mapping of
//! errors to HTTP responses (`error`, the one place that does it; `extract` routes axum's
//! extractor rejections there).
//! Must not touch: SIP or media internals, SQL; it reads and changes state through the
//! handles in `ApiState`.
//! Driven by: `server`, which binds the listener and serves `app()` with the client's
//! address as `ConnectInfo` (for the per-IP limit of failed authentications).

pub mod auth;
mod error;
mod extract;
mod limiter;
mod openapi;
pub mod scope;
pub mod session;
mod v1;
mod ws;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::calls::CallManager;
use crate::cti::events::Publisher;
use crate::cti::lookup::LookupService;
use crate::routing::AcdHandle;
use crate::store::Store;
use crate::telemetry::Metrics;

pub use error::ApiError;
pub use limiter::{FailureLimiter, LimitPolicy};
pub use openapi::document as openapi_document;

/// What the handlers need; cloned per request.
#[derive(Clone)]
pub struct ApiState {
    /// The database.
    pub store: Store,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The routing engine: agents, queues, tasks.
    pub acd: AcdHandle,
    /// CRM lookups (customer lookup, screen pops).
    pub lookups: Arc<LookupService>,
    /// The live event stream (WebSockets).
    pub publisher: Publisher,
    /// Places calls (click-to-dial); `None` where no SIP side runs (API tests).
    pub calls: Option<Arc<CallManager>>,
    /// Failed authentications per client IP.
    pub limiter: Arc<Mutex<FailureLimiter>>,
    /// The SHA-256 (hex) of the bearer token `/metrics` requires (`[http] metrics_token`);
    /// `None`: open.
    pub metrics_token_hash: Option<String>,
    /// Ids of tokens revoked through the API; open WebSocket streams of a revoked token end.
    pub revocations: auth::Revocations,
    /// `[cti] allow_private_webhooks`: webhook URLs may point at loopback/private addresses.
    pub allow_private_webhooks: bool,
    /// Customers and the digital channels.
    pub channels: crate::channels::Channels,
}

/// The whole HTTP application.
pub fn app(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi::serve))
        .nest("/api/v1", v1::router(state.clone()))
        .nest("/channels/v1", v1::sms_generic::router())
        .fallback(|| async { ApiError::NotFound("no such resource".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::Rejected {
                status: StatusCode::METHOD_NOT_ALLOWED,
                message: "method not allowed here".into(),
            }
        })
        .with_state(state)
}

async fn healthz(State(state): State<ApiState>) -> impl IntoResponse {
    if state.store.ping().await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

async fn metrics(
    State(state): State<ApiState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(wanted) = &state.metrics_token_hash {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| auth::hash_token(t.trim()));
        if presented.as_ref() != Some(wanted) {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    ))
}

#[cfg(test)]
mod tests;

//! HTTP: health, Prometheus metrics and the REST API under `/api/v1`.
//!
//! Owns: the axum router, request authentication, DTOs and the mapping of errors to HTTP
//! responses (`error.rs`, the one place that does it).
//! Must not touch: SIP or media internals; it reads state through the handles in `ApiState`.
//! Driven by: `main`, which binds the listener and serves `app()`.

mod error;
mod v1;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::store::Store;
use crate::telemetry::Metrics;

pub use error::ApiError;

/// What the handlers need; cloned per request.
#[derive(Clone)]
pub struct ApiState {
    /// The database.
    pub store: Store,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Bearer token that grants access to `/api/v1` (roles arrive with the CTI work).
    pub api_token: Arc<str>,
}

/// The whole HTTP application.
pub fn app(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", v1::router(state.clone()))
        .fallback(|| async { ApiError::NotFound("no such resource".into()) })
        .with_state(state)
}

async fn healthz(State(state): State<ApiState>) -> impl IntoResponse {
    if state.store.ping().await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

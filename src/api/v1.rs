//! `/api/v1`: read access to CDRs, registrations and recordings for operators and tests. Call control,
//! agents, queues and webhooks arrive with the routing and CTI work.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiState};
use crate::store::{CdrRecord, MediaQuality, StoredBinding};

pub(super) fn router(state: ApiState) -> Router<ApiState> {
    Router::new()
        .route("/cdrs", get(list_cdrs))
        .route("/registrations", get(list_registrations))
        .route("/recordings", get(list_recordings))
        .layer(middleware::from_fn_with_state(state, require_token))
}

async fn require_token(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), state.api_token.as_bytes()) => {
            Ok(next.run(request).await)
        }
        _ => Err(ApiError::Unauthorized),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct Page {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    50
}

#[derive(Serialize)]
struct CdrDto {
    id: String,
    call_id: String,
    caller: String,
    callee: String,
    origin: String,
    started_at_ms: i64,
    answered_at_ms: Option<i64>,
    ended_at_ms: i64,
    duration_ms: i64,
    billsec_ms: i64,
    result: String,
    hangup_cause: String,
    hangup_side: String,
    caller_quality: Option<MediaQuality>,
    callee_quality: Option<MediaQuality>,
}

impl From<CdrRecord> for CdrDto {
    fn from(c: CdrRecord) -> Self {
        CdrDto {
            duration_ms: c.duration_ms(),
            billsec_ms: c.billsec_ms(),
            id: c.id,
            call_id: c.call_id,
            caller: c.caller,
            callee: c.callee,
            origin: c.origin,
            started_at_ms: c.started_at_ms,
            answered_at_ms: c.answered_at_ms,
            ended_at_ms: c.ended_at_ms,
            result: c.result,
            hangup_cause: c.hangup_cause,
            hangup_side: c.hangup_side,
            caller_quality: c.caller_quality,
            callee_quality: c.callee_quality,
        }
    }
}

async fn list_cdrs(
    State(state): State<ApiState>,
    Query(page): Query<Page>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !(1..=1000).contains(&page.limit) || page.offset < 0 {
        return Err(ApiError::BadRequest(
            "limit must be 1..=1000 and offset >= 0".into(),
        ));
    }
    let items: Vec<CdrDto> = state
        .store
        .recent_cdrs(page.limit, page.offset)
        .await?
        .into_iter()
        .map(CdrDto::from)
        .collect();
    Ok(Json(
        serde_json::json!({ "items": items, "limit": page.limit, "offset": page.offset }),
    ))
}

#[derive(Serialize)]
struct RegistrationDto {
    aor: String,
    contact: String,
    expires_at: i64,
    transport: String,
    source: String,
    user_agent: Option<String>,
}

async fn list_registrations(
    State(state): State<ApiState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let items: Vec<RegistrationDto> = state
        .store
        .live_bindings(now)
        .await?
        .into_iter()
        .map(|b: StoredBinding| RegistrationDto {
            aor: b.aor,
            contact: b.contact,
            expires_at: b.expires_at,
            transport: b.transport,
            source: b.source,
            user_agent: b.user_agent,
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

#[derive(Serialize)]
struct RecordingDto {
    id: String,
    call_id: String,
    started_at_ms: i64,
    duration_ms: i64,
    size_bytes: i64,
    state: String,
}

async fn list_recordings(
    State(state): State<ApiState>,
    Query(page): Query<Page>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !(1..=1000).contains(&page.limit) {
        return Err(ApiError::BadRequest("limit must be 1..=1000".into()));
    }
    let items: Vec<RecordingDto> = state
        .store
        .list_recordings(0, i64::MAX, page.limit)
        .await?
        .into_iter()
        .map(|r| RecordingDto {
            id: r.id,
            call_id: r.call_id,
            started_at_ms: r.started_at_ms,
            duration_ms: r.duration_ms,
            size_bytes: r.size_bytes,
            state: r.state,
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

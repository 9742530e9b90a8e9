//! Call detail records and live registrations (read only).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{Listing, Page};
use crate::api::extract::Params;
use crate::api::{ApiError, ApiState};
use crate::store::{CdrRecord, MediaQuality};

/// One finished call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CdrDto {
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
    /// `answered`, `busy`, `no_answer`, `cancelled`, `unavailable`, `failed`, `abandoned`
    /// (the caller hung up in a queue) or `kept_place` (a callback follows).
    result: String,
    hangup_cause: String,
    hangup_side: String,
    /// Where the call was last transferred to (extension, `queue:<name>` or number); the
    /// released agent's leg has its own record with cause `transferred`.
    transferred_to: Option<String>,
    /// What Centrala received from the caller's side, when the call had media.
    caller_quality: Option<QualityDto>,
    /// What Centrala received from the callee's side.
    callee_quality: Option<QualityDto>,
    /// The queue the call waited in (the last one, after a transfer to a queue or an
    /// overflow); for a callback call, the callback's queue.
    queue: Option<String>,
    /// The extension of the agent who answered the call from the queue; for a callback or
    /// click-to-dial call, its agent.
    agent: Option<String>,
    /// How long the caller waited in the queue, ms: until an agent answered, or until the
    /// caller hung up (`abandoned`) or kept their place (`kept_place`).
    wait_ms: Option<i64>,
}

/// Media quality of one side of a call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QualityDto {
    /// RTP packets received.
    packets: i64,
    /// RTP packets lost on the way.
    lost: i64,
    /// Interarrival jitter at the end of the call, microseconds.
    jitter_us: i64,
    /// E-model MOS estimate (1-4.5).
    mos: f64,
}

impl From<MediaQuality> for QualityDto {
    fn from(q: MediaQuality) -> Self {
        QualityDto {
            packets: q.packets,
            lost: q.lost,
            jitter_us: q.jitter_us,
            mos: q.mos,
        }
    }
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
            transferred_to: c.transferred_to,
            caller_quality: c.caller_quality.map(QualityDto::from),
            callee_quality: c.callee_quality.map(QualityDto::from),
            queue: c.queue,
            agent: c.agent,
            wait_ms: c.wait_ms,
        }
    }
}

/// CDRs, newest first.
#[utoipa::path(get, operation_id = "records_list_cdrs", path = "/api/v1/cdrs", tag = "records", params(Page),
    responses((status = 200, body = Listing<CdrDto>), crate::api::openapi::Errors))]
pub async fn list_cdrs(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<CdrDto>>, ApiError> {
    let (limit, offset) = page.checked()?;
    let rows = state.store.recent_cdrs(limit + 1, offset).await?;
    let items = rows.into_iter().map(CdrDto::from).collect();
    Ok(Json(Listing::fetched(items, limit, offset)))
}

/// One live registration of a phone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationDto {
    aor: String,
    contact: String,
    expires_at: i64,
    transport: String,
    source: String,
    user_agent: Option<String>,
}

/// Live registrations.
#[utoipa::path(get, operation_id = "records_list_registrations", path = "/api/v1/registrations", tag = "records", params(Page),
    responses((status = 200, body = Listing<RegistrationDto>), crate::api::openapi::Errors))]
pub async fn list_registrations(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<RegistrationDto>>, ApiError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let items = state
        .store
        .live_bindings(now)
        .await?
        .into_iter()
        .map(|b| RegistrationDto {
            aor: b.aor,
            contact: b.contact,
            expires_at: b.expires_at,
            transport: b.transport,
            source: b.source,
            user_agent: b.user_agent,
        })
        .collect();
    Ok(Json(page.of(items)?))
}

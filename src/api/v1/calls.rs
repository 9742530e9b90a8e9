//! Call control. Today: click-to-dial (`POST /api/v1/calls`), agent-first: Centrala rings the
//! agent's phones, tells the agent who is called, then dials the number (an extension or
//! through the outbound trunk) and bridges the two (`calls::CallManager::originate`). An
//! agent token may only dial from its own extension.
//! TODO: hang-up, hold, transfer and recording control of live calls need a registry of live
//! calls with a command channel in `calls`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::api::auth::Principal;
use crate::api::extract::Body;
use crate::api::{ApiError, ApiState};
use crate::calls::originate::{OriginateError, Purpose};

/// A call to place.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// The agent's extension, rung first.
    agent: String,
    /// The number to dial once the agent answered: an extension or a phone number (digits,
    /// optionally a leading `+`).
    number: String,
}

/// A placed call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlacedCall {
    /// The call's id (its CDR's id and the `call_id` of its events).
    call_id: String,
    agent: String,
    number: String,
}

/// Click-to-dial: rings the agent, then dials the number and bridges them.
#[utoipa::path(post, operation_id = "calls_create", path = "/api/v1/calls", tag = "calls",
    request_body = NewCall,
    responses((status = 201, body = PlacedCall), crate::api::openapi::Errors))]
pub async fn create(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Body(new): Body<NewCall>,
) -> Result<(StatusCode, Json<PlacedCall>), ApiError> {
    who.require_self(&new.agent)?;
    let calls = state
        .calls
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("call control is not running".into()))?;
    let call_id = calls
        .originate(&new.agent, &new.number, Purpose::ClickToDial)
        .map_err(|err| match err {
            OriginateError::UnknownExtension(_) => ApiError::NotFound(err.to_string()),
            OriginateError::InvalidNumber(_) => ApiError::BadRequest(err.to_string()),
            OriginateError::AgentUnavailable(_) | OriginateError::NoRoute => {
                ApiError::Conflict(err.to_string())
            }
        })?;
    let placed = PlacedCall {
        call_id,
        agent: new.agent,
        number: new.number,
    };
    Ok((StatusCode::CREATED, Json(placed)))
}

//! Call control: click-to-dial (`POST /api/v1/calls`), agent-first: Centrala rings the
//! agent's phones, tells the agent who is called, then dials the number (an extension or
//! through the outbound trunk) and bridges the two (`calls::CallManager::originate`). An
//! agent token may only dial from its own extension. A call through a trunk presents the
//! request's `caller_id`, else its `queue`'s, else the trunk's (`calls::caller_id`).
//! Live calls (`calls::control::LiveCalls`): listed by `GET /api/v1/calls`, hung up by
//! `POST /api/v1/calls/{id}/hangup`, recorded on demand by `POST /api/v1/calls/{id}/recording`,
//! held by `.../hold` and `.../unhold`, transferred by `.../transfer` (blind or attended;
//! an attended one ends with `.../transfer/complete` or `.../transfer/cancel`).
//! An agent token sees and controls only calls it is a party of (caller, callee, or the agent
//! a queued call is offered to); hold and transfer act on the other party than that agent.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Listing, Page};
use crate::api::auth::Principal;
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::calls::control::{
    CallCommand, ControlError, LiveCall, LiveCalls, RecordingAction, TransferMode, TransferTarget,
};
use crate::calls::originate::{OriginateError, Purpose};
use crate::config::{CallerId, CallerNumber, DisplayName};

/// A call to place.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// The agent's extension, rung first.
    agent: String,
    /// The number to dial once the agent answered: an extension or a phone number (digits,
    /// optionally a leading `+`).
    number: String,
    /// The number the customer is shown when the call goes out through a trunk (an optional
    /// `+` and 2 to 15 digits), over the queue's and the trunk's. An agent token may only
    /// choose a number a trunk or a queue is configured to present.
    #[serde(default)]
    caller_id: Option<String>,
    /// The display name shown with `caller_id` (needs `caller_id`).
    #[serde(default)]
    caller_name: Option<String>,
    /// The queue the call is made for: its `caller_id` is presented over the trunk's.
    #[serde(default)]
    queue: Option<String>,
}

impl NewCall {
    /// The call's own caller ID, checked like the configuration's.
    fn caller_id(&self) -> Result<Option<CallerId>, ApiError> {
        let number: Option<CallerNumber> = self
            .caller_id
            .clone()
            .map(TryFrom::try_from)
            .transpose()
            .map_err(ApiError::BadRequest)?;
        let name: Option<DisplayName> = self
            .caller_name
            .clone()
            .map(TryFrom::try_from)
            .transpose()
            .map_err(ApiError::BadRequest)?;
        CallerId::of("request", number.as_ref(), name.as_ref()).map_err(ApiError::BadRequest)
    }
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
    let caller_id = new.caller_id()?;
    if let (Some(id), Some(_)) = (&caller_id, who.own_agent())
        && !calls.presents(&id.number)
    {
        return Err(ApiError::Forbidden(format!(
            "caller_id {} is not a number a trunk or a queue presents",
            id.number
        )));
    }
    let call_id = calls
        .caller_id_overrides(caller_id, new.queue.as_deref())
        .and_then(|overrides| {
            calls.originate(&new.agent, &new.number, Purpose::ClickToDial, overrides)
        })
        .map_err(|err| match err {
            OriginateError::UnknownExtension(_) => ApiError::NotFound(err.to_string()),
            OriginateError::InvalidNumber(_) | OriginateError::UnknownQueue(_) => {
                ApiError::BadRequest(err.to_string())
            }
            OriginateError::AgentUnavailable(_) | OriginateError::NoRoute => {
                ApiError::Conflict(err.to_string())
            }
            OriginateError::ShuttingDown => ApiError::Unavailable(err.to_string()),
        })?;
    let placed = PlacedCall {
        call_id,
        agent: new.agent,
        number: new.number,
    };
    Ok((StatusCode::CREATED, Json(placed)))
}

/// A call in progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LiveCallDto {
    /// The call's id (its CDR's id and the `call_id` of its events).
    id: String,
    /// The caller leg's SIP Call-ID (also accepted as `{id}`).
    sip_call_id: String,
    caller: String,
    callee: String,
    /// When the call started (Unix ms).
    started_at_ms: i64,
    /// The agent a queued call is offered to or answered by, or the transfer target that
    /// answered (a click-to-dial call: its agent).
    agent: Option<String>,
}

impl From<LiveCall> for LiveCallDto {
    fn from(call: LiveCall) -> Self {
        LiveCallDto {
            id: call.id,
            sip_call_id: call.call_id,
            caller: call.caller,
            callee: call.callee,
            started_at_ms: call.started_at_ms,
            agent: call.agent,
        }
    }
}

/// What to do with a live call's recording.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordingVerb {
    Start,
    Stop,
    Pause,
    Resume,
}

/// A recording command.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingControl {
    /// `start` (the call must be answered), `stop`, `pause` (silence is recorded) or `resume`.
    action: RecordingVerb,
}

/// Calls in progress, oldest first (an agent token: only calls it is a party of).
#[utoipa::path(get, operation_id = "calls_list", path = "/api/v1/calls", tag = "calls",
    params(Page),
    responses((status = 200, body = Listing<LiveCallDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<LiveCallDto>>, ApiError> {
    page.checked()?;
    let items = live_calls(&state)?
        .list()
        .into_iter()
        .filter(|call| who.own_agent().is_none_or(|own| call.has_party(own)))
        .map(LiveCallDto::from)
        .collect();
    Ok(Json(page.of(items)?))
}

/// Hangs up a live call: BYE to both parties (CANCEL while it rings); its CDR says
/// `api_hangup`, side `system`.
#[utoipa::path(post, operation_id = "calls_hangup", path = "/api/v1/calls/{id}/hangup", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    responses((status = 204, description = "Hung up"), crate::api::openapi::Errors))]
pub async fn hangup(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    command(&state, &who, &id, CallCommand::Hangup).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts, stops, pauses or resumes the recording of an answered call (409 when the action
/// does not fit: not answered, already recording, not recording, not paused...).
#[utoipa::path(post, operation_id = "calls_recording", path = "/api/v1/calls/{id}/recording", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    request_body = RecordingControl,
    responses((status = 204, description = "Done"), crate::api::openapi::Errors))]
pub async fn recording(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(control): Body<RecordingControl>,
) -> Result<StatusCode, ApiError> {
    let action = match control.action {
        RecordingVerb::Start => RecordingAction::Start,
        RecordingVerb::Stop => RecordingAction::Stop,
        RecordingVerb::Pause => RecordingAction::Pause,
        RecordingVerb::Resume => RecordingAction::Resume,
    };
    command(&state, &who, &id, CallCommand::Recording(action)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts an answered call on hold: the other party than the agent asking (the caller, when a
/// supervisor, admin or integration asks) hears music on hold, the agent hears silence.
/// Media stays anchored; no re-INVITE is sent. 409 when not answered, already held, or
/// transferring.
#[utoipa::path(post, operation_id = "calls_hold", path = "/api/v1/calls/{id}/hold", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    responses((status = 204, description = "Held"), crate::api::openapi::Errors))]
pub async fn hold(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    let by = who.own_agent().map(str::to_owned);
    command(&state, &who, &id, CallCommand::Hold { by }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a held call off hold (409 when it is not held).
#[utoipa::path(post, operation_id = "calls_unhold", path = "/api/v1/calls/{id}/unhold", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    responses((status = 204, description = "Off hold"), crate::api::openapi::Errors))]
pub async fn unhold(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    command(&state, &who, &id, CallCommand::Unhold).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How to transfer.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransferVerb {
    /// Release the agent at once; the caller hears ring-back until the target answers.
    #[default]
    Blind,
    /// The caller hears music while the agent consults the target; then
    /// `/transfer/complete` or `/transfer/cancel`.
    Attended,
}

/// A transfer request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// An extension (`1003`), a queue (`queue:sales`) or a phone number dialled through the
    /// outbound trunk (digits, optionally a leading `+`).
    target: String,
    /// `blind` (the default) or `attended`; a queue takes blind transfers only.
    #[serde(default)]
    mode: TransferVerb,
}

/// A transfer under way.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferStarted {
    /// The call's id.
    call_id: String,
    /// The target as understood (`queue:<name>` for a queue).
    target: String,
    mode: TransferVerb,
}

/// Transfers the other party than the agent asking (the caller, for a supervisor, admin or
/// integration). Blind: the agent's leg is released and the caller hears ring-back until the
/// target answers (a queue target queues the caller with the call's CTI attributes); a target
/// that fails ends the call (CDR cause `transfer_failed`). Attended: the caller hears music
/// while the agent's phone rings the target. 202: the transfer started; 400 for a malformed
/// body or target; 409 when the call is not answered, already transferring, or the target has
/// no registered phone.
#[utoipa::path(post, operation_id = "calls_transfer", path = "/api/v1/calls/{id}/transfer", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    request_body = TransferRequest,
    responses((status = 202, body = TransferStarted), crate::api::openapi::Errors))]
pub async fn transfer(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(request): Body<TransferRequest>,
) -> Result<(StatusCode, Json<TransferStarted>), ApiError> {
    let calls = state
        .calls
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("call control is not running".into()))?;
    let target =
        TransferTarget::parse(&request.target, |n| calls.config.extensions.contains_key(n))
            .map_err(ApiError::BadRequest)?;
    let mode = match request.mode {
        TransferVerb::Blind => TransferMode::Blind,
        TransferVerb::Attended => TransferMode::Attended,
    };
    let described = target.describe();
    let by = who.own_agent().map(str::to_owned);
    let call = command(
        &state,
        &who,
        &id,
        CallCommand::Transfer { target, mode, by },
    )
    .await?;
    let started = TransferStarted {
        call_id: call.id,
        target: described,
        mode: request.mode,
    };
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// Completes an attended transfer: the caller is bridged with the consulted target and the
/// agent's leg released (409 before the target answered or with no consultation).
#[utoipa::path(post, operation_id = "calls_transfer_complete", path = "/api/v1/calls/{id}/transfer/complete", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    responses((status = 204, description = "Completing"), crate::api::openapi::Errors))]
pub async fn transfer_complete(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    command(&state, &who, &id, CallCommand::CompleteTransfer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels an attended transfer: the target's leg is dropped and the agent is back with the
/// caller (409 with no consultation).
#[utoipa::path(post, operation_id = "calls_transfer_cancel", path = "/api/v1/calls/{id}/transfer/cancel", tag = "calls",
    params(("id" = String, Path, description = "The call's id or SIP Call-ID")),
    responses((status = 204, description = "Cancelling"), crate::api::openapi::Errors))]
pub async fn transfer_cancel(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    command(&state, &who, &id, CallCommand::CancelTransfer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends `command` to call `id` after checking that `who` may control it; the call as it
/// was listed.
async fn command(
    state: &ApiState,
    who: &Principal,
    id: &str,
    command: CallCommand,
) -> Result<LiveCall, ApiError> {
    let live = live_calls(state)?;
    let call = live
        .get(id)
        .ok_or_else(|| ApiError::NotFound(format!("no live call {id}")))?;
    if let Some(own) = who.own_agent()
        && !call.has_party(own)
    {
        return Err(ApiError::Forbidden(
            "an agent may only control calls it is a party of".into(),
        ));
    }
    live.command(&call.id, command)
        .await
        .map_err(|err| match err {
            ControlError::UnknownCall(_) => ApiError::NotFound(err.to_string()),
            ControlError::InvalidState(_) => ApiError::Conflict(err.to_string()),
            ControlError::InvalidTarget(_) => ApiError::BadRequest(err.to_string()),
            ControlError::Busy => ApiError::Unavailable(err.to_string()),
        })?;
    Ok(call)
}

fn live_calls(state: &ApiState) -> Result<&LiveCalls, ApiError> {
    state
        .calls
        .as_ref()
        .map(|calls| &calls.live)
        .ok_or_else(|| ApiError::Unavailable("call control is not running".into()))
}

//! Agents: list, one, log in/out, ready or break (with a reason code). An agent token sees
//! and changes only its own agent.

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};

use super::{Listing, Page};
use crate::api::auth::Principal;
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::routing::{AgentId, AgentStatus, FeatureAction, ReasonCode};

/// An agent's state now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentDto {
    /// The extension number (the agent's id in the API).
    number: String,
    /// `offline`, `available`, `busy`, `wrap_up` or `break`.
    state: String,
    /// The break's reason code.
    reason: Option<u16>,
    /// When this state began, unix ms (kept across restarts for a stored login or break).
    since_ms: Option<i64>,
}

/// The state an agent asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum StateChange {
    /// Ready for offers.
    Available,
    /// Not ready, with a reason code (1..=65535; 0 is the system's ring-no-answer).
    Break {
        /// Why (site-defined codes: lunch, training, ...); 1 when absent.
        #[schema(minimum = 1, maximum = 65535)]
        reason: Option<u16>,
    },
}

/// Every agent (an agent token: only itself).
#[utoipa::path(get, operation_id = "agents_list", path = "/api/v1/agents", tag = "agents", params(Page),
    responses((status = 200, body = Listing<AgentDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<AgentDto>>, ApiError> {
    page.checked()?;
    let numbers: Vec<String> = state
        .acd
        .setup()
        .agents
        .iter()
        .map(|a| a.number.clone())
        .filter(|n| who.own_agent().is_none_or(|own| own == n))
        .collect();
    let mut items = Vec::with_capacity(numbers.len());
    for number in numbers {
        items.push(status_of(&state, &number).await?);
    }
    Ok(Json(page.of(items)?))
}

/// One agent.
#[utoipa::path(get, operation_id = "agents_one", path = "/api/v1/agents/{number}", tag = "agents",
    params(("number" = String, Path, description = "The agent's extension")),
    responses((status = 200, body = AgentDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(number): Id<String>,
) -> Result<Json<AgentDto>, ApiError> {
    who.require_self(&number)?;
    Ok(Json(status_of(&state, &number).await?))
}

/// Logs the agent in (available).
#[utoipa::path(post, operation_id = "agents_login", path = "/api/v1/agents/{number}/login", tag = "agents",
    params(("number" = String, Path, description = "The agent's extension")),
    responses((status = 200, body = AgentDto), crate::api::openapi::Errors))]
pub async fn login(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(number): Id<String>,
) -> Result<Json<AgentDto>, ApiError> {
    act(&state, &who, &number, FeatureAction::Login).await
}

/// Logs the agent out.
#[utoipa::path(post, operation_id = "agents_logout", path = "/api/v1/agents/{number}/logout", tag = "agents",
    params(("number" = String, Path, description = "The agent's extension")),
    responses((status = 200, body = AgentDto), crate::api::openapi::Errors))]
pub async fn logout(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(number): Id<String>,
) -> Result<Json<AgentDto>, ApiError> {
    act(&state, &who, &number, FeatureAction::Logout).await
}

/// Sets a logged-in agent available or on a break.
#[utoipa::path(put, operation_id = "agents_set_state", path = "/api/v1/agents/{number}/state", tag = "agents",
    params(("number" = String, Path, description = "The agent's extension")),
    request_body = StateChange,
    responses((status = 200, body = AgentDto), crate::api::openapi::Errors))]
pub async fn set_state(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(number): Id<String>,
    Body(change): Body<StateChange>,
) -> Result<Json<AgentDto>, ApiError> {
    let action = match change {
        StateChange::Available => FeatureAction::Ready,
        StateChange::Break { reason: Some(0) } => {
            return Err(ApiError::BadRequest("reason must be 1..=65535".into()));
        }
        StateChange::Break { reason } => FeatureAction::Pause(ReasonCode(reason.unwrap_or(1))),
    };
    act(&state, &who, &number, action).await
}

async fn act(
    state: &ApiState,
    who: &Principal,
    number: &str,
    action: FeatureAction,
) -> Result<Json<AgentDto>, ApiError> {
    who.require_self(number)?;
    let agent = agent_id(state, number)?;
    let before = state.acd.agent_status(agent).await?;
    if before == AgentStatus::Offline
        && matches!(action, FeatureAction::Ready | FeatureAction::Pause(_))
    {
        return Err(ApiError::Conflict(
            "the agent is logged out; log in first".into(),
        ));
    }
    state.acd.agent(agent, action).await?;
    Ok(Json(status_of(state, number).await?))
}

fn agent_id(state: &ApiState, number: &str) -> Result<AgentId, ApiError> {
    state
        .acd
        .agent_id(number)
        .ok_or_else(|| ApiError::NotFound(format!("no agent {number:?}")))
}

async fn status_of(state: &ApiState, number: &str) -> Result<AgentDto, ApiError> {
    let (status, since_ms) = state.acd.agent_state(agent_id(state, number)?).await?;
    let (name, reason) = crate::cti::events::agent_state(status);
    Ok(AgentDto {
        number: number.to_string(),
        state: name.to_string(),
        reason,
        since_ms,
    })
}

//! Customers: a lookup in the CRM through the CTI lookup service (its breaker, cache and
//! timeout apply), and the customer's interaction history from the CDRs and stored tasks.

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::auth::Principal;
use crate::api::extract::{Id, Params};
use crate::api::{ApiError, ApiState, scope};
use crate::cti::events::interaction_history;
use crate::cti::lookup::LookupError;

/// `?number=` or `?email=`, and optionally which configured lookup to ask.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// A phone number (normalised to E.164).
    number: Option<String>,
    /// An e-mail address.
    email: Option<String>,
    /// The lookup's name (default: the first configured).
    lookup: Option<String>,
}

/// A CRM record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerDto {
    /// The lookup asked.
    lookup: String,
    /// The mapped answer of the CRM.
    #[schema(value_type = Object)]
    record: Value,
}

/// `?limit=` of the history (1..=100, default 20).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// The last calls and tasks of a customer, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryDto {
    customer: String,
    #[schema(value_type = Vec<Object>)]
    calls: Value,
    #[schema(value_type = Vec<Object>)]
    tasks: Value,
}

/// Asks the CRM about a customer by phone number or e-mail.
#[utoipa::path(get, operation_id = "customers_lookup", path = "/api/v1/customers/lookup", tag = "customers", params(LookupQuery),
    responses((status = 200, body = CustomerDto), crate::api::openapi::Errors))]
pub async fn lookup(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Params(query): Params<LookupQuery>,
) -> Result<Json<CustomerDto>, ApiError> {
    if let Some(agent) = who.own_agent() {
        agent_may_look_up(&state, agent, query.number.as_deref()).await?;
    }
    let mut params = Map::new();
    if let Some(number) = query.number.filter(|n| !n.trim().is_empty()) {
        params.insert("number".into(), Value::from(number));
    }
    if let Some(email) = query.email.filter(|e| !e.trim().is_empty()) {
        params.insert("email".into(), Value::from(email));
    }
    if params.is_empty() {
        return Err(ApiError::BadRequest("give `number` or `email`".into()));
    }
    let name = match query.lookup {
        Some(name) => name,
        None => state
            .lookups
            .names()
            .first()
            .map(|n| n.to_string())
            .ok_or_else(|| ApiError::NotFound("no CRM lookup is configured".into()))?,
    };
    match state.lookups.lookup(&name, params).await {
        Ok(record) => Ok(Json(CustomerDto {
            lookup: name,
            record,
        })),
        Err(err) => Err(lookup_error(err)),
    }
}

/// The customer's last calls (as caller or callee) and stored tasks.
#[utoipa::path(get, operation_id = "customers_history", path = "/api/v1/customers/{id}/history", tag = "customers",
    params(("id" = String, Path, description = "Phone number or CRM id"), HistoryQuery),
    responses((status = 200, body = HistoryDto), crate::api::openapi::Errors))]
pub async fn history(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Params(query): Params<HistoryQuery>,
) -> Result<Json<HistoryDto>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1..=100".into()));
    }
    let mut found = interaction_history(&state.store, &id, limit).await?;
    let (mut calls, mut tasks) = (found["calls"].take(), found["tasks"].take());
    if let Some(agent) = who.own_agent() {
        calls = scope::own_calls(agent, calls);
        tasks = Value::Array(Vec::new());
    }
    Ok(Json(HistoryDto {
        customer: id,
        calls,
        tasks,
    }))
}

/// An agent asks the CRM only about a number on one of their live calls or in their own
/// history (see `api::scope`); 403 otherwise (and for e-mail lookups).
async fn agent_may_look_up(
    state: &ApiState,
    agent: &str,
    number: Option<&str>,
) -> Result<(), ApiError> {
    let forbidden =
        || ApiError::Forbidden("an agent may look up only the customers of their own calls".into());
    let Some(number) = number.filter(|n| !n.trim().is_empty()) else {
        return Err(forbidden());
    };
    let live = state
        .calls
        .as_ref()
        .map(|c| c.live.list())
        .unwrap_or_default();
    if scope::on_live_call(agent, number, &live) {
        return Ok(());
    }
    let mut past = interaction_history(&state.store, number, 100).await?;
    let own = scope::own_calls(agent, past["calls"].take());
    if own.as_array().is_some_and(|calls| !calls.is_empty()) {
        return Ok(());
    }
    Err(forbidden())
}

fn lookup_error(err: LookupError) -> ApiError {
    match err {
        LookupError::UnknownLookup(_) | LookupError::NotFound { .. } => {
            ApiError::NotFound(err.to_string())
        }
        LookupError::MissingParam { .. } | LookupError::BadNumber { .. } => {
            ApiError::BadRequest(err.to_string())
        }
        other => ApiError::Unavailable(other.to_string()),
    }
}

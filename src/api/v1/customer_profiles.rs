//! Customers as Centrala knows them: one customer with its identities, its timeline (every
//! interaction on every channel, newest first), notes (and typed `offer` notes), merge and
//! unmerge with an audit trail. An agent token reaches only the customers of the tasks
//! offered to or held by its agent (see `conversations::scope_of`).

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::conversations::scope_of;
use super::{Listing, Page, now_ms};
use crate::api::auth::Principal;
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::channels::new_id;
use crate::cti::webhook::{Event, EventKind};
use crate::customers::{CustomerError, Customers, Profile};
use crate::store::{NoteRow, TimelineRow};

/// A customer with its identities.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerProfileDto {
    /// The survivor's id (a merged customer answers with the one it was merged into).
    id: String,
    display_name: Option<String>,
    /// The CRM's id.
    crm_id: Option<String>,
    /// Customers merged into this one.
    merged: Vec<String>,
    identities: Vec<IdentityDto>,
    /// Merges, unmerges, links; newest first.
    audit: Vec<AuditDto>,
    created_at_ms: i64,
}

/// How a customer is known on a channel.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentityDto {
    /// `phone`, `email`, `chat`, `whatsapp`, `messenger` or `crm`.
    kind: String,
    value: String,
    /// The customer holding it (a merged one, or the survivor).
    customer_id: String,
    /// `contact`, `crm` or `api`.
    source: String,
}

/// One audit entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditDto {
    customer_id: String,
    /// `created`, `identity_added`, `merged`, `merged_into`, `unmerged`, `unmerged_from`.
    action: String,
    other_id: Option<String>,
    actor: Option<String>,
    detail: Option<String>,
    at_ms: i64,
}

/// One interaction on the timeline. `kind` says what the other fields mean: `call` (a CDR;
/// `reference` the call id, `state` its result, `extra` its recording id), `task` (a callback,
/// voicemail or follow-up; `extra` its attempts), `conversation`, `message` (`reference` its
/// conversation, `text` the start of its body), `note` (`state` `note` or `offer`),
/// `disposition` (`state` the code), `survey_answer` (`text` the question, `state` the key).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineEntryDto {
    at_ms: i64,
    kind: String,
    id: String,
    channel: Option<String>,
    direction: Option<String>,
    party: Option<String>,
    reference: Option<String>,
    text: Option<String>,
    state: Option<String>,
    agent: Option<String>,
    duration_ms: Option<i64>,
    extra: Option<String>,
}

/// A new note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The text, e.g. "has children".
    #[schema(min_length = 1, max_length = 4000)]
    text: String,
    /// `note` (default) or `offer` (an offer made to the customer).
    kind: Option<String>,
    /// The task during which it was written.
    task_id: Option<u64>,
}

/// A stored note.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteDto {
    id: String,
    customer_id: String,
    kind: String,
    text: String,
    author: Option<String>,
    created_at_ms: i64,
}

/// A merge.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The customer to merge into this one.
    #[schema(min_length = 1, max_length = 64)]
    from: String,
}

/// One customer with its identities and audit trail.
#[utoipa::path(get, operation_id = "customers_one", path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "The customer's id (`cus_…`)")),
    responses((status = 200, body = CustomerProfileDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<Json<CustomerProfileDto>, ApiError> {
    Ok(Json(profile_dto(visible(&state, &who, &id).await?)))
}

/// The customer's interactions on every channel, newest first.
#[utoipa::path(get, operation_id = "customers_timeline", path = "/api/v1/customers/{id}/timeline", tag = "customers",
    params(("id" = String, Path, description = "The customer's id (`cus_…`)"), Page),
    responses((status = 200, body = Listing<TimelineEntryDto>), crate::api::openapi::Errors))]
pub async fn timeline(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<TimelineEntryDto>>, ApiError> {
    let (limit, offset) = page.checked()?;
    let profile = visible(&state, &who, &id).await?;
    let keys = Customers::timeline_keys(&profile);
    let (rows, more) = state.store.timeline(&keys, limit, offset).await?;
    let items = rows.into_iter().map(entry_dto).collect();
    Ok(Json(Listing::new(items, limit, offset, more)))
}

/// Adds a note (or a typed `offer` note) to the customer; every channel's agent sees it.
#[utoipa::path(post, operation_id = "customers_add_note", path = "/api/v1/customers/{id}/notes", tag = "customers",
    params(("id" = String, Path, description = "The customer's id (`cus_…`)")), request_body = NoteRequest,
    responses((status = 201, body = NoteDto), crate::api::openapi::Errors))]
pub async fn add_note(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(request): Body<NoteRequest>,
) -> Result<(StatusCode, Json<NoteDto>), ApiError> {
    let text = request.text.trim();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(ApiError::BadRequest(
            "text must be 1..=4000 characters".into(),
        ));
    }
    let kind = request.kind.unwrap_or_else(|| "note".into());
    if !matches!(kind.as_str(), "note" | "offer") {
        return Err(ApiError::BadRequest("kind is `note` or `offer`".into()));
    }
    let profile = visible(&state, &who, &id).await?;
    let row = NoteRow {
        id: new_id("note"),
        customer_id: profile.customer.id.clone(),
        kind,
        text: text.to_string(),
        author: Some(who.agent.clone().unwrap_or_else(|| who.token_id.clone())),
        task_id: request.task_id.and_then(|t| i64::try_from(t).ok()),
        created_at_ms: now_ms(),
    };
    state.store.insert_note(&row).await?;
    Ok((
        StatusCode::CREATED,
        Json(NoteDto {
            id: row.id,
            customer_id: row.customer_id,
            kind: row.kind,
            text: row.text,
            author: row.author,
            created_at_ms: row.created_at_ms,
        }),
    ))
}

/// Merges the customer `from` into this one (`customer.merged`); undone by `unmerge`.
#[utoipa::path(post, operation_id = "customers_merge", path = "/api/v1/customers/{id}/merge", tag = "customers",
    params(("id" = String, Path, description = "The surviving customer's id")), request_body = MergeRequest,
    responses((status = 200, body = CustomerProfileDto), crate::api::openapi::Errors))]
pub async fn merge(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(request): Body<MergeRequest>,
) -> Result<Json<CustomerProfileDto>, ApiError> {
    let survivor = visible(&state, &who, &id).await?;
    let absorbed = visible(&state, &who, &request.from).await?;
    let now = now_ms();
    let mut event = Event::new(EventKind::CustomerMerged, now);
    event.agent_id = who.agent.clone();
    event.data =
        serde_json::json!({"customer_id": survivor.customer.id, "merged": absorbed.customer.id});
    let events = [event.to_outbox()];
    let actor = who.agent.clone().unwrap_or_else(|| who.token_id.clone());
    state
        .channels
        .customers
        .merge(
            &absorbed.customer.id,
            &survivor.customer.id,
            &actor,
            &events,
            now,
        )
        .await
        .map_err(customer_error)?;
    state.publisher.committed(Vec::new(), events.to_vec());
    let profile = state
        .channels
        .customers
        .profile(&survivor.customer.id)
        .await;
    Ok(Json(profile_dto(profile.map_err(customer_error)?)))
}

/// Undoes the merge of this customer into another; answers with this customer again.
#[utoipa::path(post, operation_id = "customers_unmerge", path = "/api/v1/customers/{id}/unmerge", tag = "customers",
    params(("id" = String, Path, description = "The merged customer's id")),
    responses((status = 200, body = CustomerProfileDto), crate::api::openapi::Errors))]
pub async fn unmerge(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<Json<CustomerProfileDto>, ApiError> {
    visible(&state, &who, &id).await?;
    let actor = who.agent.clone().unwrap_or_else(|| who.token_id.clone());
    let directory = &state.channels.customers;
    directory
        .unmerge(&id, &actor, now_ms())
        .await
        .map_err(customer_error)?;
    Ok(Json(profile_dto(
        directory.profile(&id).await.map_err(customer_error)?,
    )))
}

/// The profile of `id` if the caller may see it (404 otherwise).
async fn visible(state: &ApiState, who: &Principal, id: &str) -> Result<Profile, ApiError> {
    let profile = state
        .channels
        .customers
        .profile(id)
        .await
        .map_err(customer_error)?;
    if let Some(scope) = scope_of(state, who).await?
        && !scope.customers.contains(&profile.customer.id)
    {
        return Err(ApiError::NotFound(format!("no customer {id}")));
    }
    Ok(profile)
}

fn customer_error(err: CustomerError) -> ApiError {
    match err {
        CustomerError::NotFound(_) => ApiError::NotFound(err.to_string()),
        CustomerError::Conflict(_) => ApiError::Conflict(err.to_string()),
        CustomerError::Identity(_) => ApiError::BadRequest(err.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

fn profile_dto(p: Profile) -> CustomerProfileDto {
    CustomerProfileDto {
        merged: p.group.iter().skip(1).cloned().collect(),
        identities: p
            .identities
            .into_iter()
            .map(|i| IdentityDto {
                kind: i.kind,
                value: i.value,
                customer_id: i.customer_id,
                source: i.source,
            })
            .collect(),
        audit: p
            .audit
            .into_iter()
            .map(|a| AuditDto {
                customer_id: a.customer_id,
                action: a.action,
                other_id: a.other_id,
                actor: a.actor,
                detail: a.detail,
                at_ms: a.at_ms,
            })
            .collect(),
        id: p.customer.id,
        display_name: p.customer.display_name,
        crm_id: p.customer.crm_id,
        created_at_ms: p.customer.created_at_ms,
    }
}

fn entry_dto(r: TimelineRow) -> TimelineEntryDto {
    TimelineEntryDto {
        at_ms: r.at_ms,
        kind: r.kind,
        id: r.id,
        channel: r.channel,
        direction: r.direction,
        party: r.party,
        reference: r.reference,
        text: r.text,
        state: r.state,
        agent: r.agent,
        duration_ms: r.duration_ms,
        extra: r.extra,
    }
}

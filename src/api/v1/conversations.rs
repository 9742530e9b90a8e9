//! Conversations and messages of the digital channels: list (filters customer, channel,
//! state), one, its messages, and an agent's reply (stored, then sent by the channel).
//!
//! Visibility (`Scope`): an agent token sees the conversations of the tasks offered to or
//! held by its agent, and the conversations of those tasks' customers; other roles see all.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Listing, Page, now_ms};
use crate::api::auth::Principal;
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::customers::{Identity, IdentityKind};
use crate::routing::{TaskStatus, TaskView};
use crate::store::{ConversationFilter, ConversationRow, MessageRow};

/// A conversation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationDto {
    id: String,
    customer_id: String,
    /// `sms`, `email`, `chat`, ...
    channel: String,
    queue: String,
    /// `open` or `closed`.
    state: String,
    subject: Option<String>,
    /// The customer's address on the channel.
    peer: String,
    /// Our address.
    local: Option<String>,
    /// An earlier conversation this one continues.
    linked_to: Option<String>,
    /// The routing task carrying it.
    task_id: Option<String>,
    created_at_ms: i64,
    updated_at_ms: i64,
    closed_at_ms: Option<i64>,
}

/// A message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageDto {
    id: String,
    conversation_id: String,
    customer_id: String,
    channel: String,
    /// `in` (from the customer) or `out`.
    direction: String,
    /// The provider's id.
    external_id: Option<String>,
    sender: Option<String>,
    body: String,
    /// `received`, `recorded` (kept, not routed), `queued`, `sent`, `delivered`, `failed`.
    status: String,
    /// Why it failed.
    error: Option<String>,
    agent: Option<String>,
    created_at_ms: i64,
    updated_at_ms: i64,
}

/// Filters of the conversation list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// Only this customer's (and the customers merged into it).
    customer: Option<String>,
    /// Only this channel (`sms`, `email`, `chat`, ...).
    channel: Option<String>,
    /// `open` or `closed`.
    state: Option<String>,
}

/// An agent's reply.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The text.
    #[schema(min_length = 1, max_length = 16384)]
    text: String,
}

/// What an agent token may see; `None` fields: everything.
#[derive(Debug, Default)]
pub(super) struct Scope {
    /// Conversations of the agent's tasks.
    pub conversations: BTreeSet<String>,
    /// Survivor ids of the agent's tasks' customers.
    pub customers: BTreeSet<String>,
}

/// The agent's scope, or `None` for roles that see everything.
pub(super) async fn scope_of(state: &ApiState, who: &Principal) -> Result<Option<Scope>, ApiError> {
    let Some(own) = who.own_agent() else {
        return Ok(None);
    };
    let mut scope = Scope::default();
    for task in state.acd.tasks().await? {
        let agent = match task.status {
            Some(TaskStatus::Offered { agent }) | Some(TaskStatus::Assigned { agent }) => agent,
            _ => continue,
        };
        let number = state
            .acd
            .setup()
            .agent_by_id(agent)
            .map(|a| a.number.as_str());
        if number != Some(own) {
            continue;
        }
        if let Some(c) = task.attributes.get("conversation_id") {
            scope.conversations.insert(c.clone());
        }
        scope.customers.extend(customer_of_task(state, &task).await);
    }
    Ok(Some(scope))
}

/// The customer (survivor id) of a task: its `customer_id` attribute, else the owner of its
/// customer key (a call's number).
pub(super) async fn customer_of_task(state: &ApiState, task: &TaskView) -> Option<String> {
    match task.attributes.get("customer_id") {
        Some(id) => state
            .channels
            .customers
            .root(id)
            .await
            .ok()
            .flatten()
            .map(|row| row.id),
        None => owner_of_key(state, task.customer.as_deref()?).await,
    }
}

/// The customer a call's customer key (a number or an address) belongs to, if any.
async fn owner_of_key(state: &ApiState, key: &str) -> Option<String> {
    let directory = &state.channels.customers;
    let kind = if key.contains('@') {
        IdentityKind::Email
    } else {
        IdentityKind::Phone
    };
    let identity: Identity = directory.identity(kind, key).ok()?;
    directory.owner(&identity).await.ok().flatten()
}

/// Conversations, most recently active first (an agent token: its own).
#[utoipa::path(get, operation_id = "conversations_list", path = "/api/v1/conversations", tag = "conversations",
    params(Page, ConversationQuery),
    responses((status = 200, body = Listing<ConversationDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Params(page): Params<Page>,
    Params(query): Params<ConversationQuery>,
) -> Result<Json<Listing<ConversationDto>>, ApiError> {
    let (limit, offset) = page.checked()?;
    let mut filter = ConversationFilter {
        channel: query.channel,
        state: query.state,
        ..ConversationFilter::default()
    };
    if let Some(customer) = &query.customer {
        let profile = state.channels.customers.profile(customer).await;
        filter.customers = Some(profile.map(|p| p.group).unwrap_or_default());
    }
    if let Some(scope) = scope_of(&state, &who).await? {
        let mut ids: Vec<String> = scope.conversations.into_iter().collect();
        for customer in &scope.customers {
            let group = state.store.customer_group(customer).await?;
            let mine = ConversationFilter {
                customers: Some(group),
                ..ConversationFilter::default()
            };
            ids.extend(
                state
                    .store
                    .conversations(&mine, 1000, 0)
                    .await?
                    .into_iter()
                    .map(|c| c.id),
            );
        }
        filter.ids = Some(ids);
    }
    let rows = state.store.conversations(&filter, limit, offset).await?;
    let items = rows.into_iter().map(conversation_dto).collect();
    Ok(Json(Listing::fetched(items, limit, offset)))
}

/// One conversation.
#[utoipa::path(get, operation_id = "conversations_one", path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    responses((status = 200, body = ConversationDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<Json<ConversationDto>, ApiError> {
    Ok(Json(conversation_dto(visible(&state, &who, &id).await?)))
}

/// The messages of a conversation, oldest first.
#[utoipa::path(get, operation_id = "conversations_messages", path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id"), Page),
    responses((status = 200, body = Listing<MessageDto>), crate::api::openapi::Errors))]
pub async fn messages(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<MessageDto>>, ApiError> {
    let (limit, offset) = page.checked()?;
    let conversation = visible(&state, &who, &id).await?;
    let rows = state
        .store
        .messages_of(&conversation.id, limit, offset)
        .await?;
    let items = rows.into_iter().map(message_dto).collect();
    Ok(Json(Listing::fetched(items, limit, offset)))
}

/// Sends a reply on the conversation's channel. The message is stored first; its `status`
/// says whether the channel took it (`sent`) or not (`failed`, with `error`).
#[utoipa::path(post, operation_id = "conversations_reply", path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")), request_body = ReplyRequest,
    responses((status = 201, body = MessageDto), crate::api::openapi::Errors))]
pub async fn reply(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(request): Body<ReplyRequest>,
) -> Result<(StatusCode, Json<MessageDto>), ApiError> {
    if request.text.trim().is_empty() || request.text.len() > 16384 {
        return Err(ApiError::BadRequest(
            "text must be 1..=16384 characters".into(),
        ));
    }
    let conversation = visible(&state, &who, &id).await?;
    let author = who.agent.clone().unwrap_or_else(|| who.token_id.clone());
    let message = state
        .channels
        .replies
        .send(&conversation, Some(&author), &request.text, now_ms)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(message_dto(message))))
}

/// The conversation `id` if the caller may see it (404 otherwise, so ids do not leak).
async fn visible(state: &ApiState, who: &Principal, id: &str) -> Result<ConversationRow, ApiError> {
    let missing = || ApiError::NotFound(format!("no conversation {id}"));
    let row = state.store.conversation(id).await?.ok_or_else(missing)?;
    if let Some(scope) = scope_of(state, who).await? {
        let root = state
            .channels
            .customers
            .root(&row.customer_id)
            .await
            .ok()
            .flatten();
        let mine = scope.conversations.contains(&row.id)
            || root.is_some_and(|r| scope.customers.contains(&r.id));
        if !mine {
            return Err(missing());
        }
    }
    Ok(row)
}

fn conversation_dto(c: ConversationRow) -> ConversationDto {
    ConversationDto {
        id: c.id,
        customer_id: c.customer_id,
        channel: c.channel,
        queue: c.queue,
        state: c.state,
        subject: c.subject,
        peer: c.peer,
        local: c.local,
        linked_to: c.linked_to,
        task_id: c.task_id.map(|t| t.to_string()),
        created_at_ms: c.created_at_ms,
        updated_at_ms: c.updated_at_ms,
        closed_at_ms: c.closed_at_ms,
    }
}

fn message_dto(m: MessageRow) -> MessageDto {
    MessageDto {
        id: m.id,
        conversation_id: m.conversation_id,
        customer_id: m.customer_id,
        channel: m.channel,
        direction: m.direction,
        external_id: m.external_id,
        sender: m.sender,
        body: m.body,
        status: m.status,
        error: m.error,
        agent: m.agent,
        created_at_ms: m.created_at_ms,
        updated_at_ms: m.updated_at_ms,
    }
}

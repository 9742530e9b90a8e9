//! Tasks: the live ones the ACD holds (and stored closed ones by id), accept / reject an
//! offer, blind transfer to a queue, complete with a disposition. An agent token sees and
//! acts on only the tasks offered to or held by its agent. Voice offers are accepted by
//! answering the phone, not here (409).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};

use super::{Listing, Page, now_ms};
use crate::api::auth::Principal;
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::routing::setup::channel_name;
use crate::routing::{AgentId, Channel, TaskId, TaskStatus, TaskView};
use crate::store::{DispositionRow, TaskRow};

/// A task.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskDto {
    id: String,
    /// `voice`, `callback`, `chat`, `email`, `sms`, `voicemail` or `follow_up`.
    channel: String,
    queue: String,
    customer: Option<String>,
    priority: u32,
    /// CTI data (dialplan variables, CRM answers).
    attributes: BTreeMap<String, String>,
    arrived_at_ms: i64,
    deadline_ms: Option<i64>,
    attempts: u32,
    /// `waiting`, `offered`, `assigned`, `scheduled` (a callback before its next attempt),
    /// or a stored closed state (`done`, `failed`, `cancelled`).
    state: String,
    /// The agent offered or holding it.
    agent: Option<String>,
    /// The customer (`cus_…`), when linked.
    customer_id: Option<String>,
    /// The conversation of a digital task (SMS, e-mail, chat).
    conversation_id: Option<String>,
}

/// `?queue=&agent=` filters of the task list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// Only tasks in this queue.
    queue: Option<String>,
    /// Only tasks offered to or held by this agent.
    agent: Option<String>,
}

/// Blind transfer target.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The queue to move the task to.
    queue: String,
}

/// Completion with a disposition.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    disposition: DispositionDto,
}

/// A wrap-up code and note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionDto {
    /// The wrap-up code, e.g. `sale`.
    #[schema(min_length = 1, max_length = 64)]
    code: String,
    /// Free text.
    note: Option<String>,
}

/// Live tasks, oldest first (an agent token: only its own).
#[utoipa::path(get, operation_id = "tasks_list", path = "/api/v1/tasks", tag = "tasks", params(Page, TaskFilter),
    responses((status = 200, body = Listing<TaskDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Params(page): Params<Page>,
    Params(filter): Params<TaskFilter>,
) -> Result<Json<Listing<TaskDto>>, ApiError> {
    page.checked()?;
    let items: Vec<TaskDto> = state
        .acd
        .tasks()
        .await?
        .iter()
        .map(|v| live_dto(&state, v))
        .filter(|t| {
            who.own_agent()
                .is_none_or(|own| t.agent.as_deref() == Some(own))
        })
        .filter(|t| filter.queue.as_ref().is_none_or(|q| &t.queue == q))
        .filter(|t| filter.agent.is_none() || t.agent == filter.agent)
        .collect();
    Ok(Json(page.of(items)?))
}

/// One task: live, or stored once closed (callbacks, chats, e-mails...).
#[utoipa::path(get, operation_id = "tasks_one", path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = u64, Path, description = "The task's id")),
    responses((status = 200, body = TaskDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<Json<TaskDto>, ApiError> {
    let task = parse_id(&id)?;
    if let Some(view) = live(&state, task).await? {
        let dto = live_dto(&state, &view);
        who.require_self(dto.agent.as_deref().unwrap_or(""))?;
        return Ok(Json(dto));
    }
    if who.own_agent().is_some() {
        return Err(ApiError::NotFound(format!("no live task {id}")));
    }
    let row = state
        .store
        .task(i64::try_from(task.0).unwrap_or(-1))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
    Ok(Json(stored_dto(row)))
}

/// Accepts a non-voice offer for the agent it is offered to.
#[utoipa::path(post, operation_id = "tasks_accept", path = "/api/v1/tasks/{id}/accept", tag = "tasks",
    params(("id" = u64, Path, description = "The task's id")),
    responses((status = 200, body = TaskDto), crate::api::openapi::Errors))]
pub async fn accept(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<Json<TaskDto>, ApiError> {
    let (task, agent) = offered(&state, &who, &id).await?;
    state.acd.offer_accepted(task, agent).await?;
    current(&state, task).await
}

/// Declines a non-voice offer; the task goes to the next agent.
#[utoipa::path(post, operation_id = "tasks_reject", path = "/api/v1/tasks/{id}/reject", tag = "tasks",
    params(("id" = u64, Path, description = "The task's id")),
    responses((status = 200, body = TaskDto), crate::api::openapi::Errors))]
pub async fn reject(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
) -> Result<Json<TaskDto>, ApiError> {
    let (task, agent) = offered(&state, &who, &id).await?;
    state.acd.offer_rejected(task, agent).await?;
    current(&state, task).await
}

/// Moves a held task to another queue, where it waits anew.
#[utoipa::path(post, operation_id = "tasks_transfer", path = "/api/v1/tasks/{id}/transfer", tag = "tasks",
    params(("id" = u64, Path, description = "The task's id")), request_body = TransferRequest,
    responses((status = 200, body = TaskDto), crate::api::openapi::Errors))]
pub async fn transfer(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(to): Body<TransferRequest>,
) -> Result<Json<TaskDto>, ApiError> {
    let (task, _, _) = assigned(&state, &who, &id).await?;
    if state.acd.setup().queue(&to.queue).is_none() {
        return Err(ApiError::BadRequest(format!("no queue {:?}", to.queue)));
    }
    state.acd.transfer(task, &to.queue).await?;
    current(&state, task).await
}

/// Completes a held task with a disposition (stored); the agent goes to wrap-up. A call's
/// task, which ends with the call, takes its disposition afterwards (once, from the agent
/// who answered it).
#[utoipa::path(post, operation_id = "tasks_complete", path = "/api/v1/tasks/{id}/complete", tag = "tasks",
    params(("id" = u64, Path, description = "The task's id")), request_body = CompleteRequest,
    responses((status = 200, body = TaskDto), crate::api::openapi::Errors))]
pub async fn complete(
    State(state): State<ApiState>,
    Extension(who): Extension<Principal>,
    Id(id): Id<String>,
    Body(done): Body<CompleteRequest>,
) -> Result<Json<TaskDto>, ApiError> {
    let code = done.disposition.code.trim();
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::BadRequest(
            "disposition code must be 1..=64 characters".into(),
        ));
    }
    let (task, agent, view) = match assigned(&state, &who, &id).await {
        Ok(held) => held,
        Err(ApiError::NotFound(_)) => {
            return dispose_ended_call(&state, &who, &id, code, done.disposition.note).await;
        }
        Err(err) => return Err(err),
    };
    let row = DispositionRow {
        id: format!("dsp_{}", hex::encode(rand::random::<[u8; 8]>())),
        task_id: i64::try_from(task.0).unwrap_or(-1),
        agent: Some(number_of(&state, agent)),
        code: code.to_string(),
        note: done.disposition.note,
        created_at_ms: now_ms(),
    };
    state.store.insert_disposition(&row).await?;
    if let Some(customer) = super::conversations::customer_of_task(&state, &view).await {
        state
            .store
            .set_disposition_customer(&row.id, &customer)
            .await?;
    }
    state.acd.completed(task).await?;
    state
        .channels
        .intake
        .task_completed(task.0, now_ms())
        .await
        .map_err(super::sms_generic::channel_error)?;
    let mut dto = live_dto(&state, &view);
    dto.state = "completed".into();
    Ok(Json(dto))
}

/// A call's task ends with the call, and its agent gives the disposition during wrap-up,
/// after the task has left the ACD: admitted once, for the agent who answered it (by the
/// queue log); 404 for a task no agent answered.
async fn dispose_ended_call(
    state: &ApiState,
    who: &Principal,
    id: &str,
    code: &str,
    note: Option<String>,
) -> Result<Json<TaskDto>, ApiError> {
    let task =
        i64::try_from(parse_id(id)?.0).map_err(|_| ApiError::NotFound(format!("no task {id}")))?;
    let log = state.store.task_log(task).await?;
    let (Some(first), Some(answer)) = (log.first(), log.iter().rev().find(|r| r.event == "answer"))
    else {
        return Err(ApiError::NotFound(format!("no live or answered task {id}")));
    };
    let agent = answer.agent.clone().unwrap_or_default();
    who.require_self(&agent)?;
    if !state.store.dispositions_of_task(task).await?.is_empty() {
        return Err(ApiError::Conflict(format!(
            "task {id} already has a disposition"
        )));
    }
    state
        .store
        .insert_disposition(&DispositionRow {
            id: format!("dsp_{}", hex::encode(rand::random::<[u8; 8]>())),
            task_id: task,
            agent: Some(agent.clone()),
            code: code.to_string(),
            note,
            created_at_ms: now_ms(),
        })
        .await?;
    Ok(Json(TaskDto {
        id: id.to_string(),
        channel: answer.channel.clone(),
        queue: answer.queue.clone(),
        customer: None,
        priority: 0,
        attributes: BTreeMap::new(),
        arrived_at_ms: first.ts_ms,
        deadline_ms: None,
        attempts: 0,
        state: "completed".into(),
        agent: Some(agent),
        customer_id: None,
        conversation_id: None,
    }))
}

/// The task `id`, offered (not a call) to an agent the caller may act for.
async fn offered(
    state: &ApiState,
    who: &Principal,
    id: &str,
) -> Result<(TaskId, AgentId), ApiError> {
    let (task, agent, view) = held(
        state,
        who,
        id,
        "is not being offered",
        |status| match status {
            TaskStatus::Offered { agent } => Some(*agent),
            _ => None,
        },
    )
    .await?;
    if view.channel == Channel::Voice {
        return Err(ApiError::Conflict(
            "a call is accepted or declined at the phone".into(),
        ));
    }
    Ok((task, agent))
}

/// The task `id`, held by an agent the caller may act for, and its live view.
async fn assigned(
    state: &ApiState,
    who: &Principal,
    id: &str,
) -> Result<(TaskId, AgentId, TaskView), ApiError> {
    held(
        state,
        who,
        id,
        "is not held by an agent",
        |status| match status {
            TaskStatus::Assigned { agent } => Some(*agent),
            _ => None,
        },
    )
    .await
}

/// The live task `id` whose status names an agent (`agent_of`) the caller may act for;
/// 404 when it is not live, 409 ("task {id} {refusal}") when its status is another.
async fn held(
    state: &ApiState,
    who: &Principal,
    id: &str,
    refusal: &str,
    agent_of: impl Fn(&TaskStatus) -> Option<AgentId>,
) -> Result<(TaskId, AgentId, TaskView), ApiError> {
    let task = parse_id(id)?;
    let view = live(state, task)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no live task {id}")))?;
    let agent = view
        .status
        .as_ref()
        .and_then(&agent_of)
        .ok_or_else(|| ApiError::Conflict(format!("task {id} {refusal}")))?;
    who.require_self(&number_of(state, agent))?;
    Ok((task, agent, view))
}

async fn current(state: &ApiState, task: TaskId) -> Result<Json<TaskDto>, ApiError> {
    let view = live(state, task)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no live task {task}")))?;
    Ok(Json(live_dto(state, &view)))
}

async fn live(state: &ApiState, task: TaskId) -> Result<Option<TaskView>, ApiError> {
    Ok(state.acd.task(task).await?)
}

fn parse_id(id: &str) -> Result<TaskId, ApiError> {
    id.parse::<u64>()
        .map(TaskId)
        .map_err(|_| ApiError::BadRequest(format!("task id {id:?} is not a number")))
}

fn number_of(state: &ApiState, agent: AgentId) -> String {
    state
        .acd
        .setup()
        .agent_by_id(agent)
        .map_or_else(|| agent.to_string(), |a| a.number.clone())
}

fn live_dto(state: &ApiState, v: &TaskView) -> TaskDto {
    let (status, agent) = match v.status {
        Some(TaskStatus::Waiting { .. }) => ("waiting", None),
        Some(TaskStatus::Offered { agent }) => ("offered", Some(agent)),
        Some(TaskStatus::Assigned { agent }) => ("assigned", Some(agent)),
        None => ("scheduled", None),
    };
    TaskDto {
        id: v.id.0.to_string(),
        channel: channel_name(v.channel).to_string(),
        queue: v.queue.clone(),
        customer: v.customer.clone(),
        priority: v.priority,
        attributes: v.attributes.clone(),
        arrived_at_ms: v.arrived_ms,
        deadline_ms: v.deadline_ms,
        attempts: v.attempts,
        state: status.to_string(),
        agent: agent.map(|a| number_of(state, a)),
        customer_id: v.attributes.get("customer_id").cloned(),
        conversation_id: v.attributes.get("conversation_id").cloned(),
    }
}

fn stored_dto(row: TaskRow) -> TaskDto {
    let attributes: BTreeMap<String, String> =
        serde_json::from_str(&row.attributes).unwrap_or_default();
    TaskDto {
        id: row.id.to_string(),
        channel: row.channel,
        queue: row.queue,
        customer: row.customer,
        priority: u32::try_from(row.priority).unwrap_or(0),
        customer_id: attributes.get("customer_id").cloned(),
        conversation_id: attributes.get("conversation_id").cloned(),
        attributes,
        arrived_at_ms: row.arrived_at_ms,
        deadline_ms: row.deadline_ms,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        state: row.state,
        agent: None,
    }
}

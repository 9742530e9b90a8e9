//! Queues and their live state (waiting tasks, counters since start, calendar).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{Listing, Page};
use crate::api::extract::{Id, Params};
use crate::api::{ApiError, ApiState};
use crate::routing::QueueStatus;

/// A queue now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueDto {
    name: String,
    /// Whether its business hours are open now.
    open: bool,
    /// Tasks waiting, best first (task ids).
    waiting: Vec<String>,
    /// Counters since start.
    stats: QueueStatsDto,
}

/// A queue's counters since start.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueStatsDto {
    entered: u64,
    offered: u64,
    answered: u64,
    answered_within_threshold: u64,
    abandoned: u64,
    overflowed: u64,
    sla_breaches: u64,
}

impl From<QueueStatus> for QueueDto {
    fn from(q: QueueStatus) -> Self {
        QueueDto {
            name: q.name,
            open: q.open,
            waiting: q.waiting.iter().map(|t| t.0.to_string()).collect(),
            stats: QueueStatsDto {
                entered: q.stats.entered,
                offered: q.stats.offered,
                answered: q.stats.answered,
                answered_within_threshold: q.stats.answered_within_threshold,
                abandoned: q.stats.abandoned,
                overflowed: q.stats.overflowed,
                sla_breaches: q.stats.sla_breaches,
            },
        }
    }
}

/// Every queue with its live state.
#[utoipa::path(get, operation_id = "queues_list", path = "/api/v1/queues", tag = "queues", params(Page),
    responses((status = 200, body = Listing<QueueDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<QueueDto>>, ApiError> {
    page.checked()?;
    let names: Vec<String> = state
        .acd
        .setup()
        .queues
        .iter()
        .map(|q| q.name.clone())
        .collect();
    let mut items = Vec::with_capacity(names.len());
    for name in names {
        if let Some(status) = state.acd.queue_status(&name).await? {
            items.push(QueueDto::from(status));
        }
    }
    Ok(Json(page.of(items)?))
}

/// One queue.
#[utoipa::path(get, operation_id = "queues_one", path = "/api/v1/queues/{name}", tag = "queues",
    params(("name" = String, Path, description = "The queue's name")),
    responses((status = 200, body = QueueDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Id(name): Id<String>,
) -> Result<Json<QueueDto>, ApiError> {
    let status = state
        .acd
        .queue_status(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no queue {name:?}")))?;
    Ok(Json(status.into()))
}

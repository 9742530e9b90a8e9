//! Webhook subscriptions: list, create (with a signing secret per subscription, returned in
//! the answer), read, update, delete (deactivate: pending events wait, nothing new is
//! queued). Subscriptions from the config file (`config:*`) are read-only here.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Listing, Page, now_ms};
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::cti::webhook::{CONFIG_SUBSCRIPTION_PREFIX, EventKind};
use crate::store::SubscriptionRow;

/// A subscription as listed (the secret is shown only when created or rotated).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookDto {
    id: String,
    url: String,
    /// Event types delivered; empty: all.
    events: Vec<String>,
    active: bool,
    created_at_ms: i64,
    /// The HMAC-SHA256 signing secret: present only in the answer that set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// A subscription to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `http://` or `https://` URL events are POSTed to.
    url: String,
    /// Event types (e.g. `call.ended`); absent or empty: all.
    #[serde(default)]
    events: Vec<String>,
    /// The signing secret (at least 16 characters); absent: a random one is made.
    secret: Option<String>,
}

/// Changes to a subscription.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    url: Option<String>,
    events: Option<Vec<String>>,
    active: Option<bool>,
    /// A new secret; `"rotate"` makes a random one.
    secret: Option<String>,
}

/// Every subscription.
#[utoipa::path(get, operation_id = "webhooks_list", path = "/api/v1/webhooks", tag = "webhooks", params(Page),
    responses((status = 200, body = Listing<WebhookDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<WebhookDto>>, ApiError> {
    let rows = state.store.subscriptions().await?;
    Ok(Json(
        page.of(rows.into_iter().map(|r| dto(r, false)).collect())?,
    ))
}

/// Creates a subscription; the answer carries its secret.
#[utoipa::path(post, operation_id = "webhooks_create", path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = WebhookDto), crate::api::openapi::Errors))]
pub async fn create(
    State(state): State<ApiState>,
    Body(new): Body<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookDto>), ApiError> {
    let row = SubscriptionRow {
        id: format!("whk_{}", hex::encode(rand::random::<[u8; 8]>())),
        url: checked_url(&new.url, state.allow_private_webhooks)?,
        secret: checked_secret(new.secret)?,
        events: checked_events(new.events)?,
        active: true,
        created_at_ms: now_ms(),
    };
    state.store.upsert_subscription(&row).await?;
    Ok((StatusCode::CREATED, Json(dto(row, true))))
}

/// One subscription.
#[utoipa::path(get, operation_id = "webhooks_one", path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 200, body = WebhookDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Id(id): Id<String>,
) -> Result<Json<WebhookDto>, ApiError> {
    Ok(Json(dto(find(&state, &id).await?, false)))
}

/// Changes a subscription's URL, filter, activity or secret.
#[utoipa::path(put, operation_id = "webhooks_update", path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")), request_body = WebhookUpdate,
    responses((status = 200, body = WebhookDto), crate::api::openapi::Errors))]
pub async fn update(
    State(state): State<ApiState>,
    Id(id): Id<String>,
    Body(change): Body<WebhookUpdate>,
) -> Result<Json<WebhookDto>, ApiError> {
    let mut row = editable(&state, &id).await?;
    if let Some(url) = change.url {
        row.url = checked_url(&url, state.allow_private_webhooks)?;
    }
    if let Some(events) = change.events {
        row.events = checked_events(events)?;
    }
    if let Some(active) = change.active {
        row.active = active;
    }
    let rotated = change.secret.is_some();
    if let Some(secret) = change.secret {
        row.secret = checked_secret((secret != "rotate").then_some(secret))?;
    }
    state.store.upsert_subscription(&row).await?;
    Ok(Json(dto(row, rotated)))
}

/// Deactivates a subscription (its pending events wait in case it comes back).
#[utoipa::path(delete, operation_id = "webhooks_remove", path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 204, description = "Deactivated"), crate::api::openapi::Errors))]
pub async fn remove(
    State(state): State<ApiState>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    editable(&state, &id).await?;
    state.store.deactivate_subscription(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find(state: &ApiState, id: &str) -> Result<SubscriptionRow, ApiError> {
    state
        .store
        .subscriptions()
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no subscription {id:?}")))
}

async fn editable(state: &ApiState, id: &str) -> Result<SubscriptionRow, ApiError> {
    let row = find(state, id).await?;
    if row.id.starts_with(CONFIG_SUBSCRIPTION_PREFIX) {
        return Err(ApiError::Conflict(
            "subscriptions from the config file are changed there".into(),
        ));
    }
    Ok(row)
}

fn dto(row: SubscriptionRow, with_secret: bool) -> WebhookDto {
    WebhookDto {
        id: row.id,
        url: row.url,
        events: row.events,
        active: row.active,
        created_at_ms: row.created_at_ms,
        secret: with_secret.then_some(row.secret),
    }
}

/// An http(s) URL, not pointing at a loopback, private or link-local address unless
/// `allow_private` (`[cti] allow_private_webhooks`).
fn checked_url(url: &str, allow_private: bool) -> Result<String, ApiError> {
    if let Some(class) = crate::security::destination::private_destination(url)
        && !allow_private
    {
        return Err(ApiError::BadRequest(format!(
            "{url:?} points at a {class} address; webhooks there are not allowed \
             (cti.allow_private_webhooks)"
        )));
    }
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u.to_string()),
        _ => Err(ApiError::BadRequest(format!(
            "{url:?} is not an http(s) URL"
        ))),
    }
}

fn checked_events(events: Vec<String>) -> Result<Vec<String>, ApiError> {
    for kind in &events {
        kind.parse::<EventKind>().map_err(ApiError::BadRequest)?;
    }
    Ok(events)
}

fn checked_secret(secret: Option<String>) -> Result<String, ApiError> {
    match secret {
        None => Ok(format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>()))),
        Some(s) if s.len() >= 16 && s.len() <= 256 => Ok(s),
        Some(_) => Err(ApiError::BadRequest(
            "secret must be 16..=256 characters".into(),
        )),
    }
}

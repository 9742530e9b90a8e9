//! API tokens (admin only): list, create (the secret is returned once), revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Listing, Page, now_ms};
use crate::api::auth::{Role, hash_token, new_secret};
use crate::api::extract::{Body, Id, Params};
use crate::api::{ApiError, ApiState};
use crate::store::TokenRow;

/// A token as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenDto {
    id: String,
    name: String,
    role: Role,
    /// For agent tokens: the agent's extension number.
    agent: Option<String>,
    created_at_ms: i64,
    revoked_at_ms: Option<i64>,
}

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A label for people.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    role: Role,
    /// Required for, and only for, the agent role: a configured agent's extension.
    agent: Option<String>,
}

/// A new token: `token` is the secret, shown only in this answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    info: TokenDto,
    token: String,
}

fn dto(row: TokenRow) -> TokenDto {
    TokenDto {
        role: Role::parse(&row.role).unwrap_or(Role::Agent),
        id: row.id,
        name: row.name,
        agent: row.agent,
        created_at_ms: row.created_at_ms,
        revoked_at_ms: row.revoked_at_ms,
    }
}

/// Every token, revoked ones included.
#[utoipa::path(get, operation_id = "tokens_list", path = "/api/v1/tokens", tag = "tokens", params(Page),
    responses((status = 200, body = Listing<TokenDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<TokenDto>>, ApiError> {
    let rows = state.store.tokens().await?;
    Ok(Json(page.of(rows.into_iter().map(dto).collect())?))
}

/// Creates a token and returns its secret (once).
#[utoipa::path(post, operation_id = "tokens_create", path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), crate::api::openapi::Errors))]
pub async fn create(
    State(state): State<ApiState>,
    Body(new): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::BadRequest(
            "name must be 1..=100 characters".into(),
        ));
    }
    match (&new.role, &new.agent) {
        (Role::Agent, Some(number)) if state.acd.agent_id(number).is_some() => {}
        (Role::Agent, _) => {
            return Err(ApiError::BadRequest(
                "an agent token needs `agent`: a configured agent's extension".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::BadRequest(
                "only agent tokens take `agent`".into(),
            ));
        }
        (_, None) => {}
    }
    let secret = new_secret();
    let row = TokenRow {
        id: format!("tok_{}", hex::encode(rand::random::<[u8; 8]>())),
        name: name.to_string(),
        role: new.role.as_str().to_string(),
        agent: new.agent,
        token_hash: hash_token(&secret),
        created_at_ms: now_ms(),
        revoked_at_ms: None,
    };
    state.store.upsert_token(&row).await?;
    let info = dto(row);
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            info,
            token: secret,
        }),
    ))
}

/// Revokes a token; it authenticates nothing from now on.
#[utoipa::path(delete, operation_id = "tokens_revoke", path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), crate::api::openapi::Errors))]
pub async fn revoke(
    State(state): State<ApiState>,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    if id.starts_with("config:") {
        return Err(ApiError::Conflict(
            "tokens from the config file are changed there".into(),
        ));
    }
    if state.store.revoke_token(&id, now_ms()).await? {
        state.revocations.announce(&id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no live token {id:?}")))
    }
}

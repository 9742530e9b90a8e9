//! Who is calling: bearer tokens with roles, checked on every `/api/v1` request.
//!
//! Owns: `Role`, `Principal`, the `authenticate` middleware (token -> principal; the token
//! comes as a bearer header, or as the pages' session cookie, see `api::session`; failures
//! counted per client IP by `limiter::FailureLimiter`, which refuses a failing IP's wrong
//! credentials but never a right one), the per-route role gate `allow`, and
//! seeding the config file's tokens into the store.
//! Must not touch: SQL (the store's `tokens` repository), what handlers do with a principal.
//!
//! Roles: `admin` (everything, tokens included), `supervisor` (agents, queues, tasks,
//! recordings, customers, events of everyone), `integration` (the CRM: read state, customers,
//! webhooks, events), `agent` (bound to one extension: its own state, tasks and events only).
//! Every route declares its roles with `allow(...)` in `v1::router`; handlers narrow an agent
//! to its own resources with `Principal::require_self`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::limiter::FailureLimiter;
use super::session;
use super::{ApiError, ApiState};
use crate::config::HttpConfig;
use crate::store::{Store, StoreError, TokenRow};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One agent: their own state, tasks, calls and events.
    Agent,
    /// Everyone's agents, queues and tasks.
    Supervisor,
    /// Everything, including tokens.
    Admin,
    /// The CRM: state, customers, webhooks, events.
    Integration,
}

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Integration => "integration",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        [
            Role::Agent,
            Role::Supervisor,
            Role::Admin,
            Role::Integration,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
    }
}

/// Every role.
pub const ANY: &[Role] = &[
    Role::Agent,
    Role::Supervisor,
    Role::Admin,
    Role::Integration,
];
/// People who run the floor.
pub const STAFF: &[Role] = &[Role::Agent, Role::Supervisor, Role::Admin];
/// Everyone but agents.
pub const OBSERVERS: &[Role] = &[Role::Supervisor, Role::Admin, Role::Integration];
/// Who may place calls: agents (from their own extension), supervisors, admins, the CRM.
pub const CALLERS: &[Role] = ANY;
/// Supervisors and admins.
pub const MANAGERS: &[Role] = &[Role::Supervisor, Role::Admin];
/// Admins and the CRM.
pub const INTEGRATORS: &[Role] = &[Role::Admin, Role::Integration];
/// Admins only.
pub const ADMINS: &[Role] = &[Role::Admin];

/// The authenticated caller, put in the request's extensions by `authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's id.
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// For agents: their extension number.
    pub agent: Option<String>,
}

impl Principal {
    /// Fails unless the caller may act for agent `number`: an agent only for itself, other
    /// roles (already admitted by the route's `allow`) for anyone.
    pub fn require_self(&self, number: &str) -> Result<(), ApiError> {
        match (&self.role, &self.agent) {
            (Role::Agent, Some(own)) if own == number => Ok(()),
            (Role::Agent, _) => Err(ApiError::Forbidden(
                "an agent may only act on their own resources".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The agent this caller is restricted to, if it is an agent.
    pub fn own_agent(&self) -> Option<&str> {
        (self.role == Role::Agent).then_some(self.agent.as_deref().unwrap_or(""))
    }
}

/// Middleware: resolves the bearer token to a `Principal`, or answers 401 (counting the
/// failure for the client's IP) or 429 (that IP failed too often). A valid token is always
/// admitted, blocked IP or not: the limiter blocks failing credentials, so one misconfigured
/// client behind an office's NAT does not lock out every agent and the CRM behind it.
pub async fn authenticate(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let ip = client_ip(&request);
    let presented = match bearer(&request).or_else(|| query_token(&request)) {
        Some(token) => Some(token),
        None => match session::cookie_secret(request.headers()) {
            Some(secret) => {
                session::require_csrf(request.method(), request.headers(), &secret)?;
                Some(secret)
            }
            None => None,
        },
    };
    let row = match presented {
        Some(token) => state.store.token_by_hash(&hash_token(&token)).await?,
        None => None,
    };
    let Some(principal) = row.and_then(|row| principal_of(&row)) else {
        let mut limiter = lock(&state.limiter);
        let now = Instant::now();
        if let Some(retry_after) = limiter.blocked_for(now, &ip) {
            return Err(ApiError::TooManyRequests { retry_after });
        }
        return Err(match limiter.handle_failure(now, ip) {
            Some(retry_after) => ApiError::TooManyRequests { retry_after },
            None => ApiError::Unauthorized,
        });
    };
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

/// Tells open streams that a token was revoked (a broadcast of token ids; streams of other
/// tokens ignore it). Clone it freely.
#[derive(Debug, Clone)]
pub struct Revocations(tokio::sync::broadcast::Sender<String>);

impl Default for Revocations {
    fn default() -> Self {
        Revocations(tokio::sync::broadcast::channel(64).0)
    }
}

impl Revocations {
    /// Announces that token `id` was revoked.
    pub fn announce(&self, id: &str) {
        let _ = self.0.send(id.to_string()); // Nobody listening: no stream to end.
    }

    /// A receiver of later announcements.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.0.subscribe()
    }
}

/// Route layer: admits only `roles` (403 otherwise). Runs after `authenticate`.
pub async fn allow(
    State(roles): State<&'static [Role]>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let role = request
        .extensions()
        .get::<Principal>()
        .map(|p| p.role)
        .ok_or(ApiError::Unauthorized)?;
    if !roles.contains(&role) {
        return Err(ApiError::Forbidden(format!(
            "the {} role may not use this endpoint",
            role.as_str()
        )));
    }
    Ok(next.run(request).await)
}

/// Hex SHA-256 of a token (what the store keeps).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random secret: `ctk_` and 64 hex digits (256 bits).
pub fn new_secret() -> String {
    format!("ctk_{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// Stores the config file's tokens (`http.api_token`, unless empty, as `config:admin`,
/// `[[http.tokens]]` as `config:<name>`) and revokes config tokens no longer configured (so
/// the demo's disappear once a config file replaces the demo). Fails on an unknown role, an
/// empty token or an agent token without an agent.
pub async fn seed_config_tokens(
    store: &Store,
    http: &HttpConfig,
    now_ms: i64,
) -> Result<(), SeedError> {
    let mut wanted = Vec::new();
    if !http.api_token.is_empty() {
        wanted.push(TokenRow {
            id: "config:admin".into(),
            name: "admin".into(),
            role: Role::Admin.as_str().into(),
            agent: None,
            token_hash: hash_token(&http.api_token),
            created_at_ms: now_ms,
            revoked_at_ms: None,
        });
    }
    for token in &http.tokens {
        let role = Role::parse(&token.role)
            .ok_or_else(|| SeedError::Invalid(format!("token {:?}: unknown role", token.name)))?;
        if token.token.is_empty() {
            return Err(SeedError::Invalid(format!(
                "token {:?} is empty",
                token.name
            )));
        }
        if (role == Role::Agent) != token.agent.is_some() {
            return Err(SeedError::Invalid(format!(
                "token {:?}: `agent` is required for, and only for, the agent role",
                token.name
            )));
        }
        wanted.push(TokenRow {
            id: format!("config:{}", token.name),
            name: token.name.clone(),
            role: role.as_str().into(),
            agent: token.agent.clone(),
            token_hash: hash_token(&token.token),
            created_at_ms: now_ms,
            revoked_at_ms: None,
        });
    }
    for row in &wanted {
        store.upsert_token(row).await?;
    }
    for stored in store.tokens().await? {
        let stale = stored.id.starts_with("config:") && !wanted.iter().any(|w| w.id == stored.id);
        if stale && stored.revoked_at_ms.is_none() {
            store.revoke_token(&stored.id, now_ms).await?;
        }
    }
    Ok(())
}

/// Why the config's tokens could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// A token in the config is wrong (the operator's mistake).
    #[error("http.tokens: {0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn principal_of(row: &TokenRow) -> Option<Principal> {
    Some(Principal {
        token_id: row.id.clone(),
        role: Role::parse(&row.role)?,
        agent: row.agent.clone(),
    })
}

fn bearer(request: &Request) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Browsers cannot set headers on a WebSocket: `/api/v1/events?access_token=...` is accepted
/// there, on a WebSocket upgrade, and nowhere else. Nothing logs request URIs, so the token
/// in the query is never written to a log.
fn query_token(request: &Request) -> Option<String> {
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade || !request.uri().path().ends_with("/events") {
        return None;
    }
    request.uri().query()?.split('&').find_map(|pair| {
        pair.strip_prefix("access_token=")
            .map(|t| t.to_string())
            .filter(|t| !t.is_empty())
    })
}

fn client_ip(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

fn lock(limiter: &Arc<Mutex<FailureLimiter>>) -> std::sync::MutexGuard<'_, FailureLimiter> {
    // A panic while holding this lock cannot leave the counts inconsistent; keep serving.
    limiter
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

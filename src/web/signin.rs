//! Signing in to the pages: an agent or supervisor gives their extension and password and
//! gets a browser session.
//!
//! Owns: the accounts that may sign in (agents and supervisors of the config), password
//! checks (an argon2 PHC hash in `web_password`, else the account's SIP password), the
//! per-account limit of failed sign-ins, and minting and revoking session tokens.
//! Must not touch: how the API checks a token (`api::auth`) or the cookie's rules
//! (`api::session`).
//!
//! A session is an API token like any other (role `agent` bound to the extension, or
//! `supervisor`), named `session:<extension>`, stored hashed and revoked at sign-out; the
//! browser holds its secret only in an HttpOnly, `SameSite=Strict` cookie and proves each
//! state-changing request with the CSRF token this module returns.

use std::collections::HashMap;
use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::WebState;
use crate::api::ApiError;
use crate::api::auth::{Role, hash_token, new_secret};
use crate::api::session::{self, constant_time_eq};
use crate::config::{Extension, Role as ExtensionRole};
use crate::cti::webhook::{SystemClock, WallClock};
use crate::store::TokenRow;

/// Who may sign in, by extension.
#[derive(Debug, Default)]
pub struct Accounts {
    by_number: HashMap<String, Account>,
}

/// One account of the pages.
#[derive(Debug, Clone)]
pub struct Account {
    /// The extension number.
    pub number: String,
    /// The display name.
    pub name: String,
    /// `agent` or `supervisor`.
    pub role: Role,
    secret: Secret,
}

#[derive(Debug, Clone)]
enum Secret {
    /// The SIP digest password (the same account's password).
    Sip(String),
    /// An argon2 PHC string.
    Hash(String),
}

impl Accounts {
    /// The agents and supervisors among `extensions` (plain users have no desktop).
    pub fn from_extensions(extensions: &[Extension]) -> Accounts {
        let by_number = extensions
            .iter()
            .filter_map(|ext| {
                let role = match ext.role {
                    ExtensionRole::Agent => Role::Agent,
                    ExtensionRole::Supervisor => Role::Supervisor,
                    ExtensionRole::User => return None,
                };
                let secret = match &ext.web_password {
                    Some(hash) => Secret::Hash(hash.clone()),
                    None => Secret::Sip(ext.password.clone()),
                };
                let name = ext.name.clone();
                Some((
                    ext.number.clone(),
                    Account {
                        number: ext.number.clone(),
                        name,
                        role,
                        secret,
                    },
                ))
            })
            .collect();
        Accounts { by_number }
    }

    /// The account `number` if `password` is its password. Argon2 is slow on purpose: call
    /// this off the async threads.
    pub fn verify(&self, number: &str, password: &str) -> Option<&Account> {
        let account = self.by_number.get(number)?;
        let ok = match &account.secret {
            Secret::Sip(expected) => constant_time_eq(expected.as_bytes(), password.as_bytes()),
            Secret::Hash(phc) => PasswordHash::new(phc).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            }),
        };
        ok.then_some(account)
    }
}

/// An argon2id PHC string of `password` with a random salt (for `web_password`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .expect("16 bytes are a valid salt length");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2's default parameters accept any password")
        .to_string()
}

/// `POST /auth/login` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    extension: String,
    password: String,
}

/// Who is signed in, and the token that proves state changes.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    extension: String,
    name: String,
    role: &'static str,
    csrf: String,
}

/// `POST /auth/login`: 200 with the session cookie, 401 for a wrong extension or password,
/// 429 when that account failed too often.
pub async fn login(
    State(state): State<WebState>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(credentials) =
        body.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let key = credentials.extension.trim().to_string();
    if let Some(retry_after) = limiter(&state).blocked_for(Instant::now(), &key) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let accounts = state.accounts.clone();
    let number = key.clone();
    let account = tokio::task::spawn_blocking(move || {
        accounts.verify(&number, &credentials.password).cloned()
    })
    .await
    .map_err(|err| ApiError::Internal(format!("password check failed: {err}")))?;
    let Some(account) = account else {
        return Err(match limiter(&state).handle_failure(Instant::now(), key) {
            Some(retry_after) => ApiError::TooManyRequests { retry_after },
            None => ApiError::Unauthorized,
        });
    };
    let secret = new_secret();
    state
        .store
        .upsert_token(&session_row(&account, &secret))
        .await?;
    tracing::info!(extension = %account.number, "signed in to the pages");
    let info = info_of(&account.number, &account.name, account.role, &secret);
    Ok(with_cookie(
        Json(info).into_response(),
        Some(&secret),
        state.secure_cookies,
    ))
}

/// `GET /auth/session`: who the cookie belongs to (401 without a live session).
pub async fn session(
    State(state): State<WebState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, ApiError> {
    let (secret, row) = live_session(&state, &headers).await?;
    let number = row
        .name
        .strip_prefix("session:")
        .unwrap_or_default()
        .to_string();
    let name = state
        .accounts
        .by_number
        .get(&number)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let role = Role::parse(&row.role).ok_or(ApiError::Unauthorized)?;
    Ok(Json(info_of(&number, &name, role, &secret)))
}

/// `DELETE /auth/session`: signs out (revokes the session's token, clears the cookie).
pub async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (secret, row) = live_session(&state, &headers).await?;
    session::require_csrf(&Method::DELETE, &headers, &secret)?;
    state.store.revoke_token(&row.id, now_ms()).await?;
    let response = StatusCode::NO_CONTENT.into_response();
    Ok(with_cookie(response, None, state.secure_cookies))
}

async fn live_session(
    state: &WebState,
    headers: &HeaderMap,
) -> Result<(String, TokenRow), ApiError> {
    let secret = session::cookie_secret(headers).ok_or(ApiError::Unauthorized)?;
    let row = state
        .store
        .token_by_hash(&hash_token(&secret))
        .await?
        .filter(|row| row.name.starts_with("session:"))
        .ok_or(ApiError::Unauthorized)?;
    Ok((secret, row))
}

fn session_row(account: &Account, secret: &str) -> TokenRow {
    TokenRow {
        id: format!("ses_{}", hex::encode(rand::random::<[u8; 8]>())),
        name: format!("session:{}", account.number),
        role: account.role.as_str().to_string(),
        agent: (account.role == Role::Agent).then(|| account.number.clone()),
        token_hash: hash_token(secret),
        created_at_ms: now_ms(),
        revoked_at_ms: None,
    }
}

fn info_of(number: &str, name: &str, role: Role, secret: &str) -> SessionInfo {
    SessionInfo {
        extension: number.to_string(),
        name: name.to_string(),
        role: role.as_str(),
        csrf: session::csrf_token(secret),
    }
}

fn with_cookie(mut response: Response, secret: Option<&str>, secure: bool) -> Response {
    if let Ok(value) = HeaderValue::from_str(&session::set_cookie(secret, secure)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn limiter(state: &WebState) -> std::sync::MutexGuard<'_, crate::api::FailureLimiter<String>> {
    // A panic while holding this lock cannot leave the counts inconsistent; keep serving.
    state
        .limiter
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(number: &str, role: ExtensionRole, web_password: Option<String>) -> Extension {
        Extension {
            number: number.into(),
            password: format!("sip{number}"),
            name: format!("User {number}"),
            role,
            record: Default::default(),
            skills: Default::default(),
            proficiency: Default::default(),
            web_password,
        }
    }

    #[test]
    fn agents_sign_in_with_their_sip_password_or_their_argon2_web_password() {
        let accounts = Accounts::from_extensions(&[
            extension("1001", ExtensionRole::Agent, None),
            extension(
                "2001",
                ExtensionRole::Supervisor,
                Some(hash_password("correct horse")),
            ),
            extension("3001", ExtensionRole::User, None),
        ]);
        assert_eq!(
            accounts.verify("1001", "sip1001").map(|a| a.role),
            Some(Role::Agent)
        );
        assert!(accounts.verify("1001", "sip1002").is_none());
        assert_eq!(
            accounts.verify("2001", "correct horse").map(|a| a.role),
            Some(Role::Supervisor)
        );
        assert!(
            accounts.verify("2001", "sip2001").is_none(),
            "the hash replaces the SIP password"
        );
        assert!(
            accounts.verify("3001", "sip3001").is_none(),
            "plain users have no desktop"
        );
        assert!(accounts.verify("9999", "anything").is_none());
    }

    #[test]
    fn a_hash_is_salted_and_verifiable() {
        let (a, b) = (hash_password("pw"), hash_password("pw"));
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
    }
}

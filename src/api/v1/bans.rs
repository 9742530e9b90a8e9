//! SIP address bans (admins and supervisors): list the addresses banned for failed
//! authentication, and lift a ban (a locked-out office NAT after a wrong password).

use std::net::IpAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::{Listing, Page};
use crate::api::extract::{Id, Params};
use crate::api::{ApiError, ApiState};
use crate::sip::auth::AuthGuard;

/// A banned source address.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BanDto {
    /// The IP address.
    address: String,
    /// Seconds until the ban ends by itself.
    remaining_secs: u64,
}

/// Addresses banned now, by address.
#[utoipa::path(get, operation_id = "bans_list", path = "/api/v1/bans", tag = "bans", params(Page),
    responses((status = 200, body = Listing<BanDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<BanDto>>, ApiError> {
    let items = guard(&state)?
        .bans(Instant::now())
        .into_iter()
        .map(|(ip, left)| BanDto {
            address: ip.to_string(),
            remaining_secs: left.as_secs(),
        })
        .collect();
    Ok(Json(page.of(items)?))
}

/// Lifts the ban of one address.
#[utoipa::path(delete, operation_id = "bans_lift", path = "/api/v1/bans/{address}", tag = "bans",
    params(("address" = String, Path, description = "The banned IP address")),
    responses((status = 204, description = "Lifted"), crate::api::openapi::Errors))]
pub async fn lift(
    State(state): State<ApiState>,
    Id(address): Id<String>,
) -> Result<StatusCode, ApiError> {
    // Anything that is not an IP address names no ban: 404 like an unbanned address.
    let ip: IpAddr = address
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no ban for {address:?}")))?;
    let guard = guard(&state)?;
    let now = Instant::now();
    if !guard.lift_ban(now, ip) {
        return Err(ApiError::NotFound(format!("{ip} is not banned")));
    }
    let banned = i64::try_from(guard.banned_count(now)).unwrap_or(i64::MAX);
    state.metrics.banned_addresses.set(banned);
    Ok(StatusCode::NO_CONTENT)
}

fn guard(state: &ApiState) -> Result<&AuthGuard, ApiError> {
    state
        .calls
        .as_ref()
        .map(|calls| calls.guard.as_ref())
        .ok_or_else(|| ApiError::Unavailable("SIP is not running".into()))
}

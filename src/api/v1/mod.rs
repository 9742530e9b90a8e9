//! `/api/v1`: the REST API. Every route declares the roles it admits (`gated`); handlers
//! narrow agents to their own resources. Lists take `limit` (1..=1000, default 50) and
//! `offset` and answer `{"items": [...], "limit", "offset", "next_offset"}` (`next_offset`
//! null on the last page). Errors are `{"error": {"code", "message"}}` (see `api::error`).

pub(super) mod agents;
pub(super) mod bans;
pub(super) mod calls;
pub(super) mod conversations;
pub(super) mod customer_profiles;
pub(super) mod customers;
pub(super) mod queues;
pub(super) mod recordings;
pub(super) mod records;
pub(super) mod reports;
pub(super) mod sms_generic;
pub(super) mod tasks;
pub(super) mod tokens;
pub(super) mod webhooks;

use axum::Router;
use axum::middleware;
use axum::routing::{MethodRouter, delete, get, post, put};
use serde::{Deserialize, Serialize};

use super::auth::{self, ADMINS, ANY, CALLERS, INTEGRATORS, MANAGERS, OBSERVERS, Role, STAFF};
use super::{ApiError, ApiState};

/// The routes, each with the roles it admits.
pub(super) fn router(state: ApiState) -> Router<ApiState> {
    Router::new()
        .route(
            "/tokens",
            gated(ADMINS, get(tokens::list)).merge(gated(ADMINS, post(tokens::create))),
        )
        .route("/tokens/{id}", gated(ADMINS, delete(tokens::revoke)))
        .route("/bans", gated(MANAGERS, get(bans::list)))
        .route("/bans/{address}", gated(ADMINS, delete(bans::lift)))
        .route("/agents", gated(ANY, get(agents::list)))
        .route("/agents/{number}", gated(ANY, get(agents::one)))
        .route("/agents/{number}/login", gated(STAFF, post(agents::login)))
        .route(
            "/agents/{number}/logout",
            gated(STAFF, post(agents::logout)),
        )
        .route(
            "/agents/{number}/state",
            gated(STAFF, put(agents::set_state)),
        )
        .route(
            "/calls",
            gated(CALLERS, post(calls::create)).merge(gated(ANY, get(calls::list))),
        )
        .route("/calls/{id}/hangup", gated(CALLERS, post(calls::hangup)))
        .route(
            "/calls/{id}/recording",
            gated(CALLERS, post(calls::recording)),
        )
        .route("/calls/{id}/hold", gated(CALLERS, post(calls::hold)))
        .route("/calls/{id}/unhold", gated(CALLERS, post(calls::unhold)))
        .route(
            "/calls/{id}/transfer",
            gated(CALLERS, post(calls::transfer)),
        )
        .route(
            "/calls/{id}/transfer/complete",
            gated(CALLERS, post(calls::transfer_complete)),
        )
        .route(
            "/calls/{id}/transfer/cancel",
            gated(CALLERS, post(calls::transfer_cancel)),
        )
        .route("/queues", gated(ANY, get(queues::list)))
        .route("/queues/{name}", gated(ANY, get(queues::one)))
        .route("/tasks", gated(ANY, get(tasks::list)))
        .route("/tasks/{id}", gated(ANY, get(tasks::one)))
        .route("/tasks/{id}/accept", gated(STAFF, post(tasks::accept)))
        .route("/tasks/{id}/reject", gated(STAFF, post(tasks::reject)))
        .route("/tasks/{id}/transfer", gated(STAFF, post(tasks::transfer)))
        .route("/tasks/{id}/complete", gated(STAFF, post(tasks::complete)))
        .route("/recordings", gated(OBSERVERS, get(recordings::list)))
        .route("/recordings/{id}", gated(OBSERVERS, get(recordings::one)))
        .route(
            "/recordings/{id}/audio",
            gated(OBSERVERS, get(recordings::audio)),
        )
        .route("/customers/lookup", gated(ANY, get(customers::lookup)))
        .route(
            "/customers/{id}/history",
            gated(ANY, get(customers::history)),
        )
        .route("/customers/{id}", gated(ANY, get(customer_profiles::one)))
        .route(
            "/customers/{id}/timeline",
            gated(ANY, get(customer_profiles::timeline)),
        )
        .route(
            "/customers/{id}/notes",
            gated(STAFF, post(customer_profiles::add_note)),
        )
        .route(
            "/customers/{id}/merge",
            gated(STAFF, post(customer_profiles::merge)),
        )
        .route(
            "/customers/{id}/unmerge",
            gated(STAFF, post(customer_profiles::unmerge)),
        )
        .route("/conversations", gated(ANY, get(conversations::list)))
        .route("/conversations/{id}", gated(ANY, get(conversations::one)))
        .route(
            "/conversations/{id}/messages",
            gated(ANY, get(conversations::messages))
                .merge(gated(STAFF, post(conversations::reply))),
        )
        .route(
            "/webhooks",
            gated(INTEGRATORS, get(webhooks::list))
                .merge(gated(INTEGRATORS, post(webhooks::create))),
        )
        .route(
            "/webhooks/{id}",
            gated(INTEGRATORS, get(webhooks::one))
                .merge(gated(INTEGRATORS, put(webhooks::update)))
                .merge(gated(INTEGRATORS, delete(webhooks::remove))),
        )
        .route("/cdrs", gated(OBSERVERS, get(records::list_cdrs)))
        .route(
            "/registrations",
            gated(OBSERVERS, get(records::list_registrations)),
        )
        .route("/events", gated(ANY, get(super::ws::events)))
        .route("/reports/queues", gated(MANAGERS, get(reports::queues)))
        .route("/reports/agents", gated(MANAGERS, get(reports::agents)))
        .route("/reports/channels", gated(MANAGERS, get(reports::channels)))
        .layer(middleware::from_fn_with_state(state, auth::authenticate))
}

/// `route` admitting only `roles`.
fn gated(roles: &'static [Role], route: MethodRouter<ApiState>) -> MethodRouter<ApiState> {
    route.layer(middleware::from_fn_with_state(roles, auth::allow))
}

/// `?limit=&offset=` of a list.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Page {
    /// Items per page, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1_000_000_000)]
    offset: Option<i64>,
}

impl Page {
    /// `(limit, offset)`, or 400 when out of range.
    fn checked(self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(50);
        let offset = self.offset.unwrap_or(0);
        if !(1..=1000).contains(&limit) || !(0..=1_000_000_000).contains(&offset) {
            return Err(ApiError::BadRequest(
                "limit must be 1..=1000 and offset 0..=1000000000".into(),
            ));
        }
        Ok((limit, offset))
    }

    /// One page of `all`.
    fn of<T>(self, all: Vec<T>) -> Result<Listing<T>, ApiError> {
        let (limit, offset) = self.checked()?;
        let total = all.len() as i64;
        let items: Vec<T> = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(0))
            .collect();
        Ok(Listing::new(items, limit, offset, offset + limit < total))
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Listing<T> {
    /// The page's items.
    items: Vec<T>,
    /// The page size asked for.
    limit: i64,
    /// Items skipped.
    offset: i64,
    /// The `offset` of the next page; null on the last one.
    next_offset: Option<i64>,
}

impl<T> Listing<T> {
    fn new(items: Vec<T>, limit: i64, offset: i64, more: bool) -> Listing<T> {
        Listing {
            items,
            limit,
            offset,
            next_offset: more.then_some(offset + limit),
        }
    }

    /// A page of a query that fetched `limit + 1` rows: the extra row says there is more.
    fn fetched(mut items: Vec<T>, limit: i64, offset: i64) -> Listing<T> {
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(0));
        Listing::new(items, limit, offset, more)
    }
}

/// Unix milliseconds now.
fn now_ms() -> i64 {
    crate::cti::webhook::WallClock::now_ms(&crate::cti::webhook::SystemClock)
}

//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! attributes and the DTOs' `ToSchema` derives, served at `/api/v1/openapi.json` (no token
//! needed). The suite checks it against the running server with schemathesis
//! (`scripts/openapi-check.sh`).

use std::sync::OnceLock;

use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, v1, ws};

/// The error body every failure carries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `rate_limited`, `unavailable`, `internal`, ...).
    code: String,
    /// For people.
    message: String,
}

/// The failures any endpoint may answer.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its OpenAPI description is used
pub enum Errors {
    /// Malformed request: bad JSON, query or path.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing or invalid bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token's role (or agent) may not do this.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such resource.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The resource's state does not allow it.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Too many failed authentications from this client; see `Retry-After`.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// Our side failed.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// A dependency (the CRM, the routing engine) is unavailable.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Centrala API", version = "1",
         description = "REST API of the Centrala PBX/CTI gateway. Authenticate with \
                        `Authorization: Bearer <token>`; roles: agent, supervisor, admin, \
                        integration."),
    paths(
        v1::tokens::list, v1::tokens::create, v1::tokens::revoke,
        v1::bans::list, v1::bans::lift,
        v1::agents::list, v1::agents::one, v1::agents::login, v1::agents::logout,
        v1::agents::set_state,
        v1::calls::create, v1::calls::list, v1::calls::hangup, v1::calls::recording,
        v1::calls::hold, v1::calls::unhold, v1::calls::transfer, v1::calls::transfer_complete,
        v1::calls::transfer_cancel,
        v1::queues::list, v1::queues::one,
        v1::tasks::list, v1::tasks::one, v1::tasks::accept, v1::tasks::reject,
        v1::tasks::transfer, v1::tasks::complete,
        v1::recordings::list, v1::recordings::one, v1::recordings::audio,
        v1::customers::lookup, v1::customers::history,
        v1::customer_profiles::one, v1::customer_profiles::timeline,
        v1::customer_profiles::add_note, v1::customer_profiles::merge,
        v1::customer_profiles::unmerge,
        v1::conversations::list, v1::conversations::one, v1::conversations::messages,
        v1::conversations::reply,
        v1::webhooks::list, v1::webhooks::create, v1::webhooks::one, v1::webhooks::update,
        v1::webhooks::remove,
        v1::records::list_cdrs, v1::records::list_registrations,
        v1::reports::queues, v1::reports::agents, v1::reports::channels,
        ws::events,
    ),
    components(schemas(ErrorBody, ErrorDetail, auth::Role)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> impl IntoResponse {
    Json(document())
}

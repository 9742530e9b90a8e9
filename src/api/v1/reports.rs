//! `/api/v1/reports/{queues,agents,channels}`: figures for any past period, recomputed from the
//! stored queue log by `reports::compute`; JSON, or CSV with `Accept: text/csv` or
//! `format=csv`. Supervisors and admins only.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::extract::Params;
use crate::api::{ApiError, ApiState};
use crate::reports::{self, Period, Report, ReportKind, ReportRequest};

/// The query of every report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// Start (inclusive): RFC 3339 (`2026-12-07T08:00:00Z`) or a local date or date-time in
    /// `tz` (`2026-12-07`, `2026-12-07T08:00`); a whole quarter hour.
    from: String,
    /// End (exclusive), same forms as `from`; at most 400 days after it.
    to: String,
    /// `15m`, `1h` (default) or `1d`, cut in `tz`.
    #[param(pattern = "^(15m|1h|1d)$")]
    interval: Option<String>,
    /// IANA time zone of intervals and labels (default `UTC`).
    tz: Option<String>,
    /// Abandons shorter than this many seconds are short abandons (default 5, at most 3600).
    #[param(minimum = 0, maximum = 3600)]
    short_abandon_secs: Option<i64>,
    /// `json` (default) or `csv`; `Accept: text/csv` also selects CSV.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

async fn report(
    state: ApiState,
    kind: ReportKind,
    q: ReportQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let period = Period::parse(
        &q.from,
        &q.to,
        q.interval.as_deref().unwrap_or("1h"),
        q.tz.as_deref().unwrap_or("UTC"),
    )
    .map_err(ApiError::BadRequest)?;
    let short = q.short_abandon_secs.unwrap_or(5);
    if !(0..=3600).contains(&short) {
        return Err(ApiError::BadRequest(
            "short_abandon_secs must be from 0 to 3600".into(),
        ));
    }
    let csv = match q.format.as_deref() {
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
        Some("csv") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format must be json or csv, not {other:?}"
            )));
        }
    };
    let queues = (state.acd.setup().queues.iter())
        .map(|s| {
            let threshold = s.config.service_level_threshold.as_millis() as i64;
            (s.name.clone(), threshold, s.service_level_variant)
        })
        .collect();
    let request = ReportRequest {
        kind,
        period,
        short_abandon_ms: short * 1000,
        queues,
    };
    let report = reports::compute(&state.store, &request).await?;
    if csv {
        let mut response = reports::csv::render(&report).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(response);
    }
    Ok(Json(report).into_response())
}

/// Per queue and interval: offered, answered, abandoned, service levels, ASA, AHT, callbacks.
#[utoipa::path(get, operation_id = "reports_queues", path = "/api/v1/reports/queues", tag = "reports",
    params(ReportQuery),
    responses((status = 200, description = "The report: JSON, or CSV when asked",
        content((Report = "application/json"), (String = "text/csv"))),
        crate::api::openapi::Errors))]
pub async fn queues(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Params(q): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    report(state, ReportKind::Queues, q, &headers).await
}

/// Per agent and interval: the queue figures of the agent's contacts, time and occupancy.
#[utoipa::path(get, operation_id = "reports_agents", path = "/api/v1/reports/agents", tag = "reports",
    params(ReportQuery),
    responses((status = 200, description = "The report: JSON, or CSV when asked",
        content((Report = "application/json"), (String = "text/csv"))),
        crate::api::openapi::Errors))]
pub async fn agents(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Params(q): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    report(state, ReportKind::Agents, q, &headers).await
}

/// Per channel and interval: the queue figures summed over every queue.
#[utoipa::path(get, operation_id = "reports_channels", path = "/api/v1/reports/channels", tag = "reports",
    params(ReportQuery),
    responses((status = 200, description = "The report: JSON, or CSV when asked",
        content((Report = "application/json"), (String = "text/csv"))),
        crate::api::openapi::Errors))]
pub async fn channels(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Params(q): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    report(state, ReportKind::Channels, q, &headers).await
}

//! Recordings: index metadata and the WAV file, with HTTP range requests (RFC 9110 §14) so
//! players can seek: one `bytes=` range per request (206 with `Content-Range`), a range past
//! the end is 416, no or an unusable `Range` header gets the whole file (200).

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{Listing, Page};
use crate::api::extract::{Id, Params};
use crate::api::{ApiError, ApiState};
use crate::store::RecordingRow;

/// A recording's index row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordingDto {
    id: String,
    call_id: String,
    started_at_ms: i64,
    duration_ms: i64,
    size_bytes: i64,
    /// `recording`, `done` or `repaired`.
    state: String,
    /// Where to download the audio.
    audio_url: String,
}

impl From<RecordingRow> for RecordingDto {
    fn from(r: RecordingRow) -> Self {
        RecordingDto {
            audio_url: format!("/api/v1/recordings/{}/audio", r.id),
            id: r.id,
            call_id: r.call_id,
            started_at_ms: r.started_at_ms,
            duration_ms: r.duration_ms,
            size_bytes: r.size_bytes,
            state: r.state,
        }
    }
}

/// Recordings, oldest first.
#[utoipa::path(get, operation_id = "recordings_list", path = "/api/v1/recordings", tag = "recordings", params(Page),
    responses((status = 200, body = Listing<RecordingDto>), crate::api::openapi::Errors))]
pub async fn list(
    State(state): State<ApiState>,
    Params(page): Params<Page>,
) -> Result<Json<Listing<RecordingDto>>, ApiError> {
    let (limit, offset) = page.checked()?;
    let rows = state
        .store
        .list_recordings(0, i64::MAX, offset + limit + 1)
        .await?;
    let items: Vec<RecordingDto> = rows
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .map(RecordingDto::from)
        .collect();
    Ok(Json(Listing::fetched(items, limit, offset)))
}

/// One recording's metadata.
#[utoipa::path(get, operation_id = "recordings_one", path = "/api/v1/recordings/{id}", tag = "recordings",
    params(("id" = String, Path, description = "The recording's id")),
    responses((status = 200, body = RecordingDto), crate::api::openapi::Errors))]
pub async fn one(
    State(state): State<ApiState>,
    Id(id): Id<String>,
) -> Result<Json<RecordingDto>, ApiError> {
    Ok(Json(find(&state, &id).await?.into()))
}

/// The recording's WAV file (`Range: bytes=...` supported).
#[utoipa::path(get, operation_id = "recordings_audio", path = "/api/v1/recordings/{id}/audio", tag = "recordings",
    params(("id" = String, Path, description = "The recording's id"),
           ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023")),
    responses((status = 200, description = "The whole file", content_type = "audio/wav", body = Vec<u8>),
              (status = 206, description = "The range asked for", content_type = "audio/wav", body = Vec<u8>),
              (status = 416, description = "The range is past the end", body = crate::api::openapi::ErrorBody),
              crate::api::openapi::Errors))]
pub async fn audio(
    State(state): State<ApiState>,
    Id(id): Id<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = find(&state, &id).await?;
    let mut file = tokio::fs::File::open(&row.path)
        .await
        .map_err(|_| ApiError::NotFound(format!("the audio of recording {id:?} is gone")))?;
    let len = file
        .metadata()
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?
        .len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, len));
    let (status, start, end) = match range {
        None | Some(RangeAsk::Ignored) => (StatusCode::OK, 0, len),
        Some(RangeAsk::Bytes { start, end }) => (StatusCode::PARTIAL_CONTENT, start, end),
        Some(RangeAsk::Unsatisfiable) => {
            let mut response = ApiError::Rejected {
                status: StatusCode::RANGE_NOT_SATISFIABLE,
                message: format!("the recording has {len} bytes"),
            }
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    let mut bytes = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .and(file.read_exact(&mut bytes).await.map(|_| ()))
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    let mut response = (status, HttpBody::from(bytes)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

async fn find(state: &ApiState, id: &str) -> Result<RecordingRow, ApiError> {
    state
        .store
        .recording(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no recording {id:?}")))
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    /// Bytes `start..end` (end exclusive).
    Bytes { start: u64, end: u64 },
    /// A well-formed range that starts past the end.
    Unsatisfiable,
    /// Not a single byte range we serve (other units, several ranges, garbage): send it all.
    Ignored,
}

fn parse_range(value: &str, len: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsk::Ignored;
    };
    if spec.contains(',') {
        return RangeAsk::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        (true, false) => match number(last) {
            Some(0) => RangeAsk::Unsatisfiable,
            Some(_) if len == 0 => RangeAsk::Unsatisfiable,
            Some(n) => RangeAsk::Bytes {
                start: len.saturating_sub(n),
                end: len,
            },
            None => RangeAsk::Ignored,
        },
        (false, _) => {
            let Some(start) = number(first) else {
                return RangeAsk::Ignored;
            };
            let end = if last.is_empty() {
                Some(len.saturating_sub(1))
            } else {
                number(last)
            };
            match end {
                None => RangeAsk::Ignored,
                Some(_) if start >= len => RangeAsk::Unsatisfiable,
                Some(end) if end < start => RangeAsk::Ignored,
                Some(end) => RangeAsk::Bytes {
                    start,
                    end: end.min(len - 1) + 1,
                },
            }
        }
        (true, true) => RangeAsk::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        let ask = |v| parse_range(v, 1000);
        assert_eq!(ask("bytes=0-99"), RangeAsk::Bytes { start: 0, end: 100 });
        assert_eq!(
            ask("bytes=900-"),
            RangeAsk::Bytes {
                start: 900,
                end: 1000
            }
        );
        assert_eq!(
            ask("bytes=-100"),
            RangeAsk::Bytes {
                start: 900,
                end: 1000
            }
        );
        assert_eq!(
            ask("bytes=990-5000"),
            RangeAsk::Bytes {
                start: 990,
                end: 1000
            }
        );
        assert_eq!(
            ask("bytes=-5000"),
            RangeAsk::Bytes {
                start: 0,
                end: 1000
            }
        );
        assert_eq!(ask("bytes=1000-"), RangeAsk::Unsatisfiable);
        assert_eq!(ask("bytes=-0"), RangeAsk::Unsatisfiable);
        assert_eq!(ask("bytes=5-1"), RangeAsk::Ignored);
        assert_eq!(ask("bytes=0-1,5-6"), RangeAsk::Ignored);
        assert_eq!(ask("items=0-1"), RangeAsk::Ignored);
        assert_eq!(ask("bytes=x-1"), RangeAsk::Ignored);
    }
}

//! `POST /channels/v1/sms/generic` and `POST /channels/v1/sms/generic/receipts`: the generic
//! SMS gateway's webhooks (format and signature in `channels::sms`). No bearer token: the
//! signature authenticates. A missing or forged signature is a 401; the message is stored
//! before the 200, and a repeated `id` answers the same ids again without storing twice.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use super::now_ms;
use crate::api::{ApiError, ApiState};
use crate::channels::sms::{GenericSms, SmsError};
use crate::channels::{ChannelError, Channels};

/// The routes (mounted at `/channels/v1`).
pub(in crate::api) fn router() -> Router<ApiState> {
    Router::new()
        .route("/sms/generic", post(inbound))
        .route("/sms/generic/receipts", post(receipt))
}

async fn inbound(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let channels = &state.channels;
    let sms = verified(channels, &headers, &body)?;
    let inbound = sms.inbound(&body, &channels.customers).map_err(sms_error)?;
    let accepted = channels
        .intake
        .receive(inbound, now_ms())
        .await
        .map_err(channel_error)?;
    Ok(Json(json!({
        "conversation_id": accepted.conversation_id,
        "message_id": accepted.message_id,
        "customer_id": accepted.customer_id,
        "duplicate": accepted.duplicate,
        "task_id": accepted.task_id.map(|t| t.to_string()),
    })))
}

async fn receipt(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let channels = &state.channels;
    let sms = verified(channels, &headers, &body)?;
    let receipt = sms.receipt(&body).map_err(sms_error)?;
    let known = channels
        .replies
        .receipt(
            "sms",
            &receipt.id,
            receipt.status == "delivered",
            receipt.error,
            now_ms(),
        )
        .await
        .map_err(channel_error)?;
    if known {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "no message {:?} was sent",
            receipt.id
        )))
    }
}

fn verified<'a>(
    channels: &'a Channels,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<&'a GenericSms, ApiError> {
    let sms = channels
        .sms_generic
        .as_deref()
        .ok_or_else(|| ApiError::NotFound("the generic SMS channel is not enabled".into()))?;
    let header = headers
        .get("x-centrala-signature")
        .and_then(|v| v.to_str().ok());
    sms.verify(header, body, now_ms() / 1000)
        .map_err(sms_error)?;
    Ok(sms)
}

fn sms_error(err: SmsError) -> ApiError {
    match err {
        SmsError::Unauthorized(message) => ApiError::Rejected {
            status: StatusCode::UNAUTHORIZED,
            message,
        },
        SmsError::BadRequest(message) => ApiError::BadRequest(message),
    }
}

pub(super) fn channel_error(err: ChannelError) -> ApiError {
    match err {
        ChannelError::Rejected(m) => ApiError::BadRequest(m),
        ChannelError::Customer(crate::customers::CustomerError::Identity(e)) => {
            ApiError::BadRequest(e.to_string())
        }
        ChannelError::Routing(e) => ApiError::from(e),
        other => ApiError::Internal(other.to_string()),
    }
}

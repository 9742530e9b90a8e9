//! SMS channels. `GenericSms` is the demo's and any gateway's simplest contract:
//!
//! - inbound: `POST /channels/v1/sms/generic` with `{"id", "from", "to", "text"}`, signed
//!   `X-Centrala-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` exactly as
//!   Centrala signs its own webhooks (`cti::webhook::signature`), so gateways reuse one
//!   verifier; a repeated `id` is answered as before and stored once;
//! - outbound: `POST <provider_url>/messages` with `{"reference", "from", "to", "text"}`,
//!   signed the same way; a 2xx answer `{"id": …}` names the provider's message;
//! - receipts: `POST /channels/v1/sms/generic/receipts` with `{"id", "status":
//!   "delivered"|"failed", "error"}`, signed.
//!
//! Twilio's and Meta's formats would be siblings of this file with their own signatures.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use thiserror::Error;

use super::{Inbound, Outgoing, SendError, Sender, Sending};
use crate::config::SmsGenericConfig;
use crate::cti::webhook::{sign, verify_signature};
use crate::customers::{Customers, IdentityKind};
use crate::routing::Channel;

/// Why an SMS webhook was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SmsError {
    /// No, a malformed, stale or forged signature (401).
    #[error("signature: {0}")]
    Unauthorized(String),
    /// The body is not the documented JSON (400).
    #[error("{0}")]
    BadRequest(String),
}

/// An inbound generic message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericMessage {
    /// The gateway's message id (idempotency key).
    pub id: String,
    /// The sender's number.
    pub from: String,
    /// Our number.
    pub to: String,
    /// The text.
    pub text: String,
}

/// A delivery receipt.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The provider's message id (as returned by the send).
    pub id: String,
    /// `delivered` or `failed`.
    pub status: String,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// The generic SMS gateway (see the module docs).
#[derive(Debug)]
pub struct GenericSms {
    config: SmsGenericConfig,
    client: reqwest::Client,
}

impl GenericSms {
    /// A gateway per `config`.
    pub fn new(config: &SmsGenericConfig) -> Result<GenericSms, String> {
        // reqwest is built with rustls and no provider of its own: install ring (security).
        crate::cti::http_client::install_default_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.provider_timeout_secs.max(1)))
            .build()
            .map_err(|e| format!("SMS provider client: {e}"))?;
        Ok(GenericSms {
            config: config.clone(),
            client,
        })
    }

    /// Checks the signature header of a webhook `body`.
    pub fn verify(&self, header: Option<&str>, body: &[u8], now_secs: i64) -> Result<(), SmsError> {
        let header = header
            .ok_or_else(|| SmsError::Unauthorized("X-Centrala-Signature is missing".into()))?;
        verify_signature(
            &self.config.secret,
            header,
            body,
            now_secs,
            self.config.tolerance_secs,
        )
        .map_err(|e| SmsError::Unauthorized(e.to_string()))
    }

    /// The inbound message of a verified `body`, ready for the intake.
    pub fn inbound(&self, body: &[u8], customers: &Customers) -> Result<Inbound, SmsError> {
        let message: GenericMessage = serde_json::from_slice(body).map_err(|e| {
            SmsError::BadRequest(format!("expected {{\"id\",\"from\",\"to\",\"text\"}}: {e}"))
        })?;
        if message.id.trim().is_empty() || message.id.len() > 200 {
            return Err(SmsError::BadRequest(
                "`id` must be 1..=200 characters".into(),
            ));
        }
        if message.text.len() > 16 * 1024 {
            return Err(SmsError::BadRequest("`text` is longer than 16 KiB".into()));
        }
        let from = customers
            .identity(IdentityKind::Phone, &message.from)
            .map_err(|e| SmsError::BadRequest(format!("`from`: {e}")))?;
        Ok(Inbound {
            channel: Channel::Sms,
            from,
            to: Some(message.to),
            external_id: Some(message.id),
            body: message.text,
            subject: None,
            queue: self.config.queue.clone(),
            reopen_ms: i64::try_from(self.config.reopen_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            route: true,
            id: None,
            thread: None,
            by_peer: true,
            email: None,
        })
    }

    /// The receipt of a verified `body`.
    pub fn receipt(&self, body: &[u8]) -> Result<Receipt, SmsError> {
        let receipt: Receipt = serde_json::from_slice(body).map_err(|e| {
            SmsError::BadRequest(format!("expected {{\"id\",\"status\",\"error\"}}: {e}"))
        })?;
        if !matches!(receipt.status.as_str(), "delivered" | "failed") {
            return Err(SmsError::BadRequest(
                "`status` is `delivered` or `failed`".into(),
            ));
        }
        Ok(receipt)
    }

    async fn post(&self, out: &Outgoing) -> Result<String, SendError> {
        let Some(base) = &self.config.provider_url else {
            return Err(SendError(
                "no SMS provider configured ([sms.generic] provider_url)".into(),
            ));
        };
        let body =
            json!({"reference": out.message_id, "from": out.from, "to": out.to, "text": out.text})
                .to_string();
        let now = crate::cti::webhook::WallClock::now_ms(&crate::cti::webhook::SystemClock) / 1000;
        let answer = self
            .client
            .post(format!("{}/messages", base.trim_end_matches('/')))
            .header("content-type", "application/json")
            .header(
                "X-Centrala-Signature",
                sign(&self.config.secret, now, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| SendError(format!("SMS provider unreachable: {e}")))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| SendError(format!("SMS provider answer: {e}")))?;
        if !status.is_success() {
            return Err(SendError(format!(
                "SMS provider answered {status}: {}",
                truncate(&text)
            )));
        }
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                SendError(format!(
                    "SMS provider answered without an id: {}",
                    truncate(&text)
                ))
            })
    }
}

impl Sender for GenericSms {
    fn send<'a>(&'a self, out: &'a Outgoing) -> Sending<'a> {
        Box::pin(self.post(out))
    }
}

fn truncate(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

//! Outgoing events: the event model, signed webhook delivery and the worker that empties the
//! transactional outbox.
//!
//! Owns: `Event` / `EventKind` and their JSON, signatures (`sign`, `verify_signature`), the
//! backoff policy, the `OutboxStore` trait and the `DeliveryWorker` shell.
//! Must not touch: SQL (the `store::outbox` repository does it), the producers of events.
//! Driven by: producers, which write `Event::to_outbox()` with `Store::enqueue_event_in` in
//! the transaction of the change they report and then notify the worker's `waker()`; and the
//! worker task, spawned once by `main`.
//!
//! Each delivery is `POST <subscription url>` with the event JSON as body and the headers
//! `Content-Type: application/json`, `X-Centrala-Event-Id`, `X-Centrala-Event` (the kind) and
//! `X-Centrala-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Any 2xx is
//! success; anything else (or no answer within the timeout) is retried with exponential
//! backoff, 1 s doubling to 5 min by default, for as long as it takes: nothing is dropped.
//! Delivery is at-least-once and in order per subscription; receivers dedupe by event id.

mod event;
mod outbox_store;
mod retry;
mod signature;
mod worker;

use thiserror::Error;

pub use event::{Event, EventKind};
pub use outbox_store::{CONFIG_SUBSCRIPTION_PREFIX, OutboxStore, sync_config_subscriptions};
pub use retry::RetryPolicy;
pub use signature::{
    EVENT_ID_HEADER, EVENT_KIND_HEADER, SIGNATURE_HEADER, SignatureError, sign, verify_signature,
};
pub use worker::{
    DeliveryHandle, DeliverySettings, DeliveryWorker, SystemClock, WallClock, WebhookMetrics,
};

/// A webhook set-up failure (ours, at start-up).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The HTTP client could not be built.
    #[error("webhook client: {0}")]
    Client(String),
}

#[cfg(test)]
mod tests;

//! CTI: CRM lookups and the outgoing events (webhooks) that keep CRMs in step with the
//! contact centre.
//!
//! Owns: `lookup` (ask a CRM about a caller: breaker, cache, E.164 normalisation, HTTP shell),
//! `http_client` (the rustls HTTPS client both use), `events` (producing events from the ACD, CDRs and recordings; screen pops) and `webhook`
//! (the event model, signatures, and the worker that delivers the outbox).
//! Must not touch: SIP, media, dialplans, routing internals. The dialplan's `lookup` step, the
//! channels and the API call into this module; it reaches the database only through the
//! `OutboxStore` trait (implemented by `store::Store`) and `store::Store`'s event methods.
//! Driven by: callers of `LookupService::lookup` (no task of its own), the `DeliveryWorker`
//! task and the ACD bridge that `server` spawns.

pub mod events;
pub mod http_client;
pub mod lookup;
pub mod webhook;

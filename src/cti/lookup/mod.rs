//! CRM lookups: ask a configured HTTP endpoint about a caller (by phone number, e-mail address
//! or chat identity) and hand back the answer mapped to variables.
//!
//! Owns: the sans-IO cores (`CircuitBreaker`, `TtlCache`, E.164 normalisation, request
//! rendering) and the `LookupService` shell that drives them with an HTTP client.
//! Must not touch: calls, dialplans, routing, the store. The dialplan's `lookup` step and the
//! chat/e-mail channels call `LookupService::lookup` and branch on its result; attaching the
//! answer to the task and the interaction is theirs.
//! Driven by: its callers, one future per lookup; there is no background task.
//!
//! A slow or failing CRM never holds a caller in silence: each lookup has a deadline
//! (`timeout_ms`, default 1 s) covering connect, request and body, and each endpoint a circuit
//! breaker that, once open, refuses at once, so the caller's flow takes its fallback branch
//! without waiting. Every outcome is counted in `LookupMetrics`.
//!
//! HTTP client: `reqwest` without default features (HTTP/1.1, JSON, rustls built by
//! `cti::http_client`, so `https://` CRMs verify against the system's and the operator's
//! roots; a certificate that does not verify is logged as a warning). It sits on the hyper /
//! hyper-util / tokio stack already in the tree (axum), and adds connection pooling, timeouts
//! and redirects we would otherwise write by hand over hyper-util's legacy client.
//! TODO: concurrent identical lookups are not coalesced (each misses the cache and asks the CRM);
//! negative answers (404) are not cached.

mod breaker;
mod cache;
mod e164;
mod request;
mod service;

use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

pub use breaker::{Admission, BreakerState, CircuitBreaker};
pub use cache::TtlCache;
pub use e164::{E164Rules, NumberError, normalize_e164};
pub use service::LookupService;

/// Why a lookup gave no answer. Every variant means "take the fallback branch"; they differ in
/// whose fault it is and whether the breaker counts it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No lookup of that name is configured (a dialplan/config mismatch: ours).
    #[error("no lookup named {0:?} is configured")]
    UnknownLookup(String),
    /// The URL template needs a parameter the caller did not give (ours).
    #[error("lookup {lookup:?}: parameter {param:?} is missing")]
    MissingParam {
        /// The lookup.
        lookup: String,
        /// The placeholder without a value.
        param: String,
    },
    /// The `number` parameter is not a phone number (the caller's data, e.g. anonymous).
    #[error("lookup {lookup:?}: {source}")]
    BadNumber {
        /// The lookup.
        lookup: String,
        /// Why.
        source: NumberError,
    },
    /// The breaker is open: the CRM failed repeatedly and is not asked until it may recover.
    #[error("lookup {lookup:?}: circuit open, CRM not asked")]
    CircuitOpen {
        /// The lookup.
        lookup: String,
    },
    /// No complete answer within the deadline (the CRM's fault; counts for the breaker).
    #[error("lookup {lookup:?}: no answer within {after_ms} ms")]
    Timeout {
        /// The lookup.
        lookup: String,
        /// The deadline that passed.
        after_ms: u64,
    },
    /// The CRM does not know the customer (404). Not a failure for the breaker.
    #[error("lookup {lookup:?}: not found")]
    NotFound {
        /// The lookup.
        lookup: String,
    },
    /// The CRM answered with another non-2xx status (5xx counts for the breaker, 4xx not).
    #[error("lookup {lookup:?}: HTTP status {status}")]
    Status {
        /// The lookup.
        lookup: String,
        /// The status code.
        status: u16,
    },
    /// The answer is not JSON (counts for the breaker).
    #[error("lookup {lookup:?}: bad JSON in the answer: {message}")]
    BadJson {
        /// The lookup.
        lookup: String,
        /// The parser's complaint.
        message: String,
    },
    /// Connecting or talking to the CRM failed (counts for the breaker).
    #[error("lookup {lookup:?}: {message}")]
    Transport {
        /// The lookup.
        lookup: String,
        /// What the HTTP client said.
        message: String,
    },
    /// The HTTP client could not be built from the configuration (ours, at start-up).
    #[error("lookup client: {0}")]
    Client(String),
}

impl LookupError {
    /// Whether the circuit breaker counts this as the CRM failing.
    pub fn is_crm_failure(&self) -> bool {
        match self {
            LookupError::Timeout { .. }
            | LookupError::BadJson { .. }
            | LookupError::Transport { .. } => true,
            LookupError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Counters of one lookup endpoint, as plain atomics (exported to Prometheus by telemetry).
#[derive(Debug, Default)]
pub struct LookupMetrics {
    /// Calls of `lookup` for this endpoint.
    pub requests: AtomicU64,
    /// Answered from the cache, without a request.
    pub cache_hits: AtomicU64,
    /// Answered by the CRM with a 2xx and valid JSON.
    pub successes: AtomicU64,
    /// 404 answers.
    pub not_found: AtomicU64,
    /// Deadline passed.
    pub timeouts: AtomicU64,
    /// Other failures: transport, non-2xx status other than 404, bad JSON, bad parameters.
    pub failures: AtomicU64,
    /// Refused at once because the circuit was open.
    pub rejected_open: AtomicU64,
    /// Times the circuit opened.
    pub circuit_opened: AtomicU64,
}

/// A copy of `LookupMetrics` at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupMetricsSnapshot {
    /// See `LookupMetrics::requests`.
    pub requests: u64,
    /// See `LookupMetrics::cache_hits`.
    pub cache_hits: u64,
    /// See `LookupMetrics::successes`.
    pub successes: u64,
    /// See `LookupMetrics::not_found`.
    pub not_found: u64,
    /// See `LookupMetrics::timeouts`.
    pub timeouts: u64,
    /// See `LookupMetrics::failures`.
    pub failures: u64,
    /// See `LookupMetrics::rejected_open`.
    pub rejected_open: u64,
    /// See `LookupMetrics::circuit_opened`.
    pub circuit_opened: u64,
}

impl LookupMetrics {
    /// The counters now.
    pub fn snapshot(&self) -> LookupMetricsSnapshot {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LookupMetricsSnapshot {
            requests: read(&self.requests),
            cache_hits: read(&self.cache_hits),
            successes: read(&self.successes),
            not_found: read(&self.not_found),
            timeouts: read(&self.timeouts),
            failures: read(&self.failures),
            rejected_open: read(&self.rejected_open),
            circuit_opened: read(&self.circuit_opened),
        }
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;

//! `LookupService`: the shell that sends lookup requests, under the cache, the breaker and the
//! deadline.
//!
//! Owns: the HTTP client and, per endpoint, its config, breaker, cache and counters.
//! Must not touch: protocol decisions (they live in the cores it feeds), calls, the store.
//! Driven by: the dialplan's `lookup` step and the channels, one `lookup` call each; the time
//! fed to the cores is tokio's clock, so paused-clock tests control it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::breaker::{Admission, CircuitBreaker};
use super::cache::TtlCache;
use super::e164::E164Rules;
use super::request::{apply_mapping, canonical_params, render_url};
use super::{LookupError, LookupMetrics};
use crate::config::{CtiConfig, LookupAuth, LookupConfig, LookupMethod};
use crate::cti::http_client::{build_client, describe, is_certificate_error};

/// Entries kept per endpoint's cache.
const CACHE_CAPACITY: usize = 4096;

/// Sends CRM lookups; share it behind an `Arc` (or clone the parts you need).
#[derive(Debug)]
pub struct LookupService {
    client: reqwest::Client,
    rules: E164Rules,
    endpoints: HashMap<String, Endpoint>,
}

/// One configured lookup with the state that outlives a request.
#[derive(Debug)]
struct Endpoint {
    config: LookupConfig,
    /// Shared by all lookups to this endpoint: one CRM, one health verdict.
    breaker: Mutex<CircuitBreaker>,
    /// Successful mapped answers by request (URL plus body).
    cache: Mutex<TtlCache<String, Value>>,
    metrics: Arc<LookupMetrics>,
}

impl LookupService {
    /// Builds the service for the configured lookups.
    pub fn new(config: &CtiConfig) -> Result<LookupService, LookupError> {
        let client = build_client(config.ca_file.as_deref()).map_err(LookupError::Client)?;
        let open_for = Duration::from_secs(config.breaker.open_secs);
        let endpoints = config
            .lookups
            .iter()
            .map(|lookup| {
                let endpoint = Endpoint {
                    config: lookup.clone(),
                    breaker: Mutex::new(CircuitBreaker::new(
                        config.breaker.failures_to_open,
                        open_for,
                    )),
                    cache: Mutex::new(TtlCache::new(CACHE_CAPACITY)),
                    metrics: Arc::new(LookupMetrics::default()),
                };
                (lookup.name.clone(), endpoint)
            })
            .collect();
        Ok(LookupService {
            client,
            rules: E164Rules {
                country_code: config.default_country_code.clone(),
                national_digits: config.national_number_digits,
            },
            endpoints,
        })
    }

    /// Asks the lookup `name` with `params` (`number`, `email`, or whatever its URL template
    /// names) and returns the mapped variables. Fails fast when the circuit is open and within
    /// the lookup's `timeout_ms` otherwise; every error means "take the fallback branch".
    pub async fn lookup(
        &self,
        name: &str,
        params: Map<String, Value>,
    ) -> Result<Value, LookupError> {
        let endpoint = self
            .endpoints
            .get(name)
            .ok_or_else(|| LookupError::UnknownLookup(name.to_string()))?;
        let metrics = &endpoint.metrics;
        LookupMetrics::bump(&metrics.requests);
        let result = endpoint.lookup(&self.client, &self.rules, params).await;
        match &result {
            Ok(_) => {}
            Err(LookupError::CircuitOpen { .. }) => LookupMetrics::bump(&metrics.rejected_open),
            Err(LookupError::Timeout { .. }) => LookupMetrics::bump(&metrics.timeouts),
            Err(LookupError::NotFound { .. }) => LookupMetrics::bump(&metrics.not_found),
            Err(_) => LookupMetrics::bump(&metrics.failures),
        }
        if let Err(err) = &result {
            log_failure(err);
        }
        result
    }

    /// The counters of lookup `name`, if configured.
    pub fn metrics(&self, name: &str) -> Option<Arc<LookupMetrics>> {
        self.endpoints.get(name).map(|e| e.metrics.clone())
    }

    /// The names of the configured lookups, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.endpoints.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

impl Endpoint {
    async fn lookup(
        &self,
        client: &reqwest::Client,
        rules: &E164Rules,
        params: Map<String, Value>,
    ) -> Result<Value, LookupError> {
        let name = self.config.name.as_str();
        let params = canonical_params(name, params, rules)?;
        let url = render_url(name, &self.config.url, &params)?;
        let body = (self.config.method == LookupMethod::Post).then_some(Value::Object(params));
        let key = match &body {
            Some(body) => format!("{url}\n{body}"),
            None => url.clone(),
        };
        if let Some(hit) = lock(&self.cache).get(now(), &key) {
            LookupMetrics::bump(&self.metrics.cache_hits);
            return Ok(hit);
        }
        let admission = lock(&self.breaker).try_acquire(now());
        if let Admission::Rejected { .. } = admission {
            return Err(LookupError::CircuitOpen {
                lookup: name.to_string(),
            });
        }
        let deadline = Duration::from_millis(self.config.timeout_ms);
        let sent = tokio::time::timeout(deadline, self.send(client, &url, body)).await;
        let result = sent.unwrap_or_else(|_| {
            Err(LookupError::Timeout {
                lookup: name.to_string(),
                after_ms: self.config.timeout_ms,
            })
        });
        self.record_outcome(&result);
        let answer = apply_mapping(&self.config.mapping, result?);
        let ttl = Duration::from_secs(self.config.cache_ttl_secs);
        lock(&self.cache).insert(now(), key, answer.clone(), ttl);
        LookupMetrics::bump(&self.metrics.successes);
        Ok(answer)
    }

    /// One HTTP exchange: request, status, whole body, JSON.
    async fn send(
        &self,
        client: &reqwest::Client,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, LookupError> {
        let name = &self.config.name;
        let method = match body {
            Some(_) => reqwest::Method::POST,
            None => reqwest::Method::GET,
        };
        let mut request = client
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        for (header, value) in &self.config.headers {
            request = request.header(header.as_str(), value.as_str());
        }
        request = match &self.config.auth {
            Some(LookupAuth::Bearer { token }) => request.bearer_auth(token),
            Some(LookupAuth::Basic { username, password }) => {
                request.basic_auth(username, Some(password))
            }
            None => request,
        };
        if let Some(body) = &body {
            request = request.json(body);
        }
        // Without the URL: it may carry the customer's number, and the lookup's name says
        // which CRM it was.
        let transport = |err: reqwest::Error| LookupError::Transport {
            lookup: name.clone(),
            message: describe(&err.without_url()),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(LookupError::NotFound {
                lookup: name.clone(),
            });
        }
        if !status.is_success() {
            return Err(LookupError::Status {
                lookup: name.clone(),
                status: status.as_u16(),
            });
        }
        let bytes = response.bytes().await.map_err(transport)?;
        serde_json::from_slice(&bytes).map_err(|err| LookupError::BadJson {
            lookup: name.clone(),
            message: err.to_string(),
        })
    }

    fn record_outcome(&self, result: &Result<Value, LookupError>) {
        let mut breaker = lock(&self.breaker);
        match result {
            Err(err) if err.is_crm_failure() => {
                if breaker.handle_failure(now()) {
                    LookupMetrics::bump(&self.metrics.circuit_opened);
                    tracing::warn!(lookup = %self.config.name, "CRM circuit opened");
                }
            }
            _ => breaker.handle_success(now()),
        }
    }
}

/// The one log line of a failed lookup, with its cause (the callers only take the fallback):
/// a warning when the CRM failed (the breaker counts it) or its certificate is not trusted,
/// a note when our request was at fault, nothing above debug for an unknown customer or an
/// open circuit (its opening was warned about).
fn log_failure(err: &LookupError) {
    match err {
        LookupError::NotFound { .. } | LookupError::CircuitOpen { .. } => {
            tracing::debug!(error = %err, "CRM lookup gave no answer");
        }
        LookupError::Transport { message, .. } if is_certificate_error(message) => {
            tracing::warn!(error = %err, "CRM certificate not trusted; taking the fallback");
        }
        err if err.is_crm_failure() => {
            tracing::warn!(error = %err, "CRM lookup failed; taking the fallback");
        }
        err => tracing::info!(error = %err, "CRM lookup not sent; taking the fallback"),
    }
}

/// Tokio's clock as a std `Instant` (paused in shell tests).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The cores' mutexes are held for a few instructions and never across an await; a panic while
/// holding one leaves plain data that is still consistent, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! The delivery worker: the tokio task that POSTs outbox rows to their subscriptions.
//!
//! Owns: the HTTP client for webhooks, the wake-up signal and the delivery counters.
//! Must not touch: SQL (it goes through `OutboxStore`), the event producers.
//! Driven by: `main`, which spawns one per node (`DeliveryWorker::spawn`) and hands its
//! `waker()` to whoever enqueues events so deliveries start without waiting for the poll.
//!
//! Each pass takes the head of every subscription's line that is due, sends those heads
//! concurrently (one per subscription, so a subscription's events go strictly in order: the
//! next waits until the previous is delivered), and records each outcome in the table before
//! the next pass. All state lives in the table, so a restart (or a crash) resumes where it
//! stopped.
//!
//! Guarantee: at-least-once per endpoint, in order per subscription. A crash between the
//! receiver's 2xx and `mark_delivered` sends that event again; receivers get exactly-once by
//! deduping on `X-Centrala-Event-Id`.
//! TODO: with several nodes on one PostgreSQL, run the worker on one node only (or add a
//! lease per subscription); two workers would send the same head twice.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use super::retry::RetryPolicy;
use super::signature::{EVENT_ID_HEADER, EVENT_KIND_HEADER, SIGNATURE_HEADER, sign};
use super::{OutboxStore, WebhookError};
use crate::config::DeliveryConfig;
use crate::cti::http_client::{build_client, describe, is_certificate_error};
use crate::store::{OutboxDelivery, StoreError};

/// Wall-clock time in unix milliseconds (outbox rows and signatures use wall time).
pub trait WallClock: Send + Sync + 'static {
    /// Now, unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// How deliveries are attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Deadline of one POST (connect, request, response head).
    pub timeout: Duration,
    /// Backoff between failed attempts.
    pub retry: RetryPolicy,
    /// Longest sleep between passes when nothing wakes the worker (catches rows written by
    /// other nodes).
    pub idle_poll: Duration,
    /// Most heads of line sent in one pass.
    pub batch: i64,
}

impl DeliverySettings {
    /// From `[cti.delivery]`.
    pub fn from_config(config: &DeliveryConfig) -> DeliverySettings {
        DeliverySettings {
            timeout: Duration::from_millis(config.timeout_ms),
            retry: RetryPolicy::from_config(config),
            idle_poll: Duration::from_secs(1),
            batch: 64,
        }
    }
}

/// Delivery counters, as plain atomics (exported to Prometheus by telemetry).
#[derive(Debug, Default)]
pub struct WebhookMetrics {
    /// Events delivered (2xx).
    pub delivered: AtomicU64,
    /// Failed attempts (transport error, timeout, non-2xx).
    pub failed_attempts: AtomicU64,
    /// Passes that failed on the database.
    pub store_errors: AtomicU64,
}

/// Sends the outbox; see the module docs.
pub struct DeliveryWorker<S> {
    store: S,
    client: reqwest::Client,
    settings: DeliverySettings,
    clock: Arc<dyn WallClock>,
    /// Notified by enqueuers so a new event goes out without waiting for `idle_poll`.
    wake: Arc<Notify>,
    metrics: Arc<WebhookMetrics>,
}

impl<S: OutboxStore> DeliveryWorker<S> {
    /// A worker over `store` using the system clock.
    /// `ca_file` is trusted on top of the system's roots for `https://` receivers.
    pub fn new(
        store: S,
        settings: DeliverySettings,
        ca_file: Option<&Path>,
    ) -> Result<DeliveryWorker<S>, WebhookError> {
        let client = build_client(ca_file).map_err(WebhookError::Client)?;
        Ok(DeliveryWorker {
            store,
            client,
            settings,
            clock: Arc::new(SystemClock),
            wake: Arc::new(Notify::new()),
            metrics: Arc::new(WebhookMetrics::default()),
        })
    }

    /// Replaces the wall clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.clock = clock;
        self
    }

    /// Call `notify_one()` on this after committing an event.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The delivery counters.
    pub fn metrics(&self) -> Arc<WebhookMetrics> {
        self.metrics.clone()
    }

    /// Runs the worker on its own task until the handle is aborted (or dropped).
    pub fn spawn(self) -> DeliveryHandle {
        DeliveryHandle {
            task: tokio::spawn(self.run()),
        }
    }

    /// Delivers forever: a pass, then a sleep until the next head is due, `idle_poll` passes
    /// or the waker is notified.
    pub async fn run(self) {
        loop {
            match self.run_once().await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(err) => {
                    self.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %err, "webhook outbox unavailable");
                }
            }
            let wait = self.idle_wait().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    /// One pass: sends every due head of line and records the outcomes. Returns how many
    /// deliveries were attempted.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let due = self
            .store
            .due_deliveries(self.clock.now_ms(), self.settings.batch)
            .await?;
        let attempted = due.len();
        let mut sends = JoinSet::new();
        for delivery in due {
            let client = self.client.clone();
            let clock = self.clock.clone();
            let timeout = self.settings.timeout;
            sends.spawn(async move {
                let outcome = post(&client, clock.as_ref(), timeout, &delivery).await;
                (delivery, outcome)
            });
        }
        let mut first_error = None;
        while let Some(joined) = sends.join_next().await {
            let Ok((delivery, outcome)) = joined else {
                continue; // A send task cannot panic short of a bug; the row stays due.
            };
            if let Err(err) = self.record(&delivery, outcome).await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(attempted), Err)
    }

    async fn record(
        &self,
        delivery: &OutboxDelivery,
        outcome: Result<(), String>,
    ) -> Result<(), StoreError> {
        let now_ms = self.clock.now_ms();
        let sub = &delivery.subscription_id;
        match outcome {
            Ok(()) => {
                self.metrics.delivered.fetch_add(1, Ordering::Relaxed);
                self.store.mark_delivered(sub, delivery.seq, now_ms).await?;
            }
            Err(error) => {
                self.metrics.failed_attempts.fetch_add(1, Ordering::Relaxed);
                let failures = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
                let delay = self.settings.retry.delay_after(failures);
                let next = now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(0));
                if delivery.attempts == 0 && is_certificate_error(&error) {
                    tracing::warn!(subscription = %sub, url = %delivery.url, %error,
                        "webhook receiver's certificate not trusted; retrying with backoff");
                } else {
                    tracing::debug!(subscription = %sub, seq = delivery.seq, %error,
                        "webhook delivery failed");
                }
                self.store
                    .mark_failed(sub, delivery.seq, next, &error)
                    .await?;
            }
        }
        Ok(())
    }

    async fn idle_wait(&self) -> Duration {
        let next = self.store.next_attempt_at_ms().await.ok().flatten();
        let until_next = next.map(|at| {
            let ms = at.saturating_sub(self.clock.now_ms()).max(0);
            Duration::from_millis(u64::try_from(ms).unwrap_or(0))
        });
        until_next.map_or(self.settings.idle_poll, |d| d.min(self.settings.idle_poll))
    }
}

/// The running worker; aborting (or dropping) it stops deliveries. Rows in flight are sent
/// again by the next worker.
#[derive(Debug)]
pub struct DeliveryHandle {
    task: JoinHandle<()>,
}

impl DeliveryHandle {
    /// Stops the worker and waits until it has stopped.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for DeliveryHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One signed POST; `Err` carries the reason recorded in the row.
async fn post(
    client: &reqwest::Client,
    clock: &dyn WallClock,
    timeout: Duration,
    delivery: &OutboxDelivery,
) -> Result<(), String> {
    let signature = sign(
        &delivery.secret,
        clock.now_ms() / 1000,
        delivery.body.as_bytes(),
    );
    let request = client
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_ID_HEADER, &delivery.event_id)
        .header(EVENT_KIND_HEADER, &delivery.event_kind)
        .body(delivery.body.clone())
        .send();
    match tokio::time::timeout(timeout, request).await {
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(err)) => Err(describe(&err)),
        Ok(Ok(response)) if response.status().is_success() => Ok(()),
        Ok(Ok(response)) => Err(format!("HTTP {}", response.status().as_u16())),
    }
}

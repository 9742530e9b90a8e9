//! The store as the webhook side sees it: a trait over the outbox and subscription tables, so
//! `cti` reaches the database only through it (and tests could swap it).
//!
//! Owns: `OutboxStore`, its implementation for `store::Store`, and syncing the config file's
//! subscriptions into the table. Must not touch: SQL (that is `store::outbox`).
//! Driven by: the delivery worker and `main` at start-up / reload.

use std::future::Future;

use crate::config::CtiConfig;
use crate::store::{OutboxDelivery, Store, StoreError, SubscriptionRow};

/// Outbox operations the webhook side needs.
pub trait OutboxStore: Clone + Send + Sync + 'static {
    /// Heads of line due at `now_ms`, at most `limit`.
    fn due_deliveries(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<OutboxDelivery>, StoreError>> + Send;
    /// When the earliest head of line becomes due.
    fn next_attempt_at_ms(&self) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Records a delivery.
    fn mark_delivered(
        &self,
        subscription_id: &str,
        seq: i64,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Records a failed attempt.
    fn mark_failed(
        &self,
        subscription_id: &str,
        seq: i64,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Every subscription.
    fn subscriptions(
        &self,
    ) -> impl Future<Output = Result<Vec<SubscriptionRow>, StoreError>> + Send;
    /// Inserts or updates a subscription.
    fn upsert_subscription(
        &self,
        row: &SubscriptionRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Marks a subscription inactive.
    fn deactivate_subscription(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl OutboxStore for Store {
    async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxDelivery>, StoreError> {
        Store::due_deliveries(self, now_ms, limit).await
    }

    async fn next_attempt_at_ms(&self) -> Result<Option<i64>, StoreError> {
        Store::next_attempt_at_ms(self).await
    }

    async fn mark_delivered(
        &self,
        subscription_id: &str,
        seq: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Store::mark_delivered(self, subscription_id, seq, now_ms).await
    }

    async fn mark_failed(
        &self,
        subscription_id: &str,
        seq: i64,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> Result<bool, StoreError> {
        Store::mark_failed(self, subscription_id, seq, next_attempt_at_ms, error).await
    }

    async fn subscriptions(&self) -> Result<Vec<SubscriptionRow>, StoreError> {
        Store::subscriptions(self).await
    }

    async fn upsert_subscription(&self, row: &SubscriptionRow) -> Result<(), StoreError> {
        Store::upsert_subscription(self, row).await
    }

    async fn deactivate_subscription(&self, id: &str) -> Result<bool, StoreError> {
        Store::deactivate_subscription(self, id).await
    }
}

/// Prefix of the ids of subscriptions that come from the config file.
pub const CONFIG_SUBSCRIPTION_PREFIX: &str = "config:";

/// Makes the stored `config:*` subscriptions match `[[cti.webhooks]]`: each configured one is
/// upserted (active), stored ones no longer configured are deactivated (their pending events
/// wait, in case the subscription comes back). Subscriptions made through the API are left
/// alone.
pub async fn sync_config_subscriptions<S: OutboxStore>(
    store: &S,
    config: &CtiConfig,
    now_ms: i64,
) -> Result<(), StoreError> {
    let mut configured = Vec::with_capacity(config.webhooks.len());
    for hook in &config.webhooks {
        let id = format!("{CONFIG_SUBSCRIPTION_PREFIX}{}", hook.name);
        let row = SubscriptionRow {
            id: id.clone(),
            url: hook.url.clone(),
            secret: hook.secret.clone(),
            events: hook.events.clone(),
            active: true,
            created_at_ms: now_ms,
        };
        store.upsert_subscription(&row).await?;
        configured.push(id);
    }
    for stored in store.subscriptions().await? {
        let from_config = stored.id.starts_with(CONFIG_SUBSCRIPTION_PREFIX);
        if from_config && stored.active && !configured.contains(&stored.id) {
            store.deactivate_subscription(&stored.id).await?;
        }
    }
    Ok(())
}

//! The storage the routing shell needs, as a trait: `Store` implements it for SQLite and
//! PostgreSQL; the shell's tests use an in-memory one, whose futures complete at once so that
//! tokio's paused clock is never advanced while a write is in flight.
//!
//! Task writes carry the change's outbox events (agent state writes too): the row and its events commit together or
//! not at all (see `journal`).

use std::future::Future;
use std::pin::Pin;

use crate::store::{AgentStateRow, OutboxEvent, QueueLogRow, Store, StoreError, TaskRow};

/// A boxed future borrowing the store.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Task, agent-state and queue-log persistence (see `store::tasks`, `store::agent_states` and
/// `store::queue_log`).
pub trait RoutingStore: Send + Sync + 'static {
    /// Stores a new task and `events`, in one transaction; resolves once committed.
    fn insert_task<'a>(
        &'a self,
        row: &'a TaskRow,
        events: &'a [OutboxEvent],
    ) -> StoreFuture<'a, ()>;
    /// Updates a task's queue, state, attempts and next attempt and stores `events`, in one
    /// transaction; false, and nothing written, if there is no such task.
    fn update_task<'a>(
        &'a self,
        row: &'a TaskRow,
        events: &'a [OutboxEvent],
    ) -> StoreFuture<'a, bool>;
    /// Stores `events` (of changes no task row records) and agents' new states, in one
    /// transaction.
    fn write_changes<'a>(
        &'a self,
        events: &'a [OutboxEvent],
        agents: &'a [AgentStateRow],
    ) -> StoreFuture<'a, ()>;
    /// Every stored agent state (read at start-up).
    fn agent_states(&self) -> StoreFuture<'_, Vec<AgentStateRow>>;
    /// Every open task, oldest first.
    fn open_tasks(&self) -> StoreFuture<'_, Vec<TaskRow>>;
    /// The largest task id ever stored.
    fn max_task_id(&self) -> StoreFuture<'_, i64>;
    /// Appends queue-log rows.
    fn insert_queue_log<'a>(&'a self, rows: &'a [QueueLogRow]) -> StoreFuture<'a, ()>;
}

impl RoutingStore for Store {
    fn insert_task<'a>(
        &'a self,
        row: &'a TaskRow,
        events: &'a [OutboxEvent],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.begin().await?;
            enqueue_all(&mut tx, events).await?;
            Store::insert_task_in(&mut tx, row).await?;
            tx.commit().await
        })
    }

    fn update_task<'a>(
        &'a self,
        row: &'a TaskRow,
        events: &'a [OutboxEvent],
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut tx = self.begin().await?;
            enqueue_all(&mut tx, events).await?;
            if !Store::update_task_in(&mut tx, row).await? {
                tx.rollback().await?;
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    fn write_changes<'a>(
        &'a self,
        events: &'a [OutboxEvent],
        agents: &'a [AgentStateRow],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.begin().await?;
            enqueue_all(&mut tx, events).await?;
            Store::upsert_agent_states_in(&mut tx, agents).await?;
            tx.commit().await
        })
    }

    fn agent_states(&self) -> StoreFuture<'_, Vec<AgentStateRow>> {
        Box::pin(Store::agent_states(self))
    }

    fn open_tasks(&self) -> StoreFuture<'_, Vec<TaskRow>> {
        Box::pin(Store::open_tasks(self))
    }

    fn max_task_id(&self) -> StoreFuture<'_, i64> {
        Box::pin(Store::max_task_id(self))
    }

    fn insert_queue_log<'a>(&'a self, rows: &'a [QueueLogRow]) -> StoreFuture<'a, ()> {
        Box::pin(Store::insert_queue_log(self, rows))
    }
}

/// Puts `events` in the outbox within `tx`, first (see `Store::enqueue_event_in`).
async fn enqueue_all(
    tx: &mut crate::store::StoreTransaction,
    events: &[OutboxEvent],
) -> Result<(), StoreError> {
    for event in events {
        Store::enqueue_event_in(tx, event).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SubscriptionRow;
    use crate::store::testing::fresh_store;

    fn task(id: i64, state: &str) -> TaskRow {
        TaskRow {
            id,
            channel: "callback".into(),
            queue: "sales".into(),
            customer: Some("+48500".into()),
            skills: "{}".into(),
            attributes: "{}".into(),
            arrived_at_ms: 1_000,
            state: state.into(),
            updated_at_ms: 1_000,
            ..TaskRow::default()
        }
    }

    fn event(id: &str, kind: &str) -> OutboxEvent {
        OutboxEvent {
            id: id.into(),
            kind: kind.into(),
            body: format!(r#"{{"id":"{id}"}}"#),
            created_at_ms: 1_000,
        }
    }

    async fn outbox_ids(store: &Store) -> Vec<String> {
        let mut ids = Vec::new();
        for now in 0.. {
            let Some(head) = store.due_deliveries(i64::MAX, 1).await.unwrap().pop() else {
                return ids;
            };
            ids.push(head.event_id);
            store.mark_delivered("crm", head.seq, now).await.unwrap();
        }
        ids
    }

    #[tokio::test]
    async fn a_task_row_and_its_events_commit_and_roll_back_together() {
        let (store, _dir) = fresh_store().await;
        store
            .upsert_subscription(&SubscriptionRow {
                id: "crm".into(),
                url: "http://127.0.0.1:9/hook".into(),
                secret: "k".into(),
                events: Vec::new(),
                active: true,
                created_at_ms: 0,
            })
            .await
            .unwrap();
        let routing: &dyn RoutingStore = &store;
        routing
            .insert_task(&task(1, "waiting"), &[event("queued-1", "task.queued")])
            .await
            .unwrap();
        // A second insert of the same id fails: its event is not written either.
        assert!(
            routing
                .insert_task(&task(1, "waiting"), &[event("queued-again", "task.queued")])
                .await
                .is_err()
        );
        assert!(
            routing
                .update_task(&task(1, "done"), &[event("completed-1", "task.completed")])
                .await
                .unwrap()
        );
        // No such task: nothing written, the event neither.
        assert!(
            !routing
                .update_task(&task(2, "done"), &[event("completed-2", "task.completed")])
                .await
                .unwrap()
        );
        routing
            .write_changes(&[event("offered-3", "task.offered")], &[])
            .await
            .unwrap();
        assert_eq!(store.task(1).await.unwrap().unwrap().state, "done");
        assert!(store.task(2).await.unwrap().is_none());
        assert_eq!(
            outbox_ids(&store).await,
            ["queued-1", "completed-1", "offered-3"]
        );
    }
}

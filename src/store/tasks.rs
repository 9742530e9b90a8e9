//! Routing tasks that must survive a crash (callbacks, voicemails, follow-ups, chats,
//! e-mails): inserted before the task is acknowledged, updated on each attempt and when it
//! closes, listed at start-up. Live calls are never stored here.

use sqlx::Row;

use super::{Store, StoreError, StoreTransaction};

/// One stored task. The routing shell encodes its values (channel and queue by name, skills
/// and attributes as JSON objects); the store does not interpret them, except `state`, where
/// `done`, `failed` and `cancelled` mean closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRow {
    /// The routing task id.
    pub id: i64,
    /// Channel name (`callback`, `voicemail`, ...).
    pub channel: String,
    /// Queue name.
    pub queue: String,
    /// Customer (phone number or CRM id), when known.
    pub customer: Option<String>,
    /// Base priority.
    pub priority: i64,
    /// Required skills, JSON object name -> minimum level.
    pub skills: String,
    /// Attributes, JSON object name -> text.
    pub attributes: String,
    /// Unix ms when the contact first arrived (kept across restarts and retries).
    pub arrived_at_ms: i64,
    /// Unix ms of the SLA deadline, if any.
    pub deadline_ms: Option<i64>,
    /// `waiting`, `retry`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// Attempts made so far (callbacks).
    pub attempts: i64,
    /// Unix ms of the next attempt while `retry`.
    pub next_attempt_at_ms: Option<i64>,
    /// Unix ms of the last write.
    pub updated_at_ms: i64,
}

const COLUMNS: &str = "id, channel, queue, customer, priority, skills, attributes, \
                       arrived_at_ms, deadline_ms, state, attempts, next_attempt_at_ms, \
                       updated_at_ms";

impl Store {
    /// Stores a new task; returns once it is committed.
    pub async fn insert_task(&self, t: &TaskRow) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        Store::insert_task_in(&mut tx, t).await?;
        tx.commit().await
    }

    /// As `insert_task`, inside a transaction the caller commits with its other writes (the
    /// change's outbox events).
    pub async fn insert_task_in(tx: &mut StoreTransaction, t: &TaskRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO tasks ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(t.id)
        .bind(&t.channel)
        .bind(&t.queue)
        .bind(&t.customer)
        .bind(t.priority)
        .bind(&t.skills)
        .bind(&t.attributes)
        .bind(t.arrived_at_ms)
        .bind(t.deadline_ms)
        .bind(&t.state)
        .bind(t.attempts)
        .bind(t.next_attempt_at_ms)
        .bind(t.updated_at_ms)
        .execute(&mut *tx.tx)
        .await?;
        Ok(())
    }

    /// Sets a task's state, attempts and next attempt (and its queue, which changes on
    /// overflow or transfer); false if there is no such task.
    pub async fn update_task(
        &self,
        id: i64,
        queue: &str,
        state: &str,
        attempts: i64,
        next_attempt_at_ms: Option<i64>,
        updated_at_ms: i64,
    ) -> Result<bool, StoreError> {
        let row = TaskRow {
            id,
            queue: queue.to_string(),
            state: state.to_string(),
            attempts,
            next_attempt_at_ms,
            updated_at_ms,
            ..TaskRow::default()
        };
        let mut tx = self.begin().await?;
        let found = Store::update_task_in(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// As `update_task` with `t`'s queue, state, attempts, next attempt and write time
    /// (its other columns never change), inside a transaction the caller commits.
    pub async fn update_task_in(
        tx: &mut StoreTransaction,
        t: &TaskRow,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tasks SET queue = $1, state = $2, attempts = $3, next_attempt_at_ms = $4, \
             updated_at_ms = $5 WHERE id = $6",
        )
        .bind(&t.queue)
        .bind(&t.state)
        .bind(t.attempts)
        .bind(t.next_attempt_at_ms)
        .bind(t.updated_at_ms)
        .bind(t.id)
        .execute(&mut *tx.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// One task by id.
    pub async fn task(&self, id: i64) -> Result<Option<TaskRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tasks WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(task_row).transpose()
    }

    /// The newest stored tasks of `customer`, at most `limit`.
    pub async fn tasks_of_customer(
        &self,
        customer: &str,
        limit: i64,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tasks WHERE customer = $1 \
             ORDER BY arrived_at_ms DESC, id DESC LIMIT $2"
        ))
        .bind(customer)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(task_row).collect()
    }

    /// Every task not closed, oldest arrival first (ties by id).
    pub async fn open_tasks(&self) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tasks \
             WHERE state NOT IN ('done', 'failed', 'cancelled') ORDER BY arrived_at_ms, id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(task_row).collect()
    }

    /// The largest task id ever stored (0 when none), so that new ids never collide.
    pub async fn max_task_id(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM tasks")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }
}

fn task_row(row: &sqlx::any::AnyRow) -> Result<TaskRow, StoreError> {
    Ok(TaskRow {
        id: row.try_get(0)?,
        channel: row.try_get(1)?,
        queue: row.try_get(2)?,
        customer: row.try_get(3)?,
        priority: row.try_get(4)?,
        skills: row.try_get(5)?,
        attributes: row.try_get(6)?,
        arrived_at_ms: row.try_get(7)?,
        deadline_ms: row.try_get(8)?,
        state: row.try_get(9)?,
        attempts: row.try_get(10)?,
        next_attempt_at_ms: row.try_get(11)?,
        updated_at_ms: row.try_get(12)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn row(id: i64, arrived: i64) -> TaskRow {
        TaskRow {
            id,
            channel: "callback".into(),
            queue: "sales".into(),
            customer: Some("+48123456789".into()),
            priority: 2,
            skills: r#"{"sales":3}"#.into(),
            attributes: r#"{"order":"A-1"}"#.into(),
            arrived_at_ms: arrived,
            deadline_ms: Some(arrived + 3_600_000),
            state: "waiting".into(),
            attempts: 0,
            next_attempt_at_ms: None,
            updated_at_ms: arrived,
        }
    }

    #[tokio::test]
    async fn tasks_insert_update_and_list_open() {
        let (store, _dir) = fresh_store().await;
        assert_eq!(store.max_task_id().await.unwrap(), 0);
        store.insert_task(&row(7, 2_000)).await.unwrap();
        store.insert_task(&row(5, 1_000)).await.unwrap();
        store.insert_task(&row(9, 3_000)).await.unwrap();
        assert!(store.insert_task(&row(9, 3_000)).await.is_err());
        assert_eq!(store.max_task_id().await.unwrap(), 9);
        assert!(
            store
                .update_task(7, "support", "retry", 1, Some(9_000), 4_000)
                .await
                .unwrap()
        );
        assert!(
            store
                .update_task(9, "sales", "done", 1, None, 5_000)
                .await
                .unwrap()
        );
        assert!(
            !store
                .update_task(1, "sales", "done", 0, None, 5_000)
                .await
                .unwrap()
        );
        let open = store.open_tasks().await.unwrap();
        assert_eq!(open.iter().map(|t| t.id).collect::<Vec<_>>(), [5, 7]);
        assert_eq!(open[0], row(5, 1_000));
        let seven = store.task(7).await.unwrap().unwrap();
        assert_eq!(
            (seven.queue.as_str(), seven.state.as_str(), seven.attempts),
            ("support", "retry", 1)
        );
        assert_eq!(seven.next_attempt_at_ms, Some(9_000));
        assert_eq!(seven.arrived_at_ms, 2_000);
        assert!(store.task(1).await.unwrap().is_none());
    }
}

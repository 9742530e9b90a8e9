//! The queue log: one row per routing event, written in batches by the routing shell's log
//! writer, and the report computed from it (service level, ASA, AHT, abandonment).

use sqlx::Row;

use super::{Store, StoreError};

/// One routing event as stored. See `migrations/0003_routing.sql` for the event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLogRow {
    /// Unique id (the writer makes it from time, a per-process nonce and a sequence).
    pub id: String,
    /// Unix ms of the event.
    pub ts_ms: i64,
    /// Queue name (`""` for agent events).
    pub queue: String,
    /// Channel name.
    pub channel: String,
    /// Routing task id (0 for agent events).
    pub task: i64,
    /// Agent's extension number, when an agent is involved.
    pub agent: Option<String>,
    /// Event name.
    pub event: String,
    /// The customer's wait so far (answer, abandon, ...).
    pub wait_ms: Option<i64>,
    /// Handling time (complete) or wrap-up length (wrap_up).
    pub duration_ms: Option<i64>,
    /// Free text (overflow target, attempt outcome, break reason, ...).
    pub detail: Option<String>,
}

/// Figures for one queue over one period, computed exactly from the log.
///
/// Counted events are those with `from_ms <= ts_ms < to_ms`:
/// * service level = answers with `wait_ms <= threshold` / (answers + abandons with
///   `wait_ms > threshold`) — abandons before the threshold are not held against it;
/// * ASA = sum of answers' `wait_ms` / answers;
/// * AHT = (sum of completes' `duration_ms` + sum of wrap-ups' `duration_ms`) / completes;
/// * abandonment = abandons / (answers + abandons).
///
/// A caller who asked for a callback instead of waiting (`callback_requested`) is neither
/// answered nor abandoned here; the callback is its own task.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueReport {
    /// Tasks that entered the queue (`enqueue` and `overflow` in).
    pub entered: i64,
    /// Answers.
    pub answered: i64,
    /// Answers within the threshold.
    pub answered_within: i64,
    /// Abandons.
    pub abandoned: i64,
    /// Abandons after the threshold.
    pub abandoned_after: i64,
    /// Completions.
    pub completed: i64,
    /// Sum of answers' waits.
    pub total_wait_ms: i64,
    /// Sum of handling and wrap-up time.
    pub total_handle_ms: i64,
}

impl QueueReport {
    /// Share answered within the threshold (see the type docs); `None` with no base.
    pub fn service_level(&self) -> Option<f64> {
        ratio(self.answered_within, self.answered + self.abandoned_after)
    }

    /// Average speed of answer, ms.
    pub fn asa_ms(&self) -> Option<f64> {
        ratio(self.total_wait_ms, self.answered)
    }

    /// Average handling time (including wrap-up), ms.
    pub fn aht_ms(&self) -> Option<f64> {
        ratio(self.total_handle_ms, self.completed)
    }

    /// Share of abandons among answered and abandoned tasks.
    pub fn abandonment(&self) -> Option<f64> {
        ratio(self.abandoned, self.answered + self.abandoned)
    }
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

const COLUMNS: &str = "id, ts_ms, queue, channel, task, agent, event, wait_ms, duration_ms, detail";

impl Store {
    /// Appends rows in one transaction.
    pub async fn insert_queue_log(&self, rows: &[QueueLogRow]) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for r in rows {
            sqlx::query(&format!(
                "INSERT INTO queue_log ({COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(&r.id)
            .bind(r.ts_ms)
            .bind(&r.queue)
            .bind(&r.channel)
            .bind(r.task)
            .bind(&r.agent)
            .bind(&r.event)
            .bind(r.wait_ms)
            .bind(r.duration_ms)
            .bind(&r.detail)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The log of one task, in order.
    pub async fn task_log(&self, task: i64) -> Result<Vec<QueueLogRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM queue_log WHERE task = $1 ORDER BY ts_ms, id"
        ))
        .bind(task)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(log_row).collect()
    }

    /// The report of `queue` for `from_ms <= ts_ms < to_ms`, optionally one channel only, with
    /// the service-level `threshold_ms`. See `QueueReport`.
    pub async fn queue_report(
        &self,
        queue: &str,
        channel: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        threshold_ms: i64,
    ) -> Result<QueueReport, StoreError> {
        let count = |cond: &str| {
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)")
        };
        let total = |cond: &str, col: &str| {
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN {col} ELSE 0 END), 0) AS BIGINT)")
        };
        let sql = format!(
            "SELECT {}, {}, {}, {}, {}, {}, {}, {} FROM queue_log \
             WHERE queue = $1 AND ts_ms >= $2 AND ts_ms < $3{}",
            count("event IN ('enqueue', 'overflow_in')"),
            count("event = 'answer'"),
            count("event = 'answer' AND wait_ms <= $4"),
            count("event = 'abandon'"),
            count("event = 'abandon' AND wait_ms > $4"),
            count("event = 'complete'"),
            total("event = 'answer'", "wait_ms"),
            total("event IN ('complete', 'wrap_up')", "duration_ms"),
            if channel.is_some() {
                " AND channel = $5"
            } else {
                ""
            },
        );
        let mut query = sqlx::query(&sql)
            .bind(queue)
            .bind(from_ms)
            .bind(to_ms)
            .bind(threshold_ms);
        if let Some(channel) = channel {
            query = query.bind(channel);
        }
        let row = query.fetch_one(self.pool()).await?;
        Ok(QueueReport {
            entered: row.try_get(0)?,
            answered: row.try_get(1)?,
            answered_within: row.try_get(2)?,
            abandoned: row.try_get(3)?,
            abandoned_after: row.try_get(4)?,
            completed: row.try_get(5)?,
            total_wait_ms: row.try_get(6)?,
            total_handle_ms: row.try_get(7)?,
        })
    }
}

pub(super) fn log_row(row: &sqlx::any::AnyRow) -> Result<QueueLogRow, StoreError> {
    Ok(QueueLogRow {
        id: row.try_get(0)?,
        ts_ms: row.try_get(1)?,
        queue: row.try_get(2)?,
        channel: row.try_get(3)?,
        task: row.try_get(4)?,
        agent: row.try_get(5)?,
        event: row.try_get(6)?,
        wait_ms: row.try_get(7)?,
        duration_ms: row.try_get(8)?,
        detail: row.try_get(9)?,
    })
}

#[cfg(test)]
mod tests;

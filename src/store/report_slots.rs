//! Report sums from the queue log: additive counts per group and 15-minute UTC slot, which
//! `reports::compute` merges into the asked interval in the asked time zone.
//!
//! Owns: the one aggregate query behind `/api/v1/reports/*` and the agent-state rows the agent
//! report replays. Must not touch: the formulas (`reports::formula`) or time zones.
//! Driven by: `reports::compute`.
//!
//! Every current time zone's UTC offset is a whole number of quarter hours, so a 15-minute
//! UTC slot lies inside exactly one local 15-minute, hour or day interval. The query scans
//! `queue_log` once over `[from, to)` using the `ts_ms` index, and returns at most
//! groups × slots rows whatever the number of events.

use sqlx::Row;

use super::{QueueLogRow, Store, StoreError};
use crate::reports::formula::Counts;

/// Length of a slot, ms.
pub const SLOT_MS: i64 = 15 * 60 * 1000;

/// Which column groups the sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// `queue` (agent-only rows, with an empty queue, are left out).
    Queue,
    /// `channel` (task rows only).
    Channel,
    /// `agent` (rows naming an agent).
    Agent,
}

/// One group's sums in one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotCounts {
    /// The queue, channel or agent.
    pub key: String,
    /// `ts_ms / SLOT_MS`.
    pub slot: i64,
    /// The sums.
    pub counts: Counts,
}

/// What to sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery {
    /// Grouping.
    pub group: GroupBy,
    /// Start, unix ms (inclusive).
    pub from_ms: i64,
    /// End, unix ms (exclusive).
    pub to_ms: i64,
    /// Service-level threshold per queue, ms; queues not listed use `default_threshold_ms`.
    pub thresholds_ms: Vec<(String, i64)>,
    /// Threshold for queues not in `thresholds_ms`, ms.
    pub default_threshold_ms: i64,
    /// Abandons with a wait below this are short abandons, ms.
    pub short_abandon_ms: i64,
}

impl Store {
    /// The sums of `q`, ordered by key and slot.
    pub async fn report_slots(&self, q: &SlotQuery) -> Result<Vec<SlotCounts>, StoreError> {
        // $1 from, $2 to, $3 short abandon, $4 default threshold, then (queue, ms) pairs.
        let mut threshold = String::from("(CASE queue");
        for i in 0..q.thresholds_ms.len() {
            threshold.push_str(&format!(" WHEN ${} THEN ${}", 5 + 2 * i, 6 + 2 * i));
        }
        threshold.push_str(" ELSE $4 END)");
        if q.thresholds_ms.is_empty() {
            threshold = "$4".into();
        }
        let (key, filter) = match q.group {
            GroupBy::Queue => ("queue", "queue <> ''"),
            GroupBy::Channel => ("channel", "task <> 0"),
            GroupBy::Agent => ("agent", "agent IS NOT NULL"),
        };
        let count = |cond: &str| {
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)")
        };
        let total = |cond: &str, col: &str| {
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN {col} ELSE 0 END), 0) AS BIGINT)")
        };
        let within_sla = "event = 'callback_attempt' AND detail LIKE 'answered%' AND EXISTS \
            (SELECT 1 FROM tasks t WHERE t.id = queue_log.task AND t.deadline_ms IS NOT NULL \
             AND queue_log.ts_ms <= t.deadline_ms)";
        let columns = [
            count("event IN ('enqueue', 'overflow_in')"),
            count("event = 'answer'"),
            count(&format!("event = 'answer' AND wait_ms <= {threshold}")),
            count("event = 'abandon'"),
            count("event = 'abandon' AND wait_ms < $3"),
            count(&format!("event = 'abandon' AND wait_ms > {threshold}")),
            total("event = 'answer'", "wait_ms"),
            "CAST(COALESCE(MAX(CASE WHEN event IN ('answer', 'abandon') THEN wait_ms END), 0) \
             AS BIGINT)"
                .to_string(),
            count("event IN ('complete', 'callback_retry')"),
            total("event IN ('complete', 'callback_retry')", "duration_ms"),
            total("event = 'wrap_up'", "duration_ms"),
            count("event = 'transfer'"),
            count("event = 'overflow'"),
            count("event IN ('callback_requested', 'callback_created')"),
            count("event = 'callback_requested'"),
            count("event = 'callback_attempt' AND detail LIKE 'answered%'"),
            count(within_sla),
        ];
        let sql = format!(
            "SELECT {key}, CAST(ts_ms / {SLOT_MS} AS BIGINT) AS slot, {} FROM queue_log \
             WHERE ts_ms >= $1 AND ts_ms < $2 AND {filter} \
             GROUP BY {key}, CAST(ts_ms / {SLOT_MS} AS BIGINT) ORDER BY 1, 2",
            columns.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(q.from_ms)
            .bind(q.to_ms)
            .bind(q.short_abandon_ms)
            .bind(q.default_threshold_ms);
        for (queue, ms) in &q.thresholds_ms {
            query = query.bind(queue.as_str()).bind(*ms);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let c = |i: usize| r.try_get::<i64, _>(i);
                Ok(SlotCounts {
                    key: r.try_get(0)?,
                    slot: c(1)?,
                    counts: Counts {
                        offered: c(2)?,
                        answered: c(3)?,
                        answered_within: c(4)?,
                        abandoned: c(5)?,
                        short_abandoned: c(6)?,
                        abandoned_after: c(7)?,
                        wait_ms: c(8)?,
                        longest_wait_ms: c(9)?,
                        handled: c(10)?,
                        talk_ms: c(11)?,
                        wrap_ms: c(12)?,
                        transferred: c(13)?,
                        overflowed: c(14)?,
                        callbacks_requested: c(15)?,
                        callbacks_kept_place: c(16)?,
                        callbacks_completed: c(17)?,
                        callbacks_within_sla: c(18)?,
                    },
                })
            })
            .collect()
    }

    /// Rows that change what agents are doing, `from_ms <= ts_ms < to_ms`, in time order: agent
    /// events (login, logout, break, ready, not_ready) and task rows naming an agent (answer,
    /// complete, callback_retry, wrap_up). For the agent report's occupancy.
    pub async fn agent_timeline(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<QueueLogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, ts_ms, queue, channel, task, agent, event, wait_ms, duration_ms, detail \
             FROM queue_log WHERE ts_ms >= $1 AND ts_ms < $2 AND agent IS NOT NULL AND event IN \
             ('login', 'logout', 'break', 'ready', 'not_ready', 'answer', 'complete', \
              'callback_retry', 'wrap_up') ORDER BY ts_ms, id",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(super::queue_log::log_row).collect()
    }
}

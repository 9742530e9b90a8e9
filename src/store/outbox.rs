//! Webhook subscriptions and the transactional outbox of events to deliver to them.
//!
//! An event is written here, one row per matching subscription, in the same transaction as the
//! change it reports (`enqueue_event_in` on a `StoreTransaction`), so an event exists exactly
//! when its change does, whatever crashes or CRM outages follow. The delivery worker
//! (`cti::webhook`) reads the head of each subscription's line with `due_deliveries` and
//! records each attempt with `mark_delivered` / `mark_failed`.
//!
//! Writing is cheap when nobody subscribed: `enqueue_events_in` reserves the positions of a
//! whole batch of events of one kind with a single `UPDATE ... RETURNING` on the matching
//! active subscriptions, and writes rows only for the lines it got back. With no matching
//! subscription that statement touches no row and nothing else runs; callers learn from the
//! count returned (0) that there is no delivery worker to wake, and `reserve_lines` lets a
//! caller find that out before building the events at all (the CDR writer does).
//!
//! Why no "no subscriptions" cache in the process: several Centrala nodes may share one
//! PostgreSQL database, and a subscription created through another node must get every event
//! enqueued after it was committed. A cached "nobody listens" would miss those until it was
//! refreshed. The check therefore stays a statement inside the writing transaction, where the
//! database orders it against subscription writes: on SQLite the statement takes the write
//! lock, so a subscription is committed either wholly before the reservation (and gets the
//! event) or after our commit; on PostgreSQL (read committed) the reservation sees every
//! subscription committed before the statement starts, and locks the rows it updates, so
//! concurrent writers of one line get distinct consecutive positions. A subscription committed
//! while a writing transaction is already past its reservation starts its line after that
//! event, as it did when each event was reserved on its own.
//!
//! The kind is matched with `LIKE '%,' || $kind || ',%'` rather than a bound `'%,kind,%'`
//! pattern: SQLite re-prepares a statement on every run when the right side of a `LIKE` is a
//! bare parameter (the value might allow its LIKE index optimisation), which cost more than
//! the rest of the statement.

use sqlx::Row;

use super::{Store, StoreError};

/// One webhook subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    /// Its id (`config:<name>` for the ones from the config file).
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// HMAC-SHA256 signing key.
    pub secret: String,
    /// Event kinds delivered; empty means every kind.
    pub events: Vec<String>,
    /// Inactive subscriptions get no new rows and their pending rows wait.
    pub active: bool,
    /// Unix milliseconds when it was first stored.
    pub created_at_ms: i64,
}

/// An event to put in the outbox: the JSON body is stored and sent as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Event id (receivers dedupe by it).
    pub id: String,
    /// Event kind, e.g. `call.ended` (matched against subscriptions' filters).
    pub kind: String,
    /// The JSON body.
    pub body: String,
    /// Unix milliseconds; also the first attempt's due time.
    pub created_at_ms: i64,
}

/// The head of one subscription's line, due for an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDelivery {
    /// The subscription.
    pub subscription_id: String,
    /// Position in the subscription's line.
    pub seq: i64,
    /// The event's id.
    pub event_id: String,
    /// The event's kind.
    pub event_kind: String,
    /// The JSON body to send.
    pub body: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The subscription's URL.
    pub url: String,
    /// The subscription's signing key.
    pub secret: String,
}

/// Positions reserved in one subscription's line by `Store::reserve_lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReservedLine {
    /// The subscription.
    subscription_id: String,
    /// The position of the first event; the others follow consecutively.
    first_seq: i64,
}

/// An open database transaction, for writes that must commit together (a change and its
/// events). Dropping it without `commit` rolls back.
#[derive(Debug)]
pub struct StoreTransaction {
    pub(super) tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl StoreTransaction {
    /// Commits every write made through this transaction.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }

    /// Discards every write made through this transaction.
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }
}

impl Store {
    /// Opens a transaction.
    pub async fn begin(&self) -> Result<StoreTransaction, StoreError> {
        Ok(StoreTransaction {
            tx: self.pool().begin().await?,
        })
    }

    /// Inserts a subscription or updates its url, secret, filter and activity (its line and
    /// sequence numbers are kept).
    pub async fn upsert_subscription(&self, s: &SubscriptionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webhook_subscriptions \
             (id, url, secret, events, active, next_seq, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) \
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, \
             events = excluded.events, active = excluded.active",
        )
        .bind(&s.id)
        .bind(&s.url)
        .bind(&s.secret)
        .bind(events_column(&s.events))
        .bind(i64::from(s.active))
        .bind(s.created_at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks a subscription inactive; false if there is no such subscription.
    pub async fn deactivate_subscription(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE webhook_subscriptions SET active = 0 WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every subscription, by id.
    pub async fn subscriptions(&self) -> Result<Vec<SubscriptionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, secret, events, active, created_at_ms \
             FROM webhook_subscriptions ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SubscriptionRow {
                    id: row.try_get(0)?,
                    url: row.try_get(1)?,
                    secret: row.try_get(2)?,
                    events: events_from_column(&row.try_get::<String, _>(3)?),
                    active: row.try_get::<i64, _>(4)? != 0,
                    created_at_ms: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// Writes `event` for every active subscription whose filter matches, in one transaction.
    /// Returns the number of rows written.
    pub async fn enqueue_event(&self, event: &OutboxEvent) -> Result<usize, StoreError> {
        let mut tx = self.begin().await?;
        let written = Store::enqueue_event_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// As `enqueue_event`, inside a transaction the caller commits with its other writes. Call
    /// it before other reads in the transaction where possible: its first statement takes the
    /// write lock (SQLite) or the subscription rows' locks (PostgreSQL), which orders
    /// concurrent writers instead of failing one of them.
    pub async fn enqueue_event_in(
        tx: &mut StoreTransaction,
        event: &OutboxEvent,
    ) -> Result<usize, StoreError> {
        Store::enqueue_events_in(tx, std::slice::from_ref(event)).await
    }

    /// As `enqueue_event_in` for several events, in order: each run of events of one kind
    /// costs one statement to reserve its positions (plus one insert per row written).
    /// Returns the number of rows written (0: no active subscription takes these kinds).
    pub async fn enqueue_events_in(
        tx: &mut StoreTransaction,
        events: &[OutboxEvent],
    ) -> Result<usize, StoreError> {
        let mut written = 0;
        for run in events.chunk_by(|a, b| a.kind == b.kind) {
            let lines = Store::reserve_lines(tx, &run[0].kind, run.len()).await?;
            written += Store::write_lines(tx, &lines, run).await?;
        }
        Ok(written)
    }

    /// Reserves the next `count` positions of `kind` in the line of every active subscription
    /// whose filter takes it (one statement). Empty when no subscription takes the kind: then
    /// the events need not even be built. Pass the result and the events, in order, to
    /// `write_lines` in the same transaction.
    pub(super) async fn reserve_lines(
        tx: &mut StoreTransaction,
        kind: &str,
        count: usize,
    ) -> Result<Vec<ReservedLine>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "UPDATE webhook_subscriptions SET next_seq = next_seq + $1 \
             WHERE active = 1 AND (events = '*' OR events LIKE '%,' || $2 || ',%') \
             RETURNING id, next_seq",
        )
        .bind(i64::try_from(count).unwrap_or(i64::MAX))
        .bind(kind)
        .fetch_all(&mut *tx.tx)
        .await?;
        rows.iter()
            .map(|row| {
                let last: i64 = row.try_get(1)?;
                Ok(ReservedLine {
                    subscription_id: row.try_get(0)?,
                    first_seq: last - i64::try_from(count).unwrap_or(i64::MAX) + 1,
                })
            })
            .collect()
    }

    /// Writes `events` (the ones `reserve_lines` reserved positions for, in the same order) to
    /// each reserved line. Returns the number of rows written.
    pub(super) async fn write_lines(
        tx: &mut StoreTransaction,
        lines: &[ReservedLine],
        events: &[OutboxEvent],
    ) -> Result<usize, StoreError> {
        let mut written = 0;
        for line in lines {
            for (seq, event) in (line.first_seq..).zip(events) {
                sqlx::query(
                    "INSERT INTO outbox (id, subscription_id, seq, event_id, event_kind, body, \
                     created_at_ms, attempts, next_attempt_at_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7)",
                )
                .bind(format!("{}/{}", event.id, line.subscription_id))
                .bind(&line.subscription_id)
                .bind(seq)
                .bind(&event.id)
                .bind(&event.kind)
                .bind(&event.body)
                .bind(event.created_at_ms)
                .execute(&mut *tx.tx)
                .await?;
                written += 1;
            }
        }
        Ok(written)
    }

    /// The head (lowest undelivered seq) of each active subscription's line whose next attempt
    /// is due at `now_ms`, soonest first, at most `limit`.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxDelivery>, StoreError> {
        let sql = format!(
            "SELECT o.subscription_id, o.seq, o.event_id, o.event_kind, o.body, o.attempts, \
             s.url, s.secret {HEADS} AND o.next_attempt_at_ms <= $1 \
             ORDER BY o.next_attempt_at_ms, o.subscription_id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(OutboxDelivery {
                    subscription_id: row.try_get(0)?,
                    seq: row.try_get(1)?,
                    event_id: row.try_get(2)?,
                    event_kind: row.try_get(3)?,
                    body: row.try_get(4)?,
                    attempts: row.try_get(5)?,
                    url: row.try_get(6)?,
                    secret: row.try_get(7)?,
                })
            })
            .collect()
    }

    /// The rows of one subscription's line (delivered or not), oldest first, at most
    /// `limit`: (seq, event kind, body).
    pub async fn outbox_line(
        &self,
        subscription_id: &str,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, event_kind, body FROM outbox WHERE subscription_id = $1 \
             ORDER BY seq LIMIT $2",
        )
        .bind(subscription_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// When the earliest head of line becomes due (unix ms), if anything is pending.
    pub async fn next_attempt_at_ms(&self) -> Result<Option<i64>, StoreError> {
        let sql = format!("SELECT MIN(o.next_attempt_at_ms) {HEADS}");
        let row = sqlx::query(&sql).fetch_one(self.pool()).await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// Records a successful delivery; false if the row is unknown or already delivered.
    pub async fn mark_delivered(
        &self,
        subscription_id: &str,
        seq: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET delivered_at_ms = $1, attempts = attempts + 1, last_error = NULL \
             WHERE subscription_id = $2 AND seq = $3 AND delivered_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(subscription_id)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a failed attempt and when to try again; false if the row is unknown or
    /// already delivered.
    pub async fn mark_failed(
        &self,
        subscription_id: &str,
        seq: i64,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at_ms = $1, last_error = $2 \
             WHERE subscription_id = $3 AND seq = $4 AND delivered_at_ms IS NULL",
        )
        .bind(next_attempt_at_ms)
        .bind(error)
        .bind(subscription_id)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Undelivered rows, all subscriptions.
    pub async fn pending_deliveries(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM outbox WHERE delivered_at_ms IS NULL")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Deletes rows delivered before `before_ms`; returns how many.
    pub async fn prune_delivered(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM outbox WHERE delivered_at_ms < $1")
            .bind(before_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

/// FROM/WHERE selecting the head of each active subscription's line.
const HEADS: &str = "FROM outbox o JOIN webhook_subscriptions s ON s.id = o.subscription_id \
     WHERE s.active = 1 AND o.delivered_at_ms IS NULL AND o.seq = (SELECT MIN(i.seq) \
     FROM outbox i WHERE i.subscription_id = o.subscription_id AND i.delivered_at_ms IS NULL)";

fn events_column(events: &[String]) -> String {
    if events.is_empty() {
        "*".to_string()
    } else {
        format!(",{},", events.join(","))
    }
}

fn events_from_column(column: &str) -> Vec<String> {
    column
        .split(',')
        .filter(|kind| !kind.is_empty() && *kind != "*")
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn subscription(id: &str, events: &[&str]) -> SubscriptionRow {
        SubscriptionRow {
            id: id.into(),
            url: format!("http://127.0.0.1:48999/{id}"),
            secret: "k".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            active: true,
            created_at_ms: 1,
        }
    }

    fn event(id: &str, kind: &str, at: i64) -> OutboxEvent {
        OutboxEvent {
            id: id.into(),
            kind: kind.into(),
            body: format!("{{\"id\":\"{id}\"}}"),
            created_at_ms: at,
        }
    }

    #[tokio::test]
    async fn subscriptions_round_trip_and_update() {
        let (store, _dir) = fresh_store().await;
        let mut a = subscription("a", &["call.ended", "task.sla_breached"]);
        store.upsert_subscription(&a).await.unwrap();
        store
            .upsert_subscription(&subscription("b", &[]))
            .await
            .unwrap();
        a.url = "http://127.0.0.1:48999/new".into();
        store.upsert_subscription(&a).await.unwrap();
        let all = store.subscriptions().await.unwrap();
        assert_eq!(all, vec![a, subscription("b", &[])]);
        assert!(store.deactivate_subscription("b").await.unwrap());
        assert!(!store.deactivate_subscription("zz").await.unwrap());
    }

    #[tokio::test]
    async fn enqueue_fans_out_by_filter_with_sequence_per_subscription() {
        let (store, _dir) = fresh_store().await;
        store
            .upsert_subscription(&subscription("all", &[]))
            .await
            .unwrap();
        let ended = subscription("ended", &["call.ended"]);
        store.upsert_subscription(&ended).await.unwrap();
        let mut off = subscription("off", &[]);
        off.active = false;
        store.upsert_subscription(&off).await.unwrap();

        assert_eq!(
            store
                .enqueue_event(&event("e1", "call.ringing", 10))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .enqueue_event(&event("e2", "call.ended", 20))
                .await
                .unwrap(),
            2
        );
        assert_eq!(store.pending_deliveries().await.unwrap(), 3);

        let due = store.due_deliveries(100, 10).await.unwrap();
        let heads: Vec<_> = due
            .iter()
            .map(|d| (d.subscription_id.as_str(), d.seq, d.event_id.as_str()))
            .collect();
        assert_eq!(heads, [("all", 1, "e1"), ("ended", 1, "e2")]);
        assert_eq!(due[0].body, "{\"id\":\"e1\"}");
        assert_eq!(due[1].url, ended.url);
    }

    #[tokio::test]
    async fn a_batch_reserves_once_per_run_of_one_kind_and_keeps_order() {
        let (store, _dir) = fresh_store().await;
        let mut tx = store.begin().await.unwrap();
        let nobody = [event("n1", "call.ended", 1), event("n2", "call.ended", 2)];
        assert_eq!(Store::enqueue_events_in(&mut tx, &nobody).await.unwrap(), 0);
        tx.commit().await.unwrap();
        assert_eq!(store.pending_deliveries().await.unwrap(), 0);

        store
            .upsert_subscription(&subscription("all", &[]))
            .await
            .unwrap();
        store
            .upsert_subscription(&subscription("ended", &["call.ended"]))
            .await
            .unwrap();
        let batch = [
            event("e1", "call.ended", 10),
            event("e2", "call.ended", 11),
            event("q1", "task.sla_breached", 12),
            event("e3", "call.ended", 13),
        ];
        let mut tx = store.begin().await.unwrap();
        assert_eq!(Store::enqueue_events_in(&mut tx, &batch).await.unwrap(), 7);
        tx.commit().await.unwrap();
        let ids = |line: Vec<(i64, String, String)>| -> Vec<(i64, String)> {
            line.into_iter().map(|(seq, _, body)| (seq, body)).collect()
        };
        let body = |id: &str| format!("{{\"id\":\"{id}\"}}");
        assert_eq!(
            ids(store.outbox_line("all", 10).await.unwrap()),
            [
                (1, body("e1")),
                (2, body("e2")),
                (3, body("q1")),
                (4, body("e3"))
            ]
        );
        assert_eq!(
            ids(store.outbox_line("ended", 10).await.unwrap()),
            [(1, body("e1")), (2, body("e2")), (3, body("e3"))]
        );
    }

    #[tokio::test]
    async fn head_of_line_blocks_until_delivered() {
        let (store, _dir) = fresh_store().await;
        store
            .upsert_subscription(&subscription("s", &[]))
            .await
            .unwrap();
        for (i, id) in ["e1", "e2", "e3"].iter().enumerate() {
            store
                .enqueue_event(&event(id, "task.queued", i as i64))
                .await
                .unwrap();
        }
        assert!(store.mark_failed("s", 1, 5_000, "HTTP 503").await.unwrap());
        assert!(store.due_deliveries(4_999, 10).await.unwrap().is_empty());
        assert_eq!(store.next_attempt_at_ms().await.unwrap(), Some(5_000));
        let due = store.due_deliveries(5_000, 10).await.unwrap();
        assert_eq!((due[0].seq, due[0].attempts), (1, 1));
        assert!(store.mark_delivered("s", 1, 5_001).await.unwrap());
        assert!(
            !store.mark_delivered("s", 1, 5_002).await.unwrap(),
            "only once"
        );
        let due = store.due_deliveries(5_001, 10).await.unwrap();
        assert_eq!(due[0].event_id, "e2");
        assert_eq!(store.prune_delivered(6_000).await.unwrap(), 1);
        assert_eq!(store.pending_deliveries().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn concurrent_enqueues_get_distinct_consecutive_seqs() {
        let (store, _dir) = fresh_store().await;
        store
            .upsert_subscription(&subscription("s", &[]))
            .await
            .unwrap();
        let mut writers = tokio::task::JoinSet::new();
        for n in 0..16 {
            let store = store.clone();
            writers.spawn(async move {
                store
                    .enqueue_event(&event(&format!("e{n}"), "task.queued", n))
                    .await
            });
        }
        while let Some(done) = writers.join_next().await {
            assert_eq!(done.unwrap().unwrap(), 1);
        }
        let mut seqs = Vec::new();
        for now in 0.. {
            let Some(head) = store.due_deliveries(100, 1).await.unwrap().pop() else {
                break;
            };
            seqs.push(head.seq);
            store.mark_delivered("s", head.seq, now).await.unwrap();
        }
        assert_eq!(seqs, (1..=16).collect::<Vec<i64>>());
    }

    #[tokio::test]
    async fn enqueue_in_a_transaction_commits_or_rolls_back_with_it() {
        let (store, _dir) = fresh_store().await;
        store
            .upsert_subscription(&subscription("s", &[]))
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        Store::enqueue_event_in(&mut tx, &event("lost", "call.ended", 1))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(store.pending_deliveries().await.unwrap(), 0);

        let mut tx = store.begin().await.unwrap();
        Store::enqueue_event_in(&mut tx, &event("kept", "call.ended", 2))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let due = store.due_deliveries(10, 10).await.unwrap();
        assert_eq!(
            (due[0].event_id.as_str(), due[0].seq),
            ("kept", 1),
            "rolled back seq reused"
        );
        assert_eq!(store.next_attempt_at_ms().await.unwrap(), Some(2));
    }
}

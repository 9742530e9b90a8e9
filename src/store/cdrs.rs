//! Call detail records: one row per call, written when the call ends.

use sqlx::Row;

use super::{OutboxEvent, Store, StoreError};

/// One finished call.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CdrRecord {
    /// Our id of the call.
    pub id: String,
    /// SIP Call-ID of the caller's leg.
    pub call_id: String,
    /// Calling number or user.
    pub caller: String,
    /// Called number.
    pub callee: String,
    /// Where the call came from: `extension` or `trunk:<name>`.
    pub origin: String,
    /// Unix ms when the INVITE arrived.
    pub started_at_ms: i64,
    /// Unix ms of the answer, if answered.
    pub answered_at_ms: Option<i64>,
    /// Unix ms of the end.
    pub ended_at_ms: i64,
    /// How the call ended: `answered`, `busy`, `no_answer`, `cancelled`, `unavailable`, `failed`,
    /// `abandoned` (hung up in a queue), `kept_place` (left a callback behind).
    pub result: String,
    /// Why, e.g. `normal_clearing` or the SIP status that ended it.
    pub hangup_cause: String,
    /// Who ended it: `caller`, `callee` or `system`.
    pub hangup_side: String,
    /// Where the call was last transferred to (an extension, `queue:<name>` or a number);
    /// the agent's leg that was released has its own row with cause `transferred`.
    pub transferred_to: Option<String>,
    /// What Centrala received from the caller's side, when the call had media.
    pub caller_quality: Option<MediaQuality>,
    /// What Centrala received from the callee's side, when the call had media.
    pub callee_quality: Option<MediaQuality>,
    /// The queue the call waited in (the last one, after a transfer to a queue or an
    /// overflow); a callback's queue for a callback call.
    #[serde(default)]
    pub queue: Option<String>,
    /// The extension of the agent who answered the call from the queue (a callback's or
    /// click-to-dial call's agent).
    #[serde(default)]
    pub agent: Option<String>,
    /// How long the caller waited in the queue, ms: until an agent answered, or until the
    /// caller hung up (abandoned) or kept their place.
    #[serde(default)]
    pub wait_ms: Option<i64>,
}

/// Media quality of one side of a call, as Centrala received it.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct MediaQuality {
    /// RTP packets received.
    pub packets: i64,
    /// RTP packets lost on the way (expected minus received, RFC 3550 A.3).
    pub lost: i64,
    /// Interarrival jitter at the end of the call (RFC 3550 A.8), microseconds.
    pub jitter_us: i64,
    /// E-model MOS estimate (1-4.5).
    pub mos: f64,
}

impl CdrRecord {
    /// Total time from INVITE to end.
    pub fn duration_ms(&self) -> i64 {
        self.ended_at_ms - self.started_at_ms
    }

    /// Talk time (zero when unanswered).
    pub fn billsec_ms(&self) -> i64 {
        self.answered_at_ms.map_or(0, |at| self.ended_at_ms - at)
    }
}

impl Store {
    /// Writes a CDR.
    pub async fn insert_cdr(&self, cdr: &CdrRecord) -> Result<(), StoreError> {
        self.insert_cdrs(std::slice::from_ref(cdr)).await
    }

    /// Writes several CDRs at once (group commit: one commit for the batch). Rows go in
    /// multi-row INSERTs of at most `CDR_CHUNK` rows, inside one transaction when there is
    /// more than one chunk. The chunk is kept small because SQLite finds a `$N` parameter by
    /// a linear search, so binding costs grow with the square of the parameters in a
    /// statement; with few statement shapes, each is prepared once and then cached. When the
    /// store has event hooks (`Store::with_events`), a `call.ended` event per CDR is written
    /// in the same transaction (one statement reserves the whole batch's positions; with no
    /// subscription for `call.ended` and nobody listening, no event is built).
    pub async fn insert_cdrs(&self, cdrs: &[CdrRecord]) -> Result<(), StoreError> {
        let cache = self.caches_cdr_statements();
        if let Some(hooks) = self.events.clone()
            && !cdrs.is_empty()
        {
            let mut tx = self.begin().await?;
            let lines = Store::reserve_lines(&mut tx, hooks.call_ended_kind(), cdrs.len()).await?;
            let events: Vec<OutboxEvent> = if lines.is_empty() && !hooks.wants_every_event() {
                Vec::new()
            } else {
                cdrs.iter().map(|cdr| hooks.call_ended(cdr)).collect()
            };
            let written = Store::write_lines(&mut tx, &lines, &events).await?;
            for chunk in cdrs.chunks(CDR_CHUNK) {
                insert_cdr_rows(&mut *tx.tx, chunk, cache).await?;
            }
            tx.commit().await?;
            if !events.is_empty() {
                hooks.committed(events, written);
            }
            return Ok(());
        }
        match cdrs.len() {
            0 => Ok(()),
            n if n <= CDR_CHUNK => {
                insert_cdr_rows(self.pool(), cdrs, cache).await?;
                Ok(())
            }
            _ => {
                let mut tx = self.pool().begin().await?;
                for chunk in cdrs.chunks(CDR_CHUNK) {
                    insert_cdr_rows(&mut *tx, chunk, cache).await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Those of `ids` that already have a CDR row: a batch whose commit failed to answer may
    /// still have committed, so the CDR writer retries only the others (no duplicate CDR or
    /// `call.ended` event).
    pub async fn stored_cdr_ids(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT id FROM cdrs WHERE id IN ({})", marks.join(", "));
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            found.extend(query.fetch_all(self.pool()).await?);
        }
        Ok(found)
    }

    /// The newest CDRs first, at most `limit`, skipping `offset`.
    pub async fn recent_cdrs(&self, limit: i64, offset: i64) -> Result<Vec<CdrRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, call_id, caller, callee, origin, started_at_ms, answered_at_ms, \
             ended_at_ms, result, hangup_cause, hangup_side, transferred_to, \
             caller_packets, caller_lost, caller_jitter_us, caller_mos, \
             callee_packets, callee_lost, callee_jitter_us, callee_mos, \
             queue, agent, wait_ms FROM cdrs \
             ORDER BY started_at_ms DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_cdr).collect()
    }

    /// The newest CDRs in which `party` called or was called, at most `limit`.
    pub async fn cdrs_of_party(
        &self,
        party: &str,
        limit: i64,
    ) -> Result<Vec<CdrRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, call_id, caller, callee, origin, started_at_ms, answered_at_ms, \
             ended_at_ms, result, hangup_cause, hangup_side, transferred_to, \
             caller_packets, caller_lost, caller_jitter_us, caller_mos, \
             callee_packets, callee_lost, callee_jitter_us, callee_mos, \
             queue, agent, wait_ms FROM cdrs \
             WHERE caller = $1 OR callee = $1 ORDER BY started_at_ms DESC, id DESC LIMIT $2",
        )
        .bind(party)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_cdr).collect()
    }
}

fn row_to_cdr(row: &sqlx::any::AnyRow) -> Result<CdrRecord, StoreError> {
    Ok(CdrRecord {
        id: row.try_get(0)?,
        call_id: row.try_get(1)?,
        caller: row.try_get(2)?,
        callee: row.try_get(3)?,
        origin: row.try_get(4)?,
        started_at_ms: row.try_get(5)?,
        answered_at_ms: row.try_get(6)?,
        ended_at_ms: row.try_get(7)?,
        result: row.try_get(8)?,
        hangup_cause: row.try_get(9)?,
        hangup_side: row.try_get(10)?,
        transferred_to: row.try_get(11)?,
        caller_quality: quality_at(row, 12)?,
        callee_quality: quality_at(row, 16)?,
        queue: row.try_get(20)?,
        agent: row.try_get(21)?,
        wait_ms: row.try_get(22)?,
    })
}

/// The four quality columns of one side starting at `first`; `None` when the call had no media.
fn quality_at(row: &sqlx::any::AnyRow, first: usize) -> Result<Option<MediaQuality>, sqlx::Error> {
    let Some(packets) = row.try_get::<Option<i64>, _>(first)? else {
        return Ok(None);
    };
    Ok(Some(MediaQuality {
        packets,
        lost: row.try_get::<Option<i64>, _>(first + 1)?.unwrap_or(0),
        jitter_us: row.try_get::<Option<i64>, _>(first + 2)?.unwrap_or(0),
        mos: row.try_get::<Option<f64>, _>(first + 3)?.unwrap_or(0.0),
    }))
}

impl Store {
    /// Whether CDR inserts may be cached prepared statements. Not on PostgreSQL: sqlx 0.8.6's
    /// `Any` driver sends a NULL `f64` as a `float4` parameter (its `AnyArguments` conversion
    /// swaps `Real` and `Double`), so a statement first prepared for a CDR without media
    /// quality (NULL MOS) rejects a later CDR's 8-byte MOS ("incorrect binary data format");
    /// there each insert is prepared anew. SQLite has no such types, and preparing the insert
    /// for every batch cost it more than the rest of the write. The MOS columns are the only
    /// nullable floats the store binds.
    fn caches_cdr_statements(&self) -> bool {
        self.pool().connect_options().database_url.scheme() == "sqlite"
    }
}

/// CDRs per INSERT statement at most (25 parameters each).
const CDR_CHUNK: usize = 5;

/// The multi-row INSERT statement for `rows` CDRs (1 to `CDR_CHUNK`), built once per size:
/// the writer runs one per batch, and building the text cost as much as binding the rows.
fn insert_cdrs_sql(rows: usize) -> &'static str {
    const COLUMNS: usize = 25;
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        (1..=CDR_CHUNK)
            .map(|rows| {
                let values: Vec<String> = (0..rows)
                    .map(|row| {
                        let params: Vec<String> = (1..=COLUMNS)
                            .map(|c| format!("${}", row * COLUMNS + c))
                            .collect();
                        format!("({})", params.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO cdrs (id, call_id, caller, callee, origin, started_at_ms, \
                     answered_at_ms, ended_at_ms, duration_ms, billsec_ms, result, hangup_cause, \
                     hangup_side, transferred_to, caller_packets, caller_lost, caller_jitter_us, \
                     caller_mos, callee_packets, callee_lost, callee_jitter_us, callee_mos, \
                     queue, agent, wait_ms) VALUES {}",
                    values.join(", ")
                )
            })
            .collect()
    });
    &all[rows.clamp(1, CDR_CHUNK) - 1]
}

/// One multi-row INSERT of `cdrs` (1 to `CDR_CHUNK`).
async fn insert_cdr_rows<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    cdrs: &[CdrRecord],
    cache: bool,
) -> Result<(), sqlx::Error> {
    debug_assert!((1..=CDR_CHUNK).contains(&cdrs.len()));
    let mut query = sqlx::query(insert_cdrs_sql(cdrs.len())).persistent(cache);
    for cdr in cdrs {
        query = query
            .bind(&cdr.id)
            .bind(&cdr.call_id)
            .bind(&cdr.caller)
            .bind(&cdr.callee)
            .bind(&cdr.origin)
            .bind(cdr.started_at_ms)
            .bind(cdr.answered_at_ms)
            .bind(cdr.ended_at_ms)
            .bind(cdr.duration_ms())
            .bind(cdr.billsec_ms())
            .bind(&cdr.result)
            .bind(&cdr.hangup_cause)
            .bind(&cdr.hangup_side)
            .bind(&cdr.transferred_to);
        for quality in [&cdr.caller_quality, &cdr.callee_quality] {
            query = query
                .bind(quality.map(|q| q.packets))
                .bind(quality.map(|q| q.lost))
                .bind(quality.map(|q| q.jitter_us))
                .bind(quality.map(|q| q.mos));
        }
        query = query.bind(&cdr.queue).bind(&cdr.agent).bind(cdr.wait_ms);
    }
    query.execute(executor).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn cdr(id: &str, at: i64) -> CdrRecord {
        CdrRecord {
            id: id.into(),
            call_id: format!("{id}@h"),
            caller: "1001".into(),
            callee: "1002".into(),
            origin: "extension".into(),
            started_at_ms: at,
            answered_at_ms: None,
            ended_at_ms: at + 10,
            result: "busy".into(),
            hangup_cause: "486 Busy Here".into(),
            hangup_side: "callee".into(),
            transferred_to: None,
            caller_quality: None,
            callee_quality: None,
            queue: None,
            agent: None,
            wait_ms: None,
        }
    }

    /// Hooks that record what the store asked of them.
    #[derive(Debug, Default)]
    struct Recorder {
        listening: bool,
        built: std::sync::atomic::AtomicUsize,
        committed: std::sync::Mutex<Vec<(Vec<String>, usize)>>,
    }

    impl crate::store::StoreEvents for Recorder {
        fn call_ended(&self, cdr: &CdrRecord) -> OutboxEvent {
            self.built
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            OutboxEvent {
                id: format!("ev-{}", cdr.id),
                kind: "call.ended".into(),
                body: format!("{{\"call\":\"{}\"}}", cdr.id),
                created_at_ms: cdr.ended_at_ms,
            }
        }

        fn recording_ready(&self, id: &str, _: &str, _: i64, _: i64) -> OutboxEvent {
            unreachable!("no recordings here: {id}")
        }

        fn call_ended_kind(&self) -> &'static str {
            "call.ended"
        }

        fn wants_every_event(&self) -> bool {
            self.listening
        }

        fn committed(&self, events: Vec<OutboxEvent>, rows_written: usize) {
            let ids = events.into_iter().map(|e| e.id).collect();
            self.committed.lock().unwrap().push((ids, rows_written));
        }
    }

    #[tokio::test]
    async fn without_subscribers_or_listeners_no_event_is_built() {
        let (store, _dir) = fresh_store().await;
        let hooks = std::sync::Arc::new(Recorder::default());
        let store = store.with_events(hooks.clone());
        let batch = vec![cdr("a", 1), cdr("b", 2)];
        store.insert_cdrs(&batch).await.unwrap();
        assert_eq!(store.recent_cdrs(10, 0).await.unwrap().len(), 2);
        assert_eq!(hooks.built.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert!(hooks.committed.lock().unwrap().is_empty());
        assert_eq!(store.pending_deliveries().await.unwrap(), 0);

        let listened = std::sync::Arc::new(Recorder {
            listening: true,
            ..Recorder::default()
        });
        let store = store.with_events(listened.clone());
        store.insert_cdrs(&[cdr("c", 3)]).await.unwrap();
        assert_eq!(
            *listened.committed.lock().unwrap(),
            vec![(vec!["ev-c".to_string()], 0)],
            "live listeners get the event, no outbox row is written"
        );
        assert_eq!(store.pending_deliveries().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_batch_gets_consecutive_positions_in_every_subscribed_line() {
        let (store, _dir) = fresh_store().await;
        for (id, events) in [("all", "*"), ("ended", ",call.ended,"), ("other", ",x.y,")] {
            sqlx::query(
                "INSERT INTO webhook_subscriptions \
                 (id, url, secret, events, active, next_seq, created_at_ms) \
                 VALUES ($1, 'http://127.0.0.1:1/', 'k', $2, 1, 0, 0)",
            )
            .bind(id)
            .bind(events)
            .execute(store.pool())
            .await
            .unwrap();
        }
        let hooks = std::sync::Arc::new(Recorder::default());
        let store = store.with_events(hooks.clone());
        store.insert_cdrs(&[cdr("a", 1)]).await.unwrap();
        store
            .insert_cdrs(&[cdr("b", 2), cdr("c", 3), cdr("d", 4)])
            .await
            .unwrap();
        for line in ["all", "ended"] {
            let rows = store.outbox_line(line, 10).await.unwrap();
            let got: Vec<(i64, &str)> = rows.iter().map(|(s, _, b)| (*s, b.as_str())).collect();
            assert_eq!(
                got,
                [
                    (1, "{\"call\":\"a\"}"),
                    (2, "{\"call\":\"b\"}"),
                    (3, "{\"call\":\"c\"}"),
                    (4, "{\"call\":\"d\"}")
                ],
                "{line}"
            );
        }
        assert!(store.outbox_line("other", 10).await.unwrap().is_empty());
        let committed = hooks.committed.lock().unwrap().clone();
        assert_eq!(committed.len(), 2);
        assert_eq!((committed[0].0.len(), committed[0].1), (1, 2));
        assert_eq!((committed[1].0.len(), committed[1].1), (3, 6));
    }

    #[tokio::test]
    async fn a_batch_of_cdrs_is_written_at_once() {
        let (store, _dir) = fresh_store().await;
        let batch = vec![cdr("a", 1), cdr("b", 2), cdr("c", 3)];
        store.insert_cdrs(&batch).await.unwrap();
        let mut stored = store.recent_cdrs(10, 0).await.unwrap();
        stored.reverse();
        assert_eq!(stored, batch);
        // Several statements (full chunks and a partial one) in one transaction.
        let big: Vec<_> = (0..19).map(|i| cdr(&format!("big{i}"), 100 + i)).collect();
        store.insert_cdrs(&big).await.unwrap();
        let mut stored = store.recent_cdrs(19, 0).await.unwrap();
        stored.reverse();
        assert_eq!(stored, big);
        // A batch that fails in its last chunk stores none of its rows.
        let mut failing: Vec<_> = (0..12).map(|i| cdr(&format!("new{i}"), 200 + i)).collect();
        failing.push(cdr("a", 300));
        assert!(store.insert_cdrs(&failing).await.is_err());
        assert_eq!(store.recent_cdrs(100, 0).await.unwrap().len(), 3 + 19);
    }

    #[tokio::test]
    async fn cdr_round_trip_with_derived_durations() {
        let (store, _dir) = fresh_store().await;
        let cdr = CdrRecord {
            id: "k1".into(),
            call_id: "abc@host".into(),
            caller: "1001".into(),
            callee: "1002".into(),
            origin: "extension".into(),
            started_at_ms: 1_000,
            answered_at_ms: Some(3_000),
            ended_at_ms: 10_000,
            result: "answered".into(),
            hangup_cause: "normal_clearing".into(),
            hangup_side: "caller".into(),
            transferred_to: None,
            caller_quality: Some(MediaQuality {
                packets: 350,
                lost: 2,
                jitter_us: 1_250,
                mos: 4.31,
            }),
            callee_quality: Some(MediaQuality::default()),
            queue: Some("sales".into()),
            agent: Some("1002".into()),
            wait_ms: Some(1_500),
        };
        store.insert_cdr(&cdr).await.unwrap();
        assert_eq!(store.recent_cdrs(10, 0).await.unwrap(), vec![cdr.clone()]);
        assert_eq!((cdr.duration_ms(), cdr.billsec_ms()), (9_000, 7_000));
    }

    #[tokio::test]
    async fn null_columns_first_do_not_stop_values_later() {
        let (store, _dir) = fresh_store().await;
        let bare = CdrRecord {
            id: "t1".into(),
            call_id: "leg@host".into(),
            caller: "1001".into(),
            callee: "1002".into(),
            origin: "extension".into(),
            started_at_ms: 1_000,
            answered_at_ms: None,
            ended_at_ms: 2_000,
            result: "answered".into(),
            hangup_cause: "transferred".into(),
            hangup_side: "callee".into(),
            transferred_to: None,
            caller_quality: None,
            callee_quality: None,
            queue: None,
            agent: None,
            wait_ms: None,
        };
        let full = CdrRecord {
            id: "t2".into(),
            started_at_ms: 3_000,
            transferred_to: Some("queue:sales".into()),
            caller_quality: Some(MediaQuality {
                packets: 10,
                lost: 0,
                jitter_us: 5,
                mos: 4.4,
            }),
            callee_quality: Some(MediaQuality::default()),
            queue: Some("sales".into()),
            agent: Some("1002".into()),
            wait_ms: Some(0),
            ..bare.clone()
        };
        // Every pooled connection prepares the statement with NULLs first.
        for n in 0..12 {
            let id = format!("bare{n}");
            store
                .insert_cdr(&CdrRecord { id, ..bare.clone() })
                .await
                .unwrap();
        }
        store.insert_cdr(&full).await.unwrap();
        assert_eq!(store.recent_cdrs(1, 0).await.unwrap(), vec![full]);
    }
}

//! A customer's timeline: every interaction on every channel, newest first, in one query.
//!
//! Each source (calls by phone number with their recording, stored tasks such as callbacks,
//! voicemails and follow-ups by customer key, conversations and messages, notes,
//! dispositions, survey answers) is read newest first through its own index and cut at
//! `offset + limit + 1` rows; the database merges the cut lists (`UNION ALL`, then one sort
//! of at most a few pages). So a customer with 10,000 interactions costs a few index range
//! scans, not a scan of their history.

use sqlx::Row;

use super::customers::placeholders;
use super::{Store, StoreError};

/// Who the timeline is about.
#[derive(Debug, Clone, Default)]
pub struct TimelineKeys {
    /// The customer group (survivor and merged customers).
    pub customers: Vec<String>,
    /// Their phone numbers (E.164): calls and survey answers.
    pub phones: Vec<String>,
    /// Every identity value (and the customer ids): stored tasks' `customer`.
    pub task_keys: Vec<String>,
}

/// One timeline entry. Columns mean what `kind` says (see the API's timeline docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    /// When, unix ms.
    pub at_ms: i64,
    /// `call`, `task`, `conversation`, `message`, `note`, `disposition`, `survey_answer`.
    pub kind: String,
    /// The entry's own id (CDR, task, conversation, message, note, disposition id).
    pub id: String,
    /// `voice`, `sms`, `email`, ... when the entry has a channel.
    pub channel: Option<String>,
    /// `in` or `out`.
    pub direction: Option<String>,
    /// The other party (number, address, author).
    pub party: Option<String>,
    /// What it belongs to: the call id, conversation id or task id.
    pub reference: Option<String>,
    /// Text: message body (first 500 characters), note, disposition note, question.
    pub text: Option<String>,
    /// State, result, note kind, disposition code, survey key.
    pub state: Option<String>,
    /// The agent, when known.
    pub agent: Option<String>,
    /// Call duration.
    pub duration_ms: Option<i64>,
    /// Extra: the call's recording id, a task's attempts, a survey's name.
    pub extra: Option<String>,
}

impl Store {
    /// The page `offset..offset+limit` of the timeline of `keys`, newest first, plus
    /// whether there is more.
    pub async fn timeline(
        &self,
        keys: &TimelineKeys,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<TimelineRow>, bool), StoreError> {
        let cut = limit + offset + 1;
        let mut binds: Vec<String> = Vec::new();
        // `= $n` for one value: SQLite walks an index in order only for an equality, so the
        // common single-number customer gets an index range scan with no sort.
        let mut list = |values: &[String]| {
            let first = binds.len() + 1;
            binds.extend(values.iter().cloned());
            match values.len() {
                1 => format!("= ${first}"),
                n => format!("IN ({})", placeholders(first, n)),
            }
        };
        let group = list(&keys.customers);
        let mut branches = Vec::new();
        if !keys.phones.is_empty() {
            let callers = list(&keys.phones);
            let callees = list(&keys.phones);
            let calls = |column: &str, set: &str, direction: &str| {
                format!(
                    "SELECT c.started_at_ms AS at_ms, 'call' AS kind, c.id AS id, \
                     CAST('voice' AS TEXT) AS channel, CAST('{direction}' AS TEXT) AS direction, \
                     CAST({party} AS TEXT) AS party, c.call_id AS reference, \
                     CAST(NULL AS TEXT) AS text, c.result AS state, CAST(NULL AS TEXT) AS agent, \
                     c.duration_ms AS duration_ms, \
                     (SELECT MIN(r.id) FROM recordings r WHERE r.call_id = c.call_id) AS extra \
                     FROM cdrs c WHERE c.{column} {set} ORDER BY c.started_at_ms DESC LIMIT {cut}",
                    party = if column == "caller" {
                        "c.callee"
                    } else {
                        "c.caller"
                    },
                )
            };
            branches.push(calls("caller", &callers, "in"));
            branches.push(calls("callee", &callees, "out"));
            let surveyed = list(&keys.phones);
            branches.push(format!(
                "SELECT s.answered_at_ms AS at_ms, 'survey_answer' AS kind, \
                 s.call_id || ':' || s.survey || ':' || CAST(s.position AS TEXT) AS id, \
                 CAST('voice' AS TEXT) AS channel, CAST(NULL AS TEXT) AS direction, \
                 CAST(NULL AS TEXT) AS party, s.call_id AS reference, s.question AS text, \
                 s.answer_key AS state, CAST(NULL AS TEXT) AS agent, \
                 CAST(NULL AS BIGINT) AS duration_ms, s.survey AS extra \
                 FROM survey_answers s JOIN cdrs c ON c.call_id = s.call_id \
                 WHERE c.caller {surveyed} ORDER BY s.answered_at_ms DESC LIMIT {cut}"
            ));
        }
        if !keys.task_keys.is_empty() {
            let set = list(&keys.task_keys);
            branches.push(format!(
                "SELECT t.arrived_at_ms AS at_ms, 'task' AS kind, CAST(t.id AS TEXT) AS id, \
                 t.channel AS channel, CAST(NULL AS TEXT) AS direction, t.customer AS party, \
                 CAST(t.id AS TEXT) AS reference, t.queue AS text, t.state AS state, \
                 CAST(NULL AS TEXT) AS agent, CAST(NULL AS BIGINT) AS duration_ms, \
                 CAST(t.attempts AS TEXT) AS extra FROM tasks t \
                 WHERE t.customer {set} AND t.channel IN ('callback', 'voicemail', 'follow_up') \
                 ORDER BY t.arrived_at_ms DESC LIMIT {cut}"
            ));
        }
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'conversation' AS kind, id, channel, \
             CAST(NULL AS TEXT) AS direction, peer AS party, id AS reference, subject AS text, \
             state, CAST(NULL AS TEXT) AS agent, CAST(NULL AS BIGINT) AS duration_ms, \
             linked_to AS extra FROM conversations WHERE customer_id {group} \
             ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'message' AS kind, id, channel, direction, \
             sender AS party, conversation_id AS reference, SUBSTR(body, 1, 500) AS text, \
             status AS state, agent, CAST(NULL AS BIGINT) AS duration_ms, error AS extra \
             FROM messages WHERE customer_id {group} ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'note' AS kind, id, CAST(NULL AS TEXT) AS channel, \
             CAST(NULL AS TEXT) AS direction, author AS party, CAST(task_id AS TEXT) AS reference, \
             text, kind AS state, author AS agent, CAST(NULL AS BIGINT) AS duration_ms, \
             CAST(NULL AS TEXT) AS extra FROM customer_notes WHERE customer_id {group} \
             ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'disposition' AS kind, id, \
             CAST(NULL AS TEXT) AS channel, CAST(NULL AS TEXT) AS direction, \
             CAST(NULL AS TEXT) AS party, CAST(task_id AS TEXT) AS reference, note AS text, \
             code AS state, agent, CAST(NULL AS BIGINT) AS duration_ms, \
             CAST(NULL AS TEXT) AS extra FROM dispositions WHERE customer_id {group} \
             ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        let union = branches
            .iter()
            .enumerate()
            .map(|(n, b)| format!("SELECT * FROM ({b}) AS b{n}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let sql = format!(
            "SELECT at_ms, kind, id, channel, direction, party, reference, text, state, agent, \
             duration_ms, extra FROM ({union}) AS timeline \
             ORDER BY at_ms DESC, kind DESC, id DESC LIMIT {} OFFSET {offset}",
            limit + 1
        );
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut items = rows
            .iter()
            .map(|r| {
                Ok(TimelineRow {
                    at_ms: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    id: r.try_get(2)?,
                    channel: r.try_get(3)?,
                    direction: r.try_get(4)?,
                    party: r.try_get(5)?,
                    reference: r.try_get(6)?,
                    text: r.try_get(7)?,
                    state: r.try_get(8)?,
                    agent: r.try_get(9)?,
                    duration_ms: r.try_get(10)?,
                    extra: r.try_get(11)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((items, more))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::store::testing::fresh_store;

    /// 10,000 calls and 10,000 messages of one customer among as many of others: the first
    /// page comes from index range scans, so it stays fast (the figure is printed).
    #[tokio::test]
    async fn a_customer_with_ten_thousand_interactions_pages_quickly() {
        let (store, _dir) = fresh_store().await;
        let mut tx = store.pool().begin().await.unwrap();
        for n in 0..10_000i64 {
            for (customer, phone) in [("cus_a", "+48600000001"), ("cus_b", "+48600000002")] {
                sqlx::query(
                    "INSERT INTO messages (id, conversation_id, customer_id, channel, direction, \
                     body, status, created_at_ms, updated_at_ms) \
                     VALUES ($1, 'cnv', $2, 'sms', 'in', 'hello', 'received', $3, $3)",
                )
                .bind(format!("msg_{customer}_{n}"))
                .bind(customer)
                .bind(n * 2)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO cdrs (id, call_id, caller, callee, origin, started_at_ms, \
                     ended_at_ms, duration_ms, billsec_ms, result, hangup_cause, hangup_side) \
                     VALUES ($1, $1, $2, '1001', 'inbound', $3, $3, 1000, 1000, 'answered', \
                     'normal', 'caller')",
                )
                .bind(format!("cdr_{customer}_{n}"))
                .bind(phone)
                .bind(n * 2 + 1)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        tx.commit().await.unwrap();
        let keys = TimelineKeys {
            customers: vec!["cus_a".into()],
            phones: vec!["+48600000001".into()],
            task_keys: vec!["+48600000001".into(), "cus_a".into()],
        };
        let mut took = Vec::new();
        for _ in 0..50 {
            let start = Instant::now();
            let (page, more) = store.timeline(&keys, 50, 0).await.unwrap();
            took.push(start.elapsed());
            assert_eq!((page.len(), more), (50, true));
            assert_eq!((page[0].kind.as_str(), page[0].at_ms), ("call", 19_999));
            assert_eq!((page[1].kind.as_str(), page[1].at_ms), ("message", 19_998));
        }
        took.sort();
        let p99 = took[took.len() * 99 / 100 - 1];
        eprintln!("timeline first page, 20,000 interactions of one customer: p99 {p99:?}");
        assert!(p99.as_millis() < 250, "p99 {p99:?}");
    }
}

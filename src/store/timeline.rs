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
        let mut list = |values: &[String]| {
            let first = binds.len() + 1;
            binds.extend(values.iter().cloned());
            placeholders(first, values.len())
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
                     FROM cdrs c WHERE c.{column} IN ({set}) ORDER BY c.started_at_ms DESC LIMIT {cut}",
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
                 FROM survey_answers s WHERE s.call_id IN \
                 (SELECT call_id FROM cdrs WHERE caller IN ({surveyed})) \
                 ORDER BY s.answered_at_ms DESC LIMIT {cut}"
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
                 WHERE t.customer IN ({set}) AND t.channel IN ('callback', 'voicemail', 'follow_up') \
                 ORDER BY t.arrived_at_ms DESC LIMIT {cut}"
            ));
        }
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'conversation' AS kind, id, channel, \
             CAST(NULL AS TEXT) AS direction, peer AS party, id AS reference, subject AS text, \
             state, CAST(NULL AS TEXT) AS agent, CAST(NULL AS BIGINT) AS duration_ms, \
             linked_to AS extra FROM conversations WHERE customer_id IN ({group}) \
             ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'message' AS kind, id, channel, direction, \
             sender AS party, conversation_id AS reference, SUBSTR(body, 1, 500) AS text, \
             status AS state, agent, CAST(NULL AS BIGINT) AS duration_ms, error AS extra \
             FROM messages WHERE customer_id IN ({group}) ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'note' AS kind, id, CAST(NULL AS TEXT) AS channel, \
             CAST(NULL AS TEXT) AS direction, author AS party, CAST(task_id AS TEXT) AS reference, \
             text, kind AS state, author AS agent, CAST(NULL AS BIGINT) AS duration_ms, \
             CAST(NULL AS TEXT) AS extra FROM customer_notes WHERE customer_id IN ({group}) \
             ORDER BY created_at_ms DESC LIMIT {cut}"
        ));
        branches.push(format!(
            "SELECT created_at_ms AS at_ms, 'disposition' AS kind, id, \
             CAST(NULL AS TEXT) AS channel, CAST(NULL AS TEXT) AS direction, \
             CAST(NULL AS TEXT) AS party, CAST(task_id AS TEXT) AS reference, note AS text, \
             code AS state, agent, CAST(NULL AS BIGINT) AS duration_ms, \
             CAST(NULL AS TEXT) AS extra FROM dispositions WHERE customer_id IN ({group}) \
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

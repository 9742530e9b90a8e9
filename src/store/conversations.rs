//! Conversations and their messages (SMS, e-mail, chat, messengers, forms). An inbound
//! message is committed (with its events) before the channel acknowledges it; a repeated
//! delivery with the same provider id is recognised by the unique `(channel, direction,
//! external_id)` index and changes nothing.

use sqlx::Row;

use super::customers::placeholders;
use super::{EmailRow, OutboxEvent, Store, StoreError, StoreTransaction};

/// One conversation as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationRow {
    /// `cnv_…`.
    pub id: String,
    /// The customer (at creation).
    pub customer_id: String,
    /// `sms`, `email`, `chat`, ...
    pub channel: String,
    /// The queue its tasks go to.
    pub queue: String,
    /// `open` or `closed`.
    pub state: String,
    /// Subject (e-mail), if any.
    pub subject: Option<String>,
    /// The customer's address on the channel.
    pub peer: String,
    /// Our address (number, mailbox), if any.
    pub local: Option<String>,
    /// An earlier conversation this one continues.
    pub linked_to: Option<String>,
    /// The routing task carrying it now.
    pub task_id: Option<i64>,
    /// Unix ms.
    pub created_at_ms: i64,
    /// Unix ms of the last message or change.
    pub updated_at_ms: i64,
    /// Unix ms when it was closed.
    pub closed_at_ms: Option<i64>,
}

/// One message as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageRow {
    /// `msg_…`.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The conversation's customer.
    pub customer_id: String,
    /// The conversation's channel.
    pub channel: String,
    /// `in` or `out`.
    pub direction: String,
    /// The provider's id (see the module docs).
    pub external_id: Option<String>,
    /// Who wrote it: the customer's address, or the agent's name.
    pub sender: Option<String>,
    /// The text.
    pub body: String,
    /// `received`, `recorded`, `queued`, `sent`, `delivered` or `failed`.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The agent (extension) who sent it.
    pub agent: Option<String>,
    /// Unix ms.
    pub created_at_ms: i64,
    /// Unix ms of the last status change.
    pub updated_at_ms: i64,
}

/// Filters of the conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    /// Only these customers (a group), if set.
    pub customers: Option<Vec<String>>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Only these ids (an agent's own), if set.
    pub ids: Option<Vec<String>>,
}

const CONVERSATION: &str = "id, customer_id, channel, queue, state, subject, peer, local, \
                            linked_to, task_id, created_at_ms, updated_at_ms, closed_at_ms";
pub(super) const MESSAGE: &str = "id, conversation_id, customer_id, channel, direction, external_id, \
                       sender, body, status, error, agent, created_at_ms, updated_at_ms";

impl Store {
    /// Stores `message` (and `conversation` when it is new), with `events`, in one
    /// transaction. False, with nothing written, when a message with the same provider id
    /// was stored before (a repeated delivery).
    pub async fn insert_message(
        &self,
        conversation: Option<&ConversationRow>,
        message: &MessageRow,
        email: Option<&EmailRow>,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        Store::enqueue_events_in(&mut tx, events).await?;
        if let Some(c) = conversation {
            sqlx::query(&format!(
                "INSERT INTO conversations ({CONVERSATION}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(&c.id)
            .bind(&c.customer_id)
            .bind(&c.channel)
            .bind(&c.queue)
            .bind(&c.state)
            .bind(&c.subject)
            .bind(&c.peer)
            .bind(&c.local)
            .bind(&c.linked_to)
            .bind(c.task_id)
            .bind(c.created_at_ms)
            .bind(c.updated_at_ms)
            .bind(c.closed_at_ms)
            .execute(&mut *tx.tx)
            .await?;
        }
        let m = message;
        let inserted = sqlx::query(&format!(
            "INSERT INTO messages ({MESSAGE}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (channel, direction, external_id) DO NOTHING"
        ))
        .bind(&m.id)
        .bind(&m.conversation_id)
        .bind(&m.customer_id)
        .bind(&m.channel)
        .bind(&m.direction)
        .bind(&m.external_id)
        .bind(&m.sender)
        .bind(&m.body)
        .bind(&m.status)
        .bind(&m.error)
        .bind(&m.agent)
        .bind(m.created_at_ms)
        .bind(m.updated_at_ms)
        .execute(&mut *tx.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(e) = email {
            sqlx::query(
                "INSERT INTO email_headers (message_id, rfc_message_id, refs, subject, raw_path, \
                 attachments, automatic, from_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&m.id)
            .bind(&e.rfc_message_id)
            .bind(&e.references)
            .bind(&e.subject)
            .bind(&e.raw_path)
            .bind(&e.attachments)
            .bind(&e.automatic)
            .bind(&e.from_name)
            .execute(&mut *tx.tx)
            .await?;
        }
        sqlx::query(
            "UPDATE conversations SET updated_at_ms = $1, state = 'open', closed_at_ms = NULL \
             WHERE id = $2",
        )
        .bind(m.created_at_ms)
        .bind(&m.conversation_id)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One conversation.
    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION} FROM conversations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(conversation_row).transpose()
    }

    /// The newest conversation with `peer` on `channel` (any state).
    pub async fn latest_conversation_with(
        &self,
        channel: &str,
        peer: &str,
    ) -> Result<Option<ConversationRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION} FROM conversations WHERE channel = $1 AND peer = $2 \
             ORDER BY created_at_ms DESC, id DESC LIMIT 1"
        ))
        .bind(channel)
        .bind(peer)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(conversation_row).transpose()
    }

    /// Conversations matching `filter`, most recently active first: `limit + 1` rows from
    /// `offset` (the extra row says there is more).
    pub async fn conversations(
        &self,
        filter: &ConversationFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        let mut binds: Vec<String> = Vec::new();
        let mut clauses: Vec<String> = Vec::new();
        for (column, values) in [("customer_id", &filter.customers), ("id", &filter.ids)] {
            if let Some(values) = values {
                if values.is_empty() {
                    return Ok(Vec::new());
                }
                clauses.push(format!(
                    "{column} IN ({})",
                    placeholders(binds.len() + 1, values.len())
                ));
                binds.extend(values.iter().cloned());
            }
        }
        for (column, value) in [("channel", &filter.channel), ("state", &filter.state)] {
            if let Some(value) = value {
                binds.push(value.clone());
                clauses.push(format!("{column} = ${}", binds.len()));
            }
        }
        let condition = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {CONVERSATION} FROM conversations {condition} \
             ORDER BY updated_at_ms DESC, id DESC LIMIT {} OFFSET {offset}",
            limit + 1
        );
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(conversation_row).collect()
    }

    /// Records the task carrying a conversation (`None`: no task any more).
    pub async fn set_conversation_task(
        &self,
        id: &str,
        task: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE conversations SET task_id = $1 WHERE id = $2")
            .bind(task)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Closes the open conversation carried by `task` (its task completed); its id, if any.
    pub async fn close_conversation_of_task(
        &self,
        task: i64,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE conversations SET state = 'closed', closed_at_ms = $1, updated_at_ms = $1, \
             task_id = NULL WHERE task_id = $2 AND state = 'open' RETURNING id",
        )
        .bind(now_ms)
        .bind(task)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Open conversations whose newest message is a customer's routable one (`received`):
    /// they need a task (start-up recovery checks which have none).
    pub async fn conversations_awaiting_agent(&self) -> Result<Vec<ConversationRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONVERSATION} FROM conversations c WHERE c.state = 'open' AND EXISTS \
             (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' \
              AND m.status = 'received' AND m.created_at_ms = \
              (SELECT MAX(m2.created_at_ms) FROM messages m2 WHERE m2.conversation_id = c.id)) \
             ORDER BY c.updated_at_ms LIMIT 10000"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(conversation_row).collect()
    }

    /// The messages of a conversation, oldest first: `limit + 1` rows from `offset`.
    pub async fn messages_of(
        &self,
        conversation: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE} FROM messages WHERE conversation_id = $1 \
             ORDER BY created_at_ms, id LIMIT {} OFFSET {offset}",
            limit + 1
        ))
        .bind(conversation)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_row).collect()
    }

    /// One message.
    pub async fn message(&self, id: &str) -> Result<Option<MessageRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MESSAGE} FROM messages WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(message_row).transpose()
    }

    /// The message with a provider id on a channel and direction.
    pub async fn message_by_external(
        &self,
        channel: &str,
        direction: &str,
        external_id: &str,
    ) -> Result<Option<MessageRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE} FROM messages \
             WHERE channel = $1 AND direction = $2 AND external_id = $3"
        ))
        .bind(channel)
        .bind(direction)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(message_row).transpose()
    }

    /// Sets a message's status (and error, and provider id when given), with `events`.
    pub async fn update_message_status(
        &self,
        message: &MessageRow,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        Store::enqueue_events_in(&mut tx, events).await?;
        Store::update_message_status_in(&mut tx, message).await?;
        tx.commit().await
    }

    async fn update_message_status_in(
        tx: &mut StoreTransaction,
        m: &MessageRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE messages SET status = $1, error = $2, \
             external_id = COALESCE($3, external_id), updated_at_ms = $4 WHERE id = $5",
        )
        .bind(&m.status)
        .bind(&m.error)
        .bind(&m.external_id)
        .bind(m.updated_at_ms)
        .bind(&m.id)
        .execute(&mut *tx.tx)
        .await?;
        Ok(())
    }
}

fn conversation_row(r: &sqlx::any::AnyRow) -> Result<ConversationRow, StoreError> {
    Ok(ConversationRow {
        id: r.try_get(0)?,
        customer_id: r.try_get(1)?,
        channel: r.try_get(2)?,
        queue: r.try_get(3)?,
        state: r.try_get(4)?,
        subject: r.try_get(5)?,
        peer: r.try_get(6)?,
        local: r.try_get(7)?,
        linked_to: r.try_get(8)?,
        task_id: r.try_get(9)?,
        created_at_ms: r.try_get(10)?,
        updated_at_ms: r.try_get(11)?,
        closed_at_ms: r.try_get(12)?,
    })
}

pub(super) fn message_row(r: &sqlx::any::AnyRow) -> Result<MessageRow, StoreError> {
    Ok(MessageRow {
        id: r.try_get(0)?,
        conversation_id: r.try_get(1)?,
        customer_id: r.try_get(2)?,
        channel: r.try_get(3)?,
        direction: r.try_get(4)?,
        external_id: r.try_get(5)?,
        sender: r.try_get(6)?,
        body: r.try_get(7)?,
        status: r.try_get(8)?,
        error: r.try_get(9)?,
        agent: r.try_get(10)?,
        created_at_ms: r.try_get(11)?,
        updated_at_ms: r.try_get(12)?,
    })
}

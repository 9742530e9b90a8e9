//! E-mail details of stored messages (threading headers, the original's path, attachments)
//! and the look-ups e-mail threading and replies need.

use sqlx::Row;

use super::conversations::{MESSAGE, message_row};
use super::{MessageRow, Store, StoreError};

/// The e-mail details of a received message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailRow {
    /// Our message id.
    pub message_id: String,
    /// Its Message-ID.
    pub rfc_message_id: Option<String>,
    /// Its References, space separated.
    pub references: String,
    /// Its subject.
    pub subject: Option<String>,
    /// Where the original is kept.
    pub raw_path: String,
    /// `name (size bytes); …`.
    pub attachments: String,
    /// Why it was not routed, if it was not.
    pub automatic: Option<String>,
    /// The sender's display name.
    pub from_name: Option<String>,
}

impl Store {
    /// The conversation of the message with provider id `external_id` on `channel` (sent
    /// or received).
    pub async fn conversation_of_external(
        &self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT conversation_id FROM messages WHERE external_id = $1 AND channel = $2 \
             ORDER BY created_at_ms LIMIT 1",
        )
        .bind(external_id)
        .bind(channel)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// The newest received e-mail of a conversation, with its details.
    pub async fn last_inbound_email(
        &self,
        conversation: &str,
    ) -> Result<Option<(MessageRow, EmailRow)>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE}, e.rfc_message_id, e.refs, e.subject, e.raw_path, e.attachments, \
             e.automatic, e.from_name FROM messages m JOIN email_headers e ON e.message_id = m.id \
             WHERE m.conversation_id = $1 AND m.direction = 'in' \
             ORDER BY m.created_at_ms DESC, m.id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(conversation)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let message = message_row(&r)?;
        let email = EmailRow {
            message_id: message.id.clone(),
            rfc_message_id: r.try_get(13)?,
            references: r.try_get(14)?,
            subject: r.try_get(15)?,
            raw_path: r.try_get(16)?,
            attachments: r.try_get(17)?,
            automatic: r.try_get(18)?,
            from_name: r.try_get(19)?,
        };
        Ok(Some((message, email)))
    }
}

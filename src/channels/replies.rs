//! `Replies`: an agent's message to a customer. It is stored (`queued`) before the channel's
//! `Sender` is asked, then marked `sent` with the provider's id (`message.sent`) or `failed`
//! with the reason (`message.failed`). A channel without a configured sender fails the
//! message with a clear reason instead of dropping it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::intake::message_event;
use super::{ChannelError, Outgoing, Sender, new_id};
use crate::cti::events::Publisher;
use crate::cti::webhook::EventKind;
use crate::store::{ConversationRow, MessageRow, Store};

/// See the module docs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Replies {
    store: Store,
    publisher: Publisher,
    senders: Arc<BTreeMap<&'static str, Arc<dyn Sender>>>,
}

impl Replies {
    /// Replies through `senders` (by channel name).
    pub fn new(
        store: Store,
        publisher: Publisher,
        senders: BTreeMap<&'static str, Arc<dyn Sender>>,
    ) -> Replies {
        Replies {
            store,
            publisher,
            senders: Arc::new(senders),
        }
    }

    /// Stores and sends `text` from `agent` (extension, or the token's name) on
    /// `conversation`; returns the message in its final state. `now` reads the wall clock.
    pub async fn send(
        &self,
        conversation: &ConversationRow,
        agent: Option<&str>,
        text: &str,
        now: impl Fn() -> i64,
    ) -> Result<MessageRow, ChannelError> {
        let created = now();
        let mut message = MessageRow {
            id: new_id("msg"),
            conversation_id: conversation.id.clone(),
            customer_id: conversation.customer_id.clone(),
            channel: conversation.channel.clone(),
            direction: "out".into(),
            external_id: None,
            sender: agent.map(str::to_string),
            body: text.to_string(),
            status: "queued".into(),
            error: None,
            agent: agent.map(str::to_string),
            created_at_ms: created,
            updated_at_ms: created,
        };
        self.store.insert_message(None, &message, None, &[]).await?;
        let outcome = match self.senders.get(conversation.channel.as_str()) {
            Some(sender) => {
                let out = Outgoing {
                    conversation_id: conversation.id.clone(),
                    agent: agent.map(str::to_string),
                    message_id: message.id.clone(),
                    to: conversation.peer.clone(),
                    from: conversation.local.clone(),
                    text: text.to_string(),
                };
                sender.send(&out).await.map_err(|e| e.0)
            }
            None => Err(format!(
                "no {} provider is configured to send replies",
                conversation.channel
            )),
        };
        let kind = match outcome {
            Ok(provider_id) => {
                message.status = "sent".into();
                message.external_id = Some(provider_id);
                EventKind::MessageSent
            }
            Err(reason) => {
                message.status = "failed".into();
                message.error = Some(reason);
                EventKind::MessageFailed
            }
        };
        message.updated_at_ms = now();
        let events = [message_event(
            kind,
            &message,
            conversation.task_id,
            agent.map(str::to_string),
            message.updated_at_ms,
        )];
        self.store.update_message_status(&message, &events).await?;
        self.publisher.committed(Vec::new(), events.to_vec());
        Ok(message)
    }

    /// A provider's receipt for the message it knows as `provider_id` on `channel`:
    /// `delivered` or `failed` (with `error`). False when no such message exists.
    pub async fn receipt(
        &self,
        channel: &str,
        provider_id: &str,
        delivered: bool,
        error: Option<String>,
        now_ms: i64,
    ) -> Result<bool, ChannelError> {
        let Some(mut message) = self
            .store
            .message_by_external(channel, "out", provider_id)
            .await?
        else {
            return Ok(false);
        };
        message.status = if delivered { "delivered" } else { "failed" }.into();
        message.error = if delivered {
            None
        } else {
            error.or(Some("undelivered".into()))
        };
        message.updated_at_ms = now_ms;
        let events: Vec<_> = (!delivered)
            .then(|| {
                message_event(
                    EventKind::MessageFailed,
                    &message,
                    None,
                    message.agent.clone(),
                    now_ms,
                )
            })
            .into_iter()
            .collect();
        self.store.update_message_status(&message, &events).await?;
        self.publisher.committed(Vec::new(), events);
        Ok(true)
    }
}

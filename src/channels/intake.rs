//! `Intake`: an inbound message from any channel becomes a stored message in a conversation
//! of a customer, and (when it needs an agent) a task in the ACD.
//!
//! Order, so that nothing acknowledged is lost: the customer is resolved, the message (and a
//! new conversation) is committed with its `conversation.created` / `message.received`
//! events, and only then is the channel told to acknowledge. The task is queued after the
//! commit; if the process dies in between, `recover` (at start-up) queues a task for every
//! open conversation whose last message is a customer's and that no task carries.

use std::collections::BTreeMap;

use serde_json::json;

use super::thread::{Latest, Threading, thread};
use super::{ChannelError, new_id};
use crate::cti::events::Publisher;
use crate::cti::webhook::{Event, EventKind};
use crate::customers::{Customers, Identity};
use crate::routing::setup::{channel_from_name, channel_name};
use crate::routing::{AcdHandle, Channel, NewTask, TaskId, TaskStatus};
use crate::store::{ConversationRow, EmailRow, MessageRow, OutboxEvent, Store};

/// One message a channel received.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The routing channel.
    pub channel: Channel,
    /// Who wrote it.
    pub from: Identity,
    /// Our address it was written to.
    pub to: Option<String>,
    /// The provider's id of the message (makes repeated deliveries idempotent).
    pub external_id: Option<String>,
    /// The text.
    pub body: String,
    /// A subject, if the channel has one.
    pub subject: Option<String>,
    /// The queue its task goes to.
    pub queue: String,
    /// How long after closing a conversation a message reopens it.
    pub reopen_ms: i64,
    /// False: kept on the conversation but not routed (auto-replies, bounces).
    pub route: bool,
    /// The message id to store it under (a channel that names files after it); `None`: a
    /// fresh one.
    pub id: Option<String>,
    /// The conversation the channel's own threading found, if any.
    pub thread: Option<String>,
    /// Whether, without `thread`, the newest conversation with the same peer continues
    /// (SMS, chat: yes; e-mail: no, a new mail is a new matter).
    pub by_peer: bool,
    /// E-mail details stored with the message.
    pub email: Option<EmailRow>,
}

/// What became of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Its conversation.
    pub conversation_id: String,
    /// The stored message (the earlier one for a repeated delivery).
    pub message_id: String,
    /// The customer.
    pub customer_id: String,
    /// It had been received before; nothing changed.
    pub duplicate: bool,
    /// The task carrying the conversation, if routed.
    pub task_id: Option<u64>,
}

/// See the module docs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Intake {
    pub(super) customers: Customers,
    pub(super) store: Store,
    pub(super) acd: AcdHandle,
    pub(super) publisher: Publisher,
}

impl Intake {
    /// A new intake.
    pub fn new(customers: Customers, store: Store, acd: AcdHandle, publisher: Publisher) -> Intake {
        Intake {
            customers,
            store,
            acd,
            publisher,
        }
    }

    /// Stores `inbound` and routes it (see the module docs).
    pub async fn receive(&self, inbound: Inbound, now_ms: i64) -> Result<Accepted, ChannelError> {
        let channel = channel_name(inbound.channel);
        if let Some(ext) = &inbound.external_id
            && let Some(seen) = self.store.message_by_external(channel, "in", ext).await?
        {
            return self.duplicate(seen).await;
        }
        let customer_id = self.customers.resolve(&inbound.from, now_ms).await?;
        let latest = match &inbound.thread {
            Some(id) => self.store.conversation(id).await?,
            None if inbound.by_peer => {
                self.store
                    .latest_conversation_with(channel, &inbound.from.value)
                    .await?
            }
            None => None,
        };
        let decision = thread(
            latest.as_ref().map(|c| Latest {
                id: &c.id,
                state: &c.state,
                closed_at_ms: c.closed_at_ms,
            }),
            now_ms,
            inbound.reopen_ms,
        );
        let (new_conversation, conversation) = match decision {
            Threading::Join(_) | Threading::Reopen(_) => (
                None,
                latest.expect("a join or reopen names the latest conversation"),
            ),
            Threading::New { linked_to } => {
                let row = ConversationRow {
                    id: new_id("cnv"),
                    customer_id: customer_id.clone(),
                    channel: channel.to_string(),
                    queue: inbound.queue.clone(),
                    state: "open".into(),
                    subject: inbound.subject.clone(),
                    peer: inbound.from.value.clone(),
                    local: inbound.to.clone(),
                    linked_to,
                    task_id: None,
                    created_at_ms: now_ms,
                    updated_at_ms: now_ms,
                    closed_at_ms: None,
                };
                (Some(row.clone()), row)
            }
        };
        let message = MessageRow {
            id: inbound.id.clone().unwrap_or_else(|| new_id("msg")),
            conversation_id: conversation.id.clone(),
            customer_id: conversation.customer_id.clone(),
            channel: channel.to_string(),
            direction: "in".into(),
            external_id: inbound.external_id.clone(),
            sender: Some(inbound.from.value.clone()),
            body: inbound.body.clone(),
            status: if inbound.route {
                "received"
            } else {
                "recorded"
            }
            .into(),
            error: None,
            agent: None,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        };
        let live_task = self.live_task(conversation.task_id).await;
        let agent = live_task.as_ref().and_then(|(_, agent)| agent.clone());
        let mut events = Vec::new();
        if let Some(c) = &new_conversation {
            events.push(conversation_event(
                EventKind::ConversationCreated,
                c,
                None,
                now_ms,
            ));
        }
        events.push(message_event(
            EventKind::MessageReceived,
            &message,
            conversation.task_id,
            agent,
            now_ms,
        ));
        if !self
            .store
            .insert_message(
                new_conversation.as_ref(),
                &message,
                inbound.email.as_ref(),
                &events,
            )
            .await?
        {
            let seen = self
                .store
                .message_by_external(channel, "in", inbound.external_id.as_deref().unwrap_or(""))
                .await?
                .ok_or_else(|| ChannelError::Rejected("the message vanished".into()))?;
            return self.duplicate(seen).await;
        }
        self.publisher.committed(Vec::new(), events);
        let task_id = match (inbound.route, live_task) {
            (false, _) => None,
            (true, Some((task, _))) => Some(task),
            (true, None) => Some(self.route(&conversation, inbound.channel).await?),
        };
        Ok(Accepted {
            conversation_id: conversation.id,
            message_id: message.id,
            customer_id: conversation.customer_id,
            duplicate: false,
            task_id,
        })
    }

    /// Queues a task for `conversation` and records it on the conversation.
    pub(super) async fn route(
        &self,
        conversation: &ConversationRow,
        channel: Channel,
    ) -> Result<u64, ChannelError> {
        let mut task = NewTask::new(channel, &conversation.queue);
        task.customer = Some(conversation.peer.clone());
        let attributes: BTreeMap<String, String> = [
            ("customer_id", conversation.customer_id.clone()),
            ("conversation_id", conversation.id.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        task.attributes = attributes;
        let id = self.acd.enqueue(task).await?;
        self.store
            .set_conversation_task(&conversation.id, Some(i64::try_from(id.0).unwrap_or(-1)))
            .await?;
        Ok(id.0)
    }

    /// Start-up: queues a task for every open conversation waiting for an agent that no
    /// live task carries (the process died between storing a message and queueing its task).
    pub async fn recover(&self, _now_ms: i64) {
        let waiting = match self.store.conversations_awaiting_agent().await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::error!(%err, "cannot read conversations waiting for an agent");
                return;
            }
        };
        for conversation in waiting {
            if self.live_task(conversation.task_id).await.is_some() {
                continue;
            }
            let Some(channel) = channel_from_name(&conversation.channel) else {
                continue;
            };
            match self.route(&conversation, channel).await {
                Ok(task) => {
                    tracing::info!(conversation = %conversation.id, task, "re-queued a conversation")
                }
                Err(err) => {
                    tracing::error!(conversation = %conversation.id, %err, "cannot re-queue a conversation")
                }
            }
        }
    }

    /// A task carrying a conversation completed: the conversation closes (a later message
    /// reopens it within the channel's window).
    pub async fn task_completed(&self, task: u64, now_ms: i64) -> Result<(), ChannelError> {
        if let Ok(task) = i64::try_from(task) {
            self.store.close_conversation_of_task(task, now_ms).await?;
        }
        Ok(())
    }

    /// The live task `task` and the agent it is offered to or held by.
    pub(super) async fn live_task(&self, task: Option<i64>) -> Option<(u64, Option<String>)> {
        let id = u64::try_from(task?).ok()?;
        let view = self.acd.task(TaskId(id)).await.ok()??;
        let agent = match view.status {
            Some(TaskStatus::Offered { agent }) | Some(TaskStatus::Assigned { agent }) => self
                .acd
                .setup()
                .agent_by_id(agent)
                .map(|a| a.number.clone()),
            _ => None,
        };
        Some((id, agent))
    }

    async fn duplicate(&self, seen: MessageRow) -> Result<Accepted, ChannelError> {
        let task = match self.store.conversation(&seen.conversation_id).await? {
            Some(c) => c.task_id.and_then(|t| u64::try_from(t).ok()),
            None => None,
        };
        Ok(Accepted {
            conversation_id: seen.conversation_id,
            message_id: seen.id,
            customer_id: seen.customer_id,
            duplicate: true,
            task_id: task,
        })
    }
}

/// A conversation's event.
pub(super) fn conversation_event(
    kind: EventKind,
    c: &ConversationRow,
    agent: Option<String>,
    now_ms: i64,
) -> OutboxEvent {
    let mut event = Event::new(kind, now_ms);
    event.task_id = c.task_id.map(|t| t.to_string());
    event.agent_id = agent;
    event.data = json!({
        "conversation_id": c.id, "customer_id": c.customer_id, "channel": c.channel,
        "queue": c.queue, "peer": c.peer, "linked_to": c.linked_to,
    });
    event.to_outbox()
}

/// A message's event.
pub(super) fn message_event(
    kind: EventKind,
    m: &MessageRow,
    task: Option<i64>,
    agent: Option<String>,
    now_ms: i64,
) -> OutboxEvent {
    let mut event = Event::new(kind, now_ms);
    event.task_id = task.map(|t| t.to_string());
    event.agent_id = agent;
    event.data = json!({
        "message_id": m.id, "conversation_id": m.conversation_id, "customer_id": m.customer_id,
        "channel": m.channel, "direction": m.direction, "status": m.status, "error": m.error,
    });
    event.to_outbox()
}

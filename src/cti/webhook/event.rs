//! The events Centrala tells CRMs about, and their JSON form.
//!
//! Owns: `Event`, `EventKind`, the wire JSON. Must not touch: the store, HTTP.
//! Driven by: whoever reports a change (calls, routing, recording, callbacks), which builds an
//! `Event` and writes `Event::to_outbox()` in the same transaction as the change.
//!
//! Wire form (`Event::to_json`):
//! ```json
//! {"id":"evt_5f0c…","type":"call.ended","occurred_at":"2026-05-04T09:12:33.120Z",
//!  "call_id":"c-17","task_id":null,"agent_id":"1001","data":{"duration_ms":73000}}
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::store::OutboxEvent;

/// What happened. The names are the `type` field and the subscription filter values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EventKind {
    /// An inbound or outbound call is ringing.
    #[serde(rename = "call.ringing")]
    CallRinging,
    /// A call was answered.
    #[serde(rename = "call.answered")]
    CallAnswered,
    /// A call ended; its data is the CDR's (with `queue`, `agent`, `wait_ms`).
    #[serde(rename = "call.ended")]
    CallEnded,
    /// A task entered a queue.
    #[serde(rename = "task.queued")]
    TaskQueued,
    /// A task was offered to an agent.
    #[serde(rename = "task.offered")]
    TaskOffered,
    /// An agent accepted a task.
    #[serde(rename = "task.accepted")]
    TaskAccepted,
    /// A task was completed (after wrap-up).
    #[serde(rename = "task.completed")]
    TaskCompleted,
    /// A task missed its service-level deadline.
    #[serde(rename = "task.sla_breached")]
    TaskSlaBreached,
    /// A task left its queue before an agent took it (the caller hung up, or it was
    /// cancelled); `data.waited_ms` says how long it waited.
    #[serde(rename = "task.abandoned")]
    TaskAbandoned,
    /// An agent's state changed (ready, busy, wrap-up, away…).
    #[serde(rename = "agent.state_changed")]
    AgentStateChanged,
    /// A recording is closed and can be fetched.
    #[serde(rename = "recording.ready")]
    RecordingReady,
    /// A callback was dialled; `call_id` is the call that dialled the customer.
    #[serde(rename = "callback.attempted")]
    CallbackAttempted,
    /// A conversation (SMS, e-mail, chat, ...) started.
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    /// A customer's message was stored.
    #[serde(rename = "message.received")]
    MessageReceived,
    /// An agent's message went out.
    #[serde(rename = "message.sent")]
    MessageSent,
    /// An agent's message could not be delivered.
    #[serde(rename = "message.failed")]
    MessageFailed,
    /// Two customers were merged.
    #[serde(rename = "customer.merged")]
    CustomerMerged,
    /// A follow-up contact was planned.
    #[serde(rename = "followup.scheduled")]
    FollowupScheduled,
}

impl EventKind {
    /// Every kind, in documentation order.
    pub const ALL: [EventKind; 18] = [
        EventKind::CallRinging,
        EventKind::CallAnswered,
        EventKind::CallEnded,
        EventKind::TaskQueued,
        EventKind::TaskOffered,
        EventKind::TaskAccepted,
        EventKind::TaskCompleted,
        EventKind::TaskSlaBreached,
        EventKind::TaskAbandoned,
        EventKind::AgentStateChanged,
        EventKind::RecordingReady,
        EventKind::CallbackAttempted,
        EventKind::ConversationCreated,
        EventKind::MessageReceived,
        EventKind::MessageSent,
        EventKind::MessageFailed,
        EventKind::CustomerMerged,
        EventKind::FollowupScheduled,
    ];

    /// The wire name, e.g. `call.ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CallRinging => "call.ringing",
            EventKind::CallAnswered => "call.answered",
            EventKind::CallEnded => "call.ended",
            EventKind::TaskQueued => "task.queued",
            EventKind::TaskOffered => "task.offered",
            EventKind::TaskAccepted => "task.accepted",
            EventKind::TaskCompleted => "task.completed",
            EventKind::TaskSlaBreached => "task.sla_breached",
            EventKind::TaskAbandoned => "task.abandoned",
            EventKind::AgentStateChanged => "agent.state_changed",
            EventKind::RecordingReady => "recording.ready",
            EventKind::CallbackAttempted => "callback.attempted",
            EventKind::ConversationCreated => "conversation.created",
            EventKind::MessageReceived => "message.received",
            EventKind::MessageSent => "message.sent",
            EventKind::MessageFailed => "message.failed",
            EventKind::CustomerMerged => "customer.merged",
            EventKind::FollowupScheduled => "followup.scheduled",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown event kind {s:?}"))
    }
}

/// One event. `id` is unique; receivers dedupe by it (delivery is at-least-once).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique id, `evt_` and 32 hex digits unless the caller chose one.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// When, in unix milliseconds.
    pub occurred_at_ms: i64,
    /// The call concerned (our internal call id), if any.
    pub call_id: Option<String>,
    /// The routing task concerned, if any.
    pub task_id: Option<String>,
    /// The agent concerned, if any.
    pub agent_id: Option<String>,
    /// Kind-specific details.
    pub data: Value,
}

impl Event {
    /// A new event with a fresh random id, no subjects and empty data.
    pub fn new(kind: EventKind, occurred_at_ms: i64) -> Event {
        Event {
            id: format!("evt_{:032x}", rand::random::<u128>()),
            kind,
            occurred_at_ms,
            call_id: None,
            task_id: None,
            agent_id: None,
            data: Value::Object(serde_json::Map::new()),
        }
    }

    /// The wire JSON (see the module docs).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "occurred_at": rfc3339_utc(self.occurred_at_ms),
            "call_id": self.call_id,
            "task_id": self.task_id,
            "agent_id": self.agent_id,
            "data": self.data,
        })
    }

    /// The outbox row to write with the change this event reports.
    pub fn to_outbox(&self) -> OutboxEvent {
        OutboxEvent {
            id: self.id.clone(),
            kind: self.kind.as_str().to_string(),
            body: self.to_json().to_string(),
            created_at_ms: self.occurred_at_ms,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for unix milliseconds (the one date module's).
fn rfc3339_utc(unix_ms: i64) -> String {
    crate::civil::rfc3339_utc_ms(unix_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_777_885_953_120), "2026-05-04T09:12:33.120Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn kinds_round_trip_and_match_the_config_list() {
        for (kind, name) in EventKind::ALL.iter().zip(crate::config::EVENT_KINDS) {
            assert_eq!(kind.as_str(), name);
            assert_eq!(name.parse::<EventKind>(), Ok(*kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), Value::from(name));
        }
        assert!("call.exploded".parse::<EventKind>().is_err());
    }

    #[test]
    fn wire_json_has_every_field() {
        let mut event = Event::new(EventKind::CallEnded, 1_777_885_953_120);
        event.call_id = Some("c-17".into());
        event.data = json!({"duration_ms": 73000});
        let row = event.to_outbox();
        let body: Value = serde_json::from_str(&row.body).unwrap();
        assert_eq!(
            body,
            json!({"id": event.id, "type": "call.ended", "occurred_at": "2026-05-04T09:12:33.120Z",
                   "call_id": "c-17", "task_id": null, "agent_id": null,
                   "data": {"duration_ms": 73000}})
        );
        assert_eq!(
            (row.kind.as_str(), row.created_at_ms),
            ("call.ended", 1_777_885_953_120)
        );
        assert!(event.id.starts_with("evt_") && event.id.len() == 36);
    }
}

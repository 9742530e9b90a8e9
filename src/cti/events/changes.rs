//! `AcdChanges`: the `routing::ChangeEvents` hook that turns the ACD's changes into events —
//! `task.*`, `callback.attempted`, `agent.state_changed`, and `call.ringing` / `call.answered`
//! for voice tasks (the agent's phone ringing, the agent answering). The routing journal
//! writes them in order, with a stored task's row when there is one (see the parent module).

use serde_json::{Value, json};

use super::Publisher;
use crate::cti::webhook::{Event, EventKind};
use crate::routing::driver::StoreFuture;
use crate::routing::setup::channel_name;
use crate::routing::{AcdEvent, AgentStatus, Change, ChangeEvents, Channel, Decision, TaskId};
use crate::store::{OutboxEvent, Store};

/// See the module docs.
#[derive(Debug)]
pub struct AcdChanges {
    store: Store,
    publisher: Publisher,
}

impl AcdChanges {
    /// Events of the ACD's changes, reading dispositions from `store`, told to `publisher`.
    pub fn new(store: Store, publisher: Publisher) -> AcdChanges {
        AcdChanges { store, publisher }
    }

    async fn disposition(&self, task: TaskId) -> Value {
        let Ok(id) = i64::try_from(task.0) else {
            return Value::Null;
        };
        match self.store.dispositions_of_task(id).await {
            Ok(rows) => rows.last().map_or(
                Value::Null,
                |d| json!({ "code": d.code, "note": d.note, "agent_id": d.agent }),
            ),
            Err(err) => {
                tracing::warn!(%err, %task, "disposition unavailable for task.completed");
                Value::Null
            }
        }
    }
}

impl ChangeEvents for AcdChanges {
    fn events<'a>(&'a self, change: &'a Change) -> StoreFuture<'a, Vec<OutboxEvent>> {
        Box::pin(async move {
            let mut events = events_of(change);
            if let (AcdEvent::Completed { task }, Some(event)) = (&change.event, events.first_mut())
            {
                event.data["disposition"] = self.disposition(*task).await;
            }
            Ok(events.iter().map(Event::to_outbox).collect())
        })
    }

    fn committed(&self, changes: &[Change], events: Vec<OutboxEvent>) {
        let gates = changes.iter().filter_map(|c| c.ready.clone()).collect();
        self.publisher.committed(gates, events);
    }
}

/// The events of one change (the disposition of `task.completed` is added by the caller).
pub fn events_of(change: &Change) -> Vec<Event> {
    let voice = change
        .task
        .as_ref()
        .is_some_and(|t| t.channel == Channel::Voice);
    let with_call = |task: Event, call: EventKind| {
        let mut out = vec![task];
        if voice {
            out.push(retyped(&out[0], call));
        }
        out
    };
    match &change.event {
        AcdEvent::Queued { .. } => vec![task_event(EventKind::TaskQueued, change, false)],
        AcdEvent::Decision(Decision::Offer { .. }) => with_call(
            task_event(EventKind::TaskOffered, change, true),
            EventKind::CallRinging,
        ),
        AcdEvent::Decision(Decision::SlaBreached { .. }) => {
            vec![task_event(EventKind::TaskSlaBreached, change, false)]
        }
        AcdEvent::Accepted { .. } => with_call(
            task_event(EventKind::TaskAccepted, change, true),
            EventKind::CallAnswered,
        ),
        AcdEvent::Completed { .. } => vec![task_event(EventKind::TaskCompleted, change, true)],
        AcdEvent::Decision(Decision::Abandoned { waited, .. }) => {
            let mut event = task_event(EventKind::TaskAbandoned, change, false);
            event.data["waited_ms"] = json!(u64::try_from(waited.as_millis()).unwrap_or(u64::MAX));
            vec![event]
        }
        AcdEvent::CallbackAttempt {
            attempts,
            outcome,
            call,
            ..
        } => {
            let mut event = task_event(EventKind::CallbackAttempted, change, true);
            event.call_id = call.clone();
            event.data["attempt"] = json!(attempts);
            event.data["outcome"] = json!(outcome.as_str());
            vec![event]
        }
        AcdEvent::AgentChanged {
            status,
            previous,
            cause,
            ..
        } => {
            let mut event = Event::new(EventKind::AgentStateChanged, change.at_ms);
            event.agent_id = change.agent.clone();
            let (state, reason) = agent_state(*status);
            let (previous, _) = agent_state(*previous);
            event.data = json!({
                "state": state,
                "reason": reason,
                "previous": previous,
                "cause": cause.as_str(),
            });
            vec![event]
        }
        _ => Vec::new(),
    }
}

/// A task's event: its queue, channel and customer; for a voice task also its call (the CDR
/// id as `call_id`, the SIP Call-ID as `data.sip_call_id`); the agent when `with_agent`.
fn task_event(kind: EventKind, change: &Change, with_agent: bool) -> Event {
    let mut event = Event::new(kind, change.at_ms);
    let view = change.task.as_ref();
    event.task_id = view
        .map(|v| v.id)
        .or_else(|| task_of(&change.event))
        .map(|t| t.0.to_string());
    event.agent_id = change.agent.clone().filter(|_| with_agent);
    event.data = json!({
        "queue": view.map(|v| v.queue.as_str()),
        "channel": view.map(|v| channel_name(v.channel)),
        "customer": view.and_then(|v| v.customer.as_deref()),
    });
    if let Some(v) = view.filter(|v| v.channel == Channel::Voice) {
        event.call_id = v.attributes.get(CALL_ID).cloned();
        event.data["sip_call_id"] = json!(v.attributes.get(SIP_CALL_ID));
    }
    event
}

/// The attribute of a voice task naming its call (the CDR id of `/api/v1/calls/{id}`).
pub const CALL_ID: &str = "call_id";
/// The attribute of a voice task holding its call's SIP Call-ID.
pub const SIP_CALL_ID: &str = "sip_call_id";

/// A new event of `kind` with `event`'s time, subjects and data.
fn retyped(event: &Event, kind: EventKind) -> Event {
    let mut copy = Event::new(kind, event.occurred_at_ms);
    copy.call_id = event.call_id.clone();
    copy.task_id = event.task_id.clone();
    copy.agent_id = event.agent_id.clone();
    copy.data = event.data.clone();
    copy
}

fn task_of(event: &AcdEvent) -> Option<TaskId> {
    match event {
        AcdEvent::Queued { task, .. }
        | AcdEvent::Accepted { task, .. }
        | AcdEvent::Completed { task }
        | AcdEvent::CallbackAttempt { task, .. }
        | AcdEvent::Decision(Decision::Offer { task, .. })
        | AcdEvent::Decision(Decision::SlaBreached { task })
        | AcdEvent::Decision(Decision::Abandoned { task, .. }) => Some(*task),
        _ => None,
    }
}

/// The wire name of an agent status and its break reason (events and the API).
pub fn agent_state(status: AgentStatus) -> (&'static str, Option<u16>) {
    match status {
        AgentStatus::Offline => ("offline", None),
        AgentStatus::Available => ("available", None),
        AgentStatus::Busy => ("busy", None),
        AgentStatus::WrapUp => ("wrap_up", None),
        AgentStatus::Break(code) => ("break", Some(code.0)),
    }
}

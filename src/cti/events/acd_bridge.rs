//! The ACD bridge: one task that turns the ACD's broadcast (`AcdEvent`) into events, in
//! order, and sends the screen pop of each offer (see the parent module for durability).

use std::collections::HashMap;

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use super::{Publisher, ScreenPop};
use crate::cti::webhook::{Event, EventKind};
use crate::routing::setup::channel_name;
use crate::routing::{
    AcdEvent, AcdHandle, AgentId, AgentStatus, Channel, Decision, TaskId, TaskView,
};
use crate::store::Store;

/// Subscribes to `acd` now (so nothing after this call is missed) and spawns the bridge.
pub fn spawn_acd_bridge(
    acd: AcdHandle,
    publisher: Publisher,
    pop: ScreenPop,
    store: Store,
) -> JoinHandle<()> {
    let mut rx = acd.subscribe();
    let mut bridge = Bridge {
        acd,
        publisher,
        pop,
        store,
        tasks: HashMap::new(),
        holders: HashMap::new(),
    };
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => bridge.handle(event).await,
                Err(RecvError::Lagged(skipped)) => {
                    tracing::error!(skipped, "event bridge fell behind the ACD; events lost");
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}

struct Bridge {
    acd: AcdHandle,
    publisher: Publisher,
    pop: ScreenPop,
    store: Store,
    /// Tasks seen queued, so later events can name their queue, channel and customer.
    tasks: HashMap<TaskId, TaskView>,
    /// The agent each task was last offered to, so its completion and callback attempts name
    /// the agent (and reach the agent's event stream).
    holders: HashMap<TaskId, AgentId>,
}

impl Bridge {
    async fn handle(&mut self, event: AcdEvent) {
        let now = now_ms();
        let events = match event {
            AcdEvent::Queued { task, .. } => {
                self.refresh(task).await;
                vec![self.task_event(EventKind::TaskQueued, task, None, now)]
            }
            AcdEvent::Decision(Decision::Offer { task, agent }) => {
                self.offer(task, agent, now).await
            }
            AcdEvent::Decision(Decision::SlaBreached { task }) => {
                vec![self.task_event(EventKind::TaskSlaBreached, task, None, now)]
            }
            AcdEvent::Decision(Decision::Overflowed { task, .. }) => {
                self.refresh(task).await;
                Vec::new()
            }
            AcdEvent::Decision(Decision::Abandoned { task, .. }) => {
                self.tasks.remove(&task);
                self.holders.remove(&task);
                Vec::new()
            }
            AcdEvent::Accepted { task, agent } => {
                let mut out =
                    vec![self.task_event(EventKind::TaskAccepted, task, Some(agent), now)];
                if self.is_voice(task) {
                    out.push(self.task_event(EventKind::CallAnswered, task, Some(agent), now));
                }
                out
            }
            AcdEvent::Completed { task } => {
                let holder = self.holders.remove(&task);
                let mut event = self.task_event(EventKind::TaskCompleted, task, holder, now);
                event.data["disposition"] = self.disposition(task).await;
                self.tasks.remove(&task);
                vec![event]
            }
            AcdEvent::AgentChanged { agent, status } => {
                let mut event = Event::new(EventKind::AgentStateChanged, now);
                event.agent_id = Some(self.agent_number(agent));
                let (state, reason) = agent_state(status);
                event.data = json!({ "state": state, "reason": reason });
                vec![event]
            }
            AcdEvent::CallbackAttempt {
                task,
                attempts,
                outcome,
            } => {
                let holder = self.holders.get(&task).copied();
                let mut event = self.task_event(EventKind::CallbackAttempted, task, holder, now);
                event.data["attempt"] = json!(attempts);
                event.data["outcome"] = json!(outcome.as_str());
                vec![event]
            }
            _ => Vec::new(),
        };
        for event in events {
            if let Err(err) = self.publisher.publish(&event).await {
                tracing::error!(%err, kind = %event.kind, "event could not be stored; lost");
            }
        }
    }

    /// The pop first (the phone rings meanwhile), then `task.offered` and, for calls,
    /// `call.ringing`.
    async fn offer(&mut self, task: TaskId, agent: AgentId, now: i64) -> Vec<Event> {
        if !self.tasks.contains_key(&task) {
            self.refresh(task).await;
        }
        self.holders.insert(task, agent);
        let number = self.agent_number(agent);
        if let Some(view) = self.tasks.get(&task) {
            let body = self.pop.build(view, &number).await;
            self.publisher.screen_pop(&number, body);
        }
        let mut out = vec![self.task_event(EventKind::TaskOffered, task, Some(agent), now)];
        if self.is_voice(task) {
            out.push(self.task_event(EventKind::CallRinging, task, Some(agent), now));
        }
        out
    }

    /// Reloads what the ACD knows of `task`.
    async fn refresh(&mut self, task: TaskId) {
        match self.acd.task(task).await {
            Ok(Some(view)) => {
                self.tasks.insert(task, view);
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(%err, %task, "task details unavailable for its events"),
        }
    }

    fn task_event(&self, kind: EventKind, task: TaskId, agent: Option<AgentId>, now: i64) -> Event {
        let mut event = Event::new(kind, now);
        event.task_id = Some(task.0.to_string());
        event.agent_id = agent.map(|a| self.agent_number(a));
        let view = self.tasks.get(&task);
        event.data = json!({
            "queue": view.map(|v| v.queue.as_str()),
            "channel": view.map(|v| channel_name(v.channel)),
            "customer": view.and_then(|v| v.customer.as_deref()),
        });
        event
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

    fn is_voice(&self, task: TaskId) -> bool {
        self.tasks
            .get(&task)
            .is_some_and(|v| v.channel == Channel::Voice)
    }

    fn agent_number(&self, agent: AgentId) -> String {
        self.acd
            .setup()
            .agent_by_id(agent)
            .map_or_else(|| agent.to_string(), |a| a.number.clone())
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

fn now_ms() -> i64 {
    crate::cti::webhook::WallClock::now_ms(&crate::cti::webhook::SystemClock)
}

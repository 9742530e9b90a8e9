//! Draining the engine: every decision is broadcast, journalled when events report it, logged
//! when the reports need it, and told to the task's owner (an offer with its `OfferReady`). A
//! voice task whose owner has gone (its call task ended without cancelling) is abandoned
//! here, so it never blocks an agent.

use std::time::Instant;

use tokio::sync::mpsc::error::TrySendError;

use super::actor::Actor;
use super::journal::Change;
use super::log::Entry;
use super::persist::TaskMeta;
use super::{AcdEvent, OfferReady, TaskNotice};
use crate::routing::decision::Decision;
use crate::routing::ids::{AgentId, TaskId};
use crate::routing::task::Channel;

impl Actor {
    /// Drains every pending decision (call after every engine input).
    pub fn drain(&mut self, now: Instant, wall_ms: i64) {
        loop {
            let mut orphans = Vec::new();
            while let Some(decision) = self.engine.poll_decision() {
                tracing::debug!(?decision, "routing decision");
                let quiet = matches!(decision, Decision::Abandoned { task, .. }
                    if self.quiet_abandon.take_if(|q| *q == task).is_some());
                if !quiet {
                    let _ = self.events.send(AcdEvent::Decision(decision));
                }
                if let Some(orphan) = self.deliver(now, wall_ms, decision) {
                    orphans.push(orphan);
                }
            }
            if orphans.is_empty() {
                self.report_agents(wall_ms);
                return;
            }
            for task in orphans {
                self.abandon_orphan(now, wall_ms, task);
            }
        }
    }

    /// Handles one decision; returns a task whose owner is gone.
    fn deliver(&mut self, now: Instant, wall_ms: i64, decision: Decision) -> Option<TaskId> {
        match decision {
            Decision::Offer { task, agent } => {
                let number = self.shared.agent_number(agent);
                let meta = self.tasks.get(&task)?;
                let wait = now.saturating_duration_since(meta.arrived.unwrap_or(now));
                let queue = self.shared.queue_name(meta.queue).to_string();
                let ready = match &self.shared.hooks.offers {
                    Some(hook) => hook.prepare(&self.task_view(meta), &number),
                    None => OfferReady::now(),
                };
                let notice = TaskNotice::Offer {
                    task,
                    agent,
                    agent_number: number.clone(),
                    channel: meta.channel,
                    customer: meta.customer.clone(),
                    attempt: meta.attempts + 1,
                    ready: ready.clone(),
                };
                if let Some(mut change) = self.change(
                    wall_ms,
                    AcdEvent::Decision(decision),
                    Some(meta),
                    Some(agent),
                ) {
                    change.ready = Some(ready);
                    self.journal.push(change);
                }
                let channel = meta.channel;
                self.log.push(
                    wall_ms,
                    Entry::new(&queue, channel, task, "offer")
                        .agent(number)
                        .wait(wait),
                );
                return self.notify(task, notice);
            }
            Decision::OfferTimedOut { task, agent } => {
                self.log_task(wall_ms, task, "ring_no_answer", Some(agent), None);
                return self.notify(task, TaskNotice::OfferEnded { task, agent });
            }
            Decision::OfferWithdrawn { task, agent } => {
                self.log_task(wall_ms, task, "withdraw", Some(agent), None);
                return self.notify(task, TaskNotice::OfferEnded { task, agent });
            }
            Decision::Overflowed { task, from, to } => {
                let (from_name, to_name) = (
                    self.shared.queue_name(from).to_string(),
                    self.shared.queue_name(to).to_string(),
                );
                self.log_task(wall_ms, task, "overflow", None, Some(to_name.clone()));
                if let Some(meta) = self.tasks.get_mut(&task) {
                    meta.queue = to;
                    if meta.durable() {
                        let row = self.shared.row(meta, "waiting", None);
                        self.journal.update_row(row);
                    }
                }
                self.log_task(wall_ms, task, "overflow_in", None, Some(from_name));
                return self.notify(task, TaskNotice::Overflowed { task, to: to_name });
            }
            Decision::SlaBreached { task } => {
                let meta = self.tasks.get(&task);
                if let Some(change) = self.change(wall_ms, AcdEvent::Decision(decision), meta, None)
                {
                    self.journal.push(change);
                }
                self.log_task(wall_ms, task, "sla_breach", None, None);
                return self.notify(task, TaskNotice::SlaBreached { task });
            }
            Decision::WrapUpEnded { agent } => {
                if let Some((task, queue, channel, since)) = self.wrapping.remove(&agent) {
                    let name = self.shared.queue_name(queue).to_string();
                    self.log.push(
                        wall_ms,
                        Entry::new(&name, channel, task, "wrap_up")
                            .agent(self.shared.agent_number(agent))
                            .duration(now.saturating_duration_since(since)),
                    );
                }
            }
            Decision::AgentNotReady { agent, reason } => {
                let entry = Entry::new("", Channel::Voice, TaskId(0), "not_ready")
                    .agent(self.shared.agent_number(agent))
                    .detail(reason.0.to_string());
                self.log.push(wall_ms, entry);
            }
            // Logged by the command that caused it (abandon or keep-place).
            Decision::Abandoned { .. } => {}
        }
        None
    }

    /// The journal entry of `event` about `task` (as it is now) and `agent`; `None` when
    /// changes are not recorded.
    pub fn change(
        &self,
        wall_ms: i64,
        event: AcdEvent,
        task: Option<&TaskMeta>,
        agent: Option<AgentId>,
    ) -> Option<Change> {
        self.journal.is_on().then(|| Change {
            event,
            task: task.map(|meta| self.task_view(meta)),
            agent: agent.map(|a| self.shared.agent_number(a)),
            at_ms: wall_ms,
            ready: None,
        })
    }

    /// The `Queued` change of `meta` (entering, or re-entering, its queue).
    pub fn queued_change(&self, wall_ms: i64, meta: &TaskMeta) -> Option<Change> {
        let event = AcdEvent::Queued {
            task: meta.id,
            queue: meta.queue,
            channel: meta.channel,
        };
        self.change(wall_ms, event, Some(meta), None)
    }

    /// Broadcasts `event` and journals it (a change no stored row records).
    pub fn emit(
        &self,
        wall_ms: i64,
        event: AcdEvent,
        task: Option<TaskId>,
        agent: Option<AgentId>,
    ) {
        let meta = task.and_then(|t| self.tasks.get(&t));
        if let Some(change) = self.change(wall_ms, event.clone(), meta, agent) {
            self.journal.push(change);
        }
        let _ = self.events.send(event);
    }

    /// Logs a task event in the task's current queue, with its wait so far.
    pub fn log_task(
        &mut self,
        wall_ms: i64,
        task: TaskId,
        event: &'static str,
        agent: Option<AgentId>,
        detail: Option<String>,
    ) {
        let Some(meta) = self.tasks.get(&task) else {
            return;
        };
        let now = tokio::time::Instant::now().into_std();
        let wait = now.saturating_duration_since(meta.arrived.unwrap_or(now));
        let queue = self.shared.queue_name(meta.queue).to_string();
        let mut entry = Entry::new(&queue, meta.channel, task, event).wait(wait);
        entry.agent = agent.map(|a| self.shared.agent_number(a));
        entry.detail = detail;
        self.log.push(wall_ms, entry);
    }

    /// Sends a notice to the task's owner; returns the task if its own sink is closed.
    fn notify(&self, task: TaskId, notice: TaskNotice) -> Option<TaskId> {
        let meta = self.tasks.get(&task)?;
        let (sink, own) = match &meta.sink {
            Some(sink) => (sink, true),
            None => (self.channel_sinks[meta.channel.index()].as_ref()?, false),
        };
        match sink.try_send(notice) {
            Ok(()) => None,
            Err(TrySendError::Full(_)) => {
                tracing::warn!(task = %task, "task owner's inbox full; notice dropped");
                None
            }
            Err(TrySendError::Closed(_)) if own && !meta.durable() => Some(task),
            Err(TrySendError::Closed(_)) => {
                tracing::warn!(task = %task, "task owner gone; notice dropped");
                None
            }
        }
    }

    fn abandon_orphan(&mut self, now: Instant, wall_ms: i64, task: TaskId) {
        let Ok(waited) = self.engine.handle_task_cancelled(now, task) else {
            return;
        };
        if let Some(meta) = self.tasks.remove(&task) {
            let queue = self.shared.queue_name(meta.queue).to_string();
            self.log.push(
                wall_ms,
                Entry::new(&queue, meta.channel, task, "abandon")
                    .wait(waited)
                    .detail("owner gone"),
            );
        }
    }
}

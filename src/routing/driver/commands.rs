//! Task commands: abandon (with callback creation), keep-place, offer outcomes, callback
//! attempts, completion and transfer. Stored tasks are written, with the change's events
//! (`journal`), before the engine changes and before the reply; a failed write leaves the
//! engine untouched and returns the error.

use std::time::{Duration, Instant};

use super::actor::Actor;
use super::journal::RowWrite;
use super::log::Entry;
use super::persist::{TaskMeta, unix_ms};
use super::{AcdCommand, AcdError, AcdEvent, CancelOutcome};
use crate::routing::RoutingError;
use crate::routing::callback::{AttemptOutcome, Verdict};
use crate::routing::decision::{Decision, TaskStatus};
use crate::routing::ids::TaskId;
use crate::routing::task::Channel;

impl Actor {
    pub(super) async fn task_command(&mut self, now: Instant, wall_ms: i64, cmd: AcdCommand) {
        match cmd {
            AcdCommand::Cancel(task, reply) => {
                let _ = reply.send(self.cancel(now, wall_ms, task).await);
            }
            AcdCommand::KeepPlace(task, reply) => {
                let _ = reply.send(self.keep_place(now, wall_ms, task).await);
            }
            AcdCommand::Accepted(task, agent, reply) => {
                let result = self.engine.handle_offer_accepted(now, task, agent);
                if result.is_ok() {
                    if let Some(meta) = self.tasks.get_mut(&task) {
                        meta.answered = Some((agent, now));
                    }
                    self.log_task(wall_ms, task, "answer", Some(agent), None);
                    let event = AcdEvent::Accepted { task, agent };
                    self.emit(wall_ms, event, Some(task), Some(agent));
                }
                let _ = reply.send(result.map_err(AcdError::from));
            }
            AcdCommand::Rejected(task, agent, reply) => {
                let result = self.engine.handle_offer_rejected(now, task, agent);
                if result.is_ok() {
                    self.log_task(wall_ms, task, "reject", Some(agent), None);
                }
                let _ = reply.send(result.map_err(AcdError::from));
            }
            AcdCommand::Unanswered(task, agent, reply) => {
                // Logged first, so that the row precedes the engine's not_ready for the agent.
                let offered = self.engine.task_status(task) == Some(TaskStatus::Offered { agent });
                if offered {
                    self.log_task(wall_ms, task, "ring_no_answer", Some(agent), None);
                }
                let result = self.engine.handle_offer_unanswered(now, task, agent);
                let _ = reply.send(result.map_err(AcdError::from));
            }
            AcdCommand::CallbackOutcome(task, outcome, call, reply) => {
                let answer = self
                    .callback_outcome(now, wall_ms, task, outcome, call)
                    .await;
                let _ = reply.send(answer);
            }
            AcdCommand::Completed(task, reply) => {
                let _ = reply.send(self.complete(now, wall_ms, task, "done", "complete").await);
            }
            AcdCommand::Transfer(task, queue, reply) => {
                let _ = reply.send(self.transfer(now, wall_ms, task, &queue).await);
            }
            _ => {}
        }
    }

    /// Records a change of `meta` (now in `state`) and its `event`, by `agent`: a stored
    /// task's row and the event's rows commit together (waited for); a live call's event is
    /// queued. The caller broadcasts `event` once the change is made.
    async fn write(
        &self,
        wall_ms: i64,
        meta: &TaskMeta,
        (state, next_ms): (&str, Option<i64>),
        event: Option<AcdEvent>,
    ) -> Result<(), AcdError> {
        let agent = meta.answered.map(|(agent, _)| agent);
        let change = event.and_then(|e| self.change(wall_ms, e, Some(meta), agent));
        if meta.durable() {
            let row = self.shared.row(meta, state, next_ms);
            self.journal.write(row, RowWrite::Update, change).await?;
        } else if let Some(change) = change {
            self.journal.push(change);
        }
        Ok(())
    }

    /// Stores new task `meta` (waiting) with its `task.queued` event.
    async fn insert(&self, wall_ms: i64, meta: &TaskMeta) -> Result<(), AcdError> {
        let row = self.shared.row(meta, "waiting", None);
        let change = self.queued_change(wall_ms, meta);
        self.journal.write(row, RowWrite::Insert, change).await
    }

    fn meta(&self, task: TaskId) -> Result<&TaskMeta, AcdError> {
        self.tasks
            .get(&task)
            .ok_or(AcdError::Routing(RoutingError::UnknownTask(task)))
    }

    async fn cancel(
        &mut self,
        now: Instant,
        wall_ms: i64,
        task: TaskId,
    ) -> Result<CancelOutcome, AcdError> {
        let meta = self.meta(task)?.clone();
        let waited = now.saturating_duration_since(meta.arrived.unwrap_or(now));
        if let Some(TaskStatus::Assigned { .. }) = self.engine.task_status(task) {
            return Err(RoutingError::AlreadyAssigned(task).into());
        }
        let abandoned = AcdEvent::Decision(Decision::Abandoned {
            task,
            queue: meta.queue,
            waited,
        });
        self.write(wall_ms, &meta, ("cancelled", None), Some(abandoned))
            .await?;
        let waited = if self.callbacks.cancel(task) {
            waited
        } else {
            self.engine.handle_task_cancelled(now, task)?
        };
        self.tasks.remove(&task);
        let queue = self.shared.queue_name(meta.queue).to_string();
        self.log.push(
            wall_ms,
            Entry::new(&queue, meta.channel, task, "abandon").wait(waited),
        );
        let policy = self
            .shared
            .setup
            .queue_by_id(meta.queue)
            .map(|q| q.callback);
        let callback = if meta.channel == Channel::Voice
            && meta.customer.is_some()
            && policy.is_some_and(|p| p.on_abandon(waited))
        {
            // The abandon itself stands even if the callback cannot be made.
            match self.abandon_callback(now, wall_ms, &meta).await {
                Ok(id) => Some(id),
                Err(err) => {
                    tracing::error!(%err, task = %task, "callback after abandon not created");
                    None
                }
            }
        } else {
            None
        };
        Ok(CancelOutcome { waited, callback })
    }

    /// A callback for the caller of abandoned call `meta`, due on the callback SLA from now.
    async fn abandon_callback(
        &mut self,
        now: Instant,
        wall_ms: i64,
        meta: &TaskMeta,
    ) -> Result<TaskId, AcdError> {
        let task = meta.id;
        let mut new = meta.clone();
        new.id = self.shared.next_id();
        new.channel = Channel::Callback;
        new.sink = None;
        new.arrived = Some(now);
        new.arrived_ms = wall_ms;
        new.answered = None;
        new.deadline_ms = self.callback_deadline(&new);
        self.insert(wall_ms, &new).await?;
        let id = new.id;
        self.tasks.insert(id, new);
        self.queue_in_engine(now, wall_ms, id, "enqueue")?;
        self.log_task(
            wall_ms,
            id,
            "callback_created",
            None,
            Some(format!("abandoned {task}")),
        );
        Ok(id)
    }

    fn callback_deadline(&self, meta: &TaskMeta) -> Option<i64> {
        let queue = self.shared.setup.queue_by_id(meta.queue)?;
        let arrived = std::time::UNIX_EPOCH + Duration::from_millis(meta.arrived_ms.max(0) as u64);
        queue.deadline(Channel::Callback, arrived).map(unix_ms)
    }

    async fn keep_place(
        &mut self,
        now: Instant,
        wall_ms: i64,
        task: TaskId,
    ) -> Result<(), AcdError> {
        let meta = self.meta(task)?;
        if meta.channel != Channel::Voice || meta.customer.is_none() {
            return Err(AcdError::Invalid(format!(
                "{task} is not a call with a caller number"
            )));
        }
        if let Some(TaskStatus::Assigned { .. }) = self.engine.task_status(task) {
            return Err(RoutingError::AlreadyAssigned(task).into());
        }
        let mut new = meta.clone();
        new.channel = Channel::Callback;
        new.sink = None;
        new.deadline_ms = self.callback_deadline(&new);
        self.insert(wall_ms, &new).await?;
        self.quiet_abandon = Some(task);
        self.engine.handle_task_cancelled(now, task)?;
        self.log_task(wall_ms, task, "callback_requested", None, None);
        self.tasks.insert(task, new);
        self.queue_in_engine(now, wall_ms, task, "requeue")
    }

    async fn callback_outcome(
        &mut self,
        now: Instant,
        wall_ms: i64,
        task: TaskId,
        outcome: AttemptOutcome,
        call: Option<String>,
    ) -> Result<Verdict, AcdError> {
        let meta = self.meta(task)?.clone();
        let Some((agent, _)) = meta.answered.filter(|_| meta.channel == Channel::Callback) else {
            return Err(AcdError::Invalid(format!(
                "{task} is not an accepted callback"
            )));
        };
        let policy = self
            .shared
            .setup
            .queue_by_id(meta.queue)
            .map(|q| q.callback)
            .unwrap_or_default();
        let attempts = meta.attempts + 1;
        let verdict = self
            .callbacks
            .record_attempt(now, task, attempts, outcome, &policy);
        let mut updated = meta.clone();
        updated.attempts = attempts;
        let state = match verdict {
            Verdict::Reached => ("waiting", None),
            Verdict::RetryAt(at) => (
                "retry",
                Some(wall_ms + at.saturating_duration_since(now).as_millis() as i64),
            ),
            Verdict::GaveUp => ("failed", None),
        };
        let event = AcdEvent::CallbackAttempt {
            task,
            attempts,
            outcome,
            call,
        };
        let write = self
            .write(wall_ms, &updated, state, Some(event.clone()))
            .await;
        if let Err(err) = write {
            self.callbacks.cancel(task);
            return Err(err);
        }
        if let Some(meta) = self.tasks.get_mut(&task) {
            meta.attempts = attempts;
        }
        let detail = format!("{} attempt {attempts}", outcome.as_str());
        self.log_task(wall_ms, task, "callback_attempt", Some(agent), Some(detail));
        let _ = self.events.send(event);
        match verdict {
            Verdict::Reached => {}
            Verdict::RetryAt(_) => {
                self.finish(now, wall_ms, task, "callback_retry")?;
            }
            Verdict::GaveUp => {
                self.finish(now, wall_ms, task, "callback_failed")?;
                self.tasks.remove(&task);
            }
        }
        Ok(verdict)
    }

    async fn complete(
        &mut self,
        now: Instant,
        wall_ms: i64,
        task: TaskId,
        state: &str,
        event: &'static str,
    ) -> Result<(), AcdError> {
        let meta = self.meta(task)?.clone();
        if meta.answered.is_none() {
            return Err(RoutingError::NotAssigned(task).into());
        }
        let completed = AcdEvent::Completed { task };
        self.write(wall_ms, &meta, (state, None), Some(completed))
            .await?;
        self.finish(now, wall_ms, task, event)?;
        self.tasks.remove(&task);
        let _ = self.events.send(AcdEvent::Completed { task });
        Ok(())
    }

    /// Completes an accepted task in the engine, logs `event` with its handling time and
    /// remembers the agent's wrap-up.
    fn finish(
        &mut self,
        now: Instant,
        wall_ms: i64,
        task: TaskId,
        event: &'static str,
    ) -> Result<(), AcdError> {
        self.engine.handle_task_completed(now, task)?;
        let Some(meta) = self.tasks.get_mut(&task) else {
            return Ok(());
        };
        let Some((agent, since)) = meta.answered.take() else {
            return Ok(());
        };
        let (queue, channel) = (meta.queue, meta.channel);
        let name = self.shared.queue_name(queue).to_string();
        let took = now.saturating_duration_since(since);
        self.announcer.handled(queue, took);
        self.log.push(
            wall_ms,
            Entry::new(&name, channel, task, event)
                .agent(self.shared.agent_number(agent))
                .duration(took),
        );
        if self.engine.agent_status(agent) == crate::routing::agent::AgentStatus::WrapUp {
            self.wrapping.insert(agent, (task, queue, channel, now));
        }
        Ok(())
    }

    async fn transfer(
        &mut self,
        now: Instant,
        wall_ms: i64,
        task: TaskId,
        to: &str,
    ) -> Result<(), AcdError> {
        let target = self
            .shared
            .setup
            .queue(to)
            .ok_or_else(|| AcdError::UnknownQueue(to.to_string()))?
            .config
            .id;
        let meta = self.meta(task)?;
        if meta.answered.is_none() {
            return Err(RoutingError::NotAssigned(task).into());
        }
        let mut moved = meta.clone();
        moved.queue = target;
        let queued = AcdEvent::Queued {
            task,
            queue: target,
            channel: moved.channel,
        };
        self.write(wall_ms, &moved, ("waiting", None), Some(queued))
            .await?;
        self.log_task(wall_ms, task, "transfer", None, Some(to.to_string()));
        self.finish(now, wall_ms, task, "complete")?;
        if let Some(meta) = self.tasks.get_mut(&task) {
            meta.queue = target;
            meta.arrived = Some(now);
        }
        self.queue_in_engine(now, wall_ms, task, "enqueue")
    }
}

//! `AcdHandle`: the routing API for the rest of the switch. Each call sends one command to
//! the actor and waits for its reply; durable tasks are stored here, before the actor sees
//! them (see the parent module's "Durability").

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};

use super::persist::Shared;
use super::{
    AcdCommand, AcdError, AcdEvent, CancelOutcome, NewTask, OfferSink, QueueStatus, Reply,
};
use crate::routing::agent::{AgentStatus, Presence, StateCause};
use crate::routing::callback::{AttemptOutcome, Verdict};
use crate::routing::decision::TaskStatus;
use crate::routing::features::FeatureAction;
use crate::routing::ids::{AgentId, TaskId};
use crate::routing::setup::RoutingSetup;
use crate::routing::task::Channel;

/// The routing API: cheap to clone, one per user.
#[derive(Clone, Debug)]
pub struct AcdHandle {
    pub(super) tx: mpsc::Sender<AcdCommand>,
    pub(super) events: broadcast::Sender<AcdEvent>,
    pub(super) shared: Arc<Shared>,
}

impl AcdHandle {
    /// Queues a contact. Non-voice tasks are stored before this returns their id.
    pub async fn enqueue(&self, task: NewTask) -> Result<TaskId, AcdError> {
        let meta = self.shared.admit(task).await?;
        self.ask(|r| AcdCommand::Enqueue(Box::new(meta), r)).await
    }

    /// A call reached `queue` while its calendar is closed: when the queue's callback policy
    /// says so (`outside_hours`), a callback to `customer` is stored and queued (its deadline
    /// runs in business hours) and its id returned; `None` when the queue is open or the
    /// policy is off (the caller then queues the call as usual).
    pub async fn missed_call(
        &self,
        queue: &str,
        customer: &str,
    ) -> Result<Option<TaskId>, AcdError> {
        let setup = self
            .shared
            .setup
            .queue(queue)
            .ok_or_else(|| AcdError::UnknownQueue(queue.to_string()))?;
        if !setup.callback.outside_hours || setup.is_open(self.shared.clock.now()) {
            return Ok(None);
        }
        let mut task = NewTask::callback(queue, customer);
        task.attributes
            .insert("reason".into(), "outside_hours".into());
        self.enqueue(task).await.map(Some)
    }

    /// The contact went away before an agent took it (abandon). A caller who waited longer
    /// than the queue's `callback.abandon_after` gets a callback task.
    pub async fn cancel(&self, task: TaskId) -> Result<CancelOutcome, AcdError> {
        self.ask(|r| AcdCommand::Cancel(task, r)).await
    }

    /// A waiting caller pressed the key to keep their place and hang up: the call's task
    /// becomes a callback with the same id and arrival time (stored before this returns).
    pub async fn keep_place(&self, task: TaskId) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::KeepPlace(task, r)).await
    }

    /// Login, logout, break or ready (from the API or a dialled feature code).
    pub async fn agent(&self, agent: AgentId, action: FeatureAction) -> Result<(), AcdError> {
        self.agent_from(agent, action, StateCause::Api).await
    }

    /// As `agent`, for a change that came from `cause` (a phone's registration or feature
    /// code). A login by registration keeps the agent's presence (a break stays a break).
    pub async fn agent_from(
        &self,
        agent: AgentId,
        action: FeatureAction,
        cause: StateCause,
    ) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::Agent(agent, action, cause, r))
            .await
    }

    /// Sets an agent's presence (`agent` with `Ready`/`Pause`).
    pub async fn set_presence(&self, agent: AgentId, presence: Presence) -> Result<(), AcdError> {
        let action = match presence {
            Presence::Available => FeatureAction::Ready,
            Presence::Break(reason) => FeatureAction::Pause(reason),
        };
        self.agent(agent, action).await
    }

    /// The agent answered the offer.
    pub async fn offer_accepted(&self, task: TaskId, agent: AgentId) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::Accepted(task, agent, r)).await
    }

    /// The agent declined the offer.
    pub async fn offer_rejected(&self, task: TaskId, agent: AgentId) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::Rejected(task, agent, r)).await
    }

    /// The offer rang out at the phone (the agent goes not-ready).
    pub async fn offer_unanswered(&self, task: TaskId, agent: AgentId) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::Unanswered(task, agent, r)).await
    }

    /// How dialling the customer of an accepted callback ended (stored before the reply);
    /// `call` is the attempt's call (its CDR id), named by `callback.attempted`.
    pub async fn callback_outcome(
        &self,
        task: TaskId,
        outcome: AttemptOutcome,
        call: Option<String>,
    ) -> Result<Verdict, AcdError> {
        self.ask(|r| AcdCommand::CallbackOutcome(task, outcome, call, r))
            .await
    }

    /// The agent finished the task (wrap-up follows).
    pub async fn completed(&self, task: TaskId) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::Completed(task, r)).await
    }

    /// The agent's phone started (`on`) or ended a call outside routing (a direct call, one
    /// the agent placed, a click-to-dial or callback leg): busy for voice meanwhile.
    pub async fn agent_on_call(&self, agent: AgentId, on: bool) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::AgentOnCall(agent, on, std::time::Duration::ZERO, r))
            .await
    }

    /// The agent's phone ended a call outside routing that is followed by `wrap_up` of
    /// after-call work (a click-to-dial call).
    pub async fn agent_call_ended(
        &self,
        agent: AgentId,
        wrap_up: std::time::Duration,
    ) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::AgentOnCall(agent, false, wrap_up, r))
            .await
    }

    /// Moves an accepted task to another queue (blind transfer); it waits there anew.
    pub async fn transfer(&self, task: TaskId, queue: &str) -> Result<(), AcdError> {
        self.ask(|r| AcdCommand::Transfer(task, queue.to_string(), r))
            .await
    }

    /// Sets the default owner for a channel's tasks (e.g. the callback dialler).
    pub async fn set_channel_sink(
        &self,
        channel: Channel,
        sink: OfferSink,
    ) -> Result<(), AcdError> {
        self.tx
            .send(AcdCommand::ChannelSink(channel, sink))
            .await
            .map_err(|_| AcdError::Stopped)
    }

    /// A queue's status, or `None` for an unknown name.
    pub async fn queue_status(&self, queue: &str) -> Result<Option<QueueStatus>, AcdError> {
        self.query(|r| AcdCommand::QueueStatus(queue.to_string(), r))
            .await
    }

    /// An agent's status.
    pub async fn agent_status(&self, agent: AgentId) -> Result<AgentStatus, AcdError> {
        self.query(|r| AcdCommand::AgentStatus(agent, r)).await
    }

    /// What the agent is doing and since when (unix ms; `None` before its first change).
    pub async fn agent_state(
        &self,
        agent: AgentId,
    ) -> Result<(AgentStatus, Option<i64>), AcdError> {
        self.query(|r| AcdCommand::AgentState(agent, r)).await
    }

    /// A live task's status and, while it waits, its position (0: next).
    pub async fn task_status(
        &self,
        task: TaskId,
    ) -> Result<Option<(TaskStatus, Option<usize>)>, AcdError> {
        self.query(|r| AcdCommand::TaskStatus(task, r)).await
    }

    /// Every task the shell knows, oldest first (for the API's task list).
    pub async fn tasks(&self) -> Result<Vec<super::TaskView>, AcdError> {
        self.query(AcdCommand::Tasks).await
    }

    /// One task the shell knows, if it does.
    pub async fn task(&self, task: TaskId) -> Result<Option<super::TaskView>, AcdError> {
        self.query(|r| AcdCommand::Task(task, r)).await
    }

    /// Waits until every queue-log row queued so far is written.
    pub async fn flush_log(&self) -> Result<(), AcdError> {
        self.query(AcdCommand::FlushLog).await
    }

    /// Decisions and state changes, for events and metrics.
    pub fn subscribe(&self) -> broadcast::Receiver<AcdEvent> {
        self.events.subscribe()
    }

    /// The configuration the shell runs with (agent numbers, queue names, calendars).
    pub fn setup(&self) -> &RoutingSetup {
        &self.shared.setup
    }

    /// The engine id of the agent with this extension number.
    pub fn agent_id(&self, number: &str) -> Option<AgentId> {
        self.shared.setup.agent(number).map(|a| a.profile.id)
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> AcdCommand) -> Result<T, AcdError> {
        self.query(make).await?
    }

    async fn query<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> AcdCommand,
    ) -> Result<T, AcdError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| AcdError::Stopped)?;
        rx.await.map_err(|_| AcdError::Stopped)
    }
}

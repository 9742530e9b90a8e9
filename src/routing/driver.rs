//! The ACD actor shell: one tokio task owning the `Engine`, fed through a bounded inbox.
//!
//! Owns: the actor task (`actor.rs`), the shell-side bookkeeping of tasks (names, customers,
//! owners' offer channels), persistence of non-live tasks (`persist.rs`), the event journal
//! (`journal.rs`), offer gates (`offer.rs`), the queue-log writer (`log.rs`), and
//! `AcdHandle`, the cheap-to-clone API the rest of the switch uses.
//! Must not touch: routing rules (they are the engine's and `CallbackScheduler`'s), SIP,
//! media. It reads `tokio::time::Instant` and the `WallClock` once per input and passes both
//! down.
//! Driven by: `server` (start-up via `start`), the call layer (voice tasks, callback dialler,
//! feature codes), the API (agent state, queue status, `tasks` / `task`), subscribers of the
//! broadcast (`subscribe`), and `cti::events` through `AcdHooks` (`start_with`).
//!
//! # Run loop
//!
//! The actor waits for a command or the earliest of `Engine::poll_timeout` and
//! `CallbackScheduler::poll_timeout`, feeds one input, then drains `Engine::poll_decision`:
//! `Offer`, `OfferTimedOut`, `OfferWithdrawn`, `Overflowed` and `SlaBreached` go to the task's
//! owner (`OfferSink` given at enqueue, else the channel's sink from `set_channel_sink`, e.g.
//! the callback dialler), every decision goes to the broadcast channel (`subscribe`), and each
//! event the reports need is queued for the queue log.
//!
//! # Durability
//!
//! Voice tasks are live calls and are not stored. Every other channel's task is inserted
//! into the store by `AcdHandle::enqueue` *before* the actor learns of it, so its id is only
//! returned once it is committed; closing it (done, failed, cancelled) and callback attempts
//! are written before the reply. At start-up open tasks are reloaded with their original
//! arrival (wall-clock mapped to `Instant`) and deadline. The queue log is written
//! asynchronously in batches: a crash may lose its last few milliseconds, never a task.
//!
//! # Events
//!
//! With `AcdHooks::events`, every change also goes to the journal (`journal.rs`), in the
//! actor's order: a stored task's row and its change's outbox events are written in one
//! transaction (so they exist together or not at all), other changes (offers, answers, agent
//! states, live calls) are written in batches right after, without holding the actor up.
//! With `AcdHooks::offers`, each offer carries an `OfferReady` the owner's `Notices` waits
//! for before handing the offer out (the agent's screen pop goes first; `offer.rs`).

mod actor;
mod agents;
mod announce;
mod backend;
mod commands;
mod decisions;
mod handle;
mod journal;
mod log;
mod offer;
mod persist;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::routing::RoutingError;
use crate::routing::agent::{AgentStatus, StateCause};
use crate::routing::callback::{AttemptOutcome, Verdict};
use crate::routing::decision::{Decision, TaskStatus};
use crate::routing::features::FeatureAction;
use crate::routing::ids::{AgentId, QueueId, TaskId};
use crate::routing::queue::QueueStats;
use crate::routing::task::Channel;
use crate::store::StoreError;

pub use actor::{start, start_with};
pub use backend::{RoutingStore, StoreFuture};
pub use handle::AcdHandle;
pub use journal::{Change, ChangeEvents};
pub use offer::{Notices, OfferReady, PrepareOffer, Prepared, notice_channel};

/// What the rest of the switch adds to the ACD (`start_with`); none by default.
#[derive(Clone, Default)]
pub struct AcdHooks {
    /// Turns each change into outbox events, written in order and, for stored tasks, in the
    /// task row's transaction (see "Durability").
    pub events: Option<Arc<dyn ChangeEvents>>,
    /// Prepares each offer before its owner rings the agent (the screen pop).
    pub offers: Option<Arc<dyn PrepareOffer>>,
}

impl std::fmt::Debug for AcdHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcdHooks")
            .field("events", &self.events.is_some())
            .field("offers", &self.offers.is_some())
            .finish()
    }
}

/// Wall-clock source (business calendars, stored times). Tests swap it for a clock that
/// follows tokio's paused time.
pub trait WallClock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Where a task's owner hears about offers (the call's task, a callback dialler, a chat
/// session). Bounded: a full sink loses the notice and the ring-no-answer timer recovers.
pub type OfferSink = mpsc::Sender<TaskNotice>;

/// What a task's owner is told.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskNotice {
    /// Ring this agent (agent-first for callbacks: then dial `customer`). Answer with
    /// `offer_accepted`, `offer_rejected` or `offer_unanswered`.
    Offer {
        /// The task.
        task: TaskId,
        /// The agent.
        agent: AgentId,
        /// The agent's extension number.
        agent_number: String,
        /// The task's channel.
        channel: Channel,
        /// The customer (the number to dial for a callback).
        customer: Option<String>,
        /// For callbacks, the number of the attempt this offer leads to (1 for the first).
        attempt: u32,
        /// When the phone may ring: after the agent's screen pop (`Notices` waits for it).
        ready: OfferReady,
    },
    /// Stop ringing: the offer timed out or the agent logged out; the task is queued again.
    OfferEnded {
        /// The task.
        task: TaskId,
        /// The agent.
        agent: AgentId,
    },
    /// The task moved to another queue.
    Overflowed {
        /// The task.
        task: TaskId,
        /// The new queue's name.
        to: String,
    },
    /// The task's place in its queue (every `announce_every` of the queue while it waits).
    Position {
        /// The task.
        task: TaskId,
        /// Tasks ahead of it (0: next).
        ahead: usize,
        /// How long it has waited.
        waited: Duration,
        /// Expected further wait: the queue's average handling time of this channel times the
        /// tasks up to this one, shared among the agents staffing the queue. `None` until a
        /// task of the queue was completed, or with no agent logged in.
        estimated_wait: Option<Duration>,
    },
    /// The task's SLA deadline passed while it waited.
    SlaBreached {
        /// The task.
        task: TaskId,
    },
}

/// A contact to queue, as its owner describes it.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// The medium.
    pub channel: Channel,
    /// The queue's name.
    pub queue: String,
    /// Phone number or CRM id (the number dialled for callbacks; the sticky-agent key).
    pub customer: Option<String>,
    /// The customer's own agent, if the caller knows it.
    pub preferred_agent: Option<AgentId>,
    /// Larger is more urgent.
    pub priority: u32,
    /// Skills needed on top of the queue's, by name, with minimum levels.
    pub skills: BTreeMap<String, u8>,
    /// CTI data carried along.
    pub attributes: BTreeMap<String, String>,
    /// The owner's notice channel (else the channel's sink is used).
    pub sink: Option<OfferSink>,
    /// How often the owner hears the task's position while it waits, instead of the queue's
    /// `announce_every` (a dialplan's `queue` step sets it). Only with a `sink`.
    pub announce_every: Option<Duration>,
}

impl NewTask {
    /// A task for `queue` with no customer, skills, attributes or sink, priority 0.
    pub fn new(channel: Channel, queue: &str) -> NewTask {
        NewTask {
            channel,
            queue: queue.to_string(),
            customer: None,
            preferred_agent: None,
            priority: 0,
            skills: BTreeMap::new(),
            attributes: BTreeMap::new(),
            sink: None,
            announce_every: None,
        }
    }

    /// A callback to `customer` (e.g. a missed call outside hours).
    pub fn callback(queue: &str, customer: &str) -> NewTask {
        NewTask {
            customer: Some(customer.to_string()),
            ..NewTask::new(Channel::Callback, queue)
        }
    }
}

/// Broadcast to every subscriber (events API, metrics, wallboard).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcdEvent {
    /// An engine decision.
    Decision(Decision),
    /// A task entered a queue.
    Queued {
        /// The task.
        task: TaskId,
        /// The queue.
        queue: QueueId,
        /// Its channel.
        channel: Channel,
    },
    /// An agent accepted a task.
    Accepted {
        /// The task.
        task: TaskId,
        /// The agent.
        agent: AgentId,
    },
    /// A task was completed (or closed after its last callback attempt).
    Completed {
        /// The task.
        task: TaskId,
    },
    /// An agent's status changed, whatever caused it (login or logout, a break, work
    /// starting or ending, wrap-up, a ring-no-answer).
    AgentChanged {
        /// The agent.
        agent: AgentId,
        /// The new status.
        status: AgentStatus,
        /// The status before.
        previous: AgentStatus,
        /// Why it changed.
        cause: StateCause,
    },
    /// A callback attempt ended.
    CallbackAttempt {
        /// The task.
        task: TaskId,
        /// Attempts made so far.
        attempts: u32,
        /// How this one ended.
        outcome: AttemptOutcome,
        /// The attempt's call (its CDR id), when the call layer named it.
        call: Option<String>,
    },
}

/// Errors from `AcdHandle`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AcdError {
    /// No queue has this name.
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    /// No queue or agent requires or holds this skill.
    #[error("unknown skill {0:?}")]
    UnknownSkill(String),
    /// The agent is not configured.
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    /// The request does not fit the task (e.g. a callback without a customer number, keeping
    /// the place of a task that is not a waiting call).
    #[error("{0}")]
    Invalid(String),
    /// The engine refused the input.
    #[error(transparent)]
    Routing(#[from] RoutingError),
    /// Writing the task failed; it was not acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The actor has stopped.
    #[error("routing engine stopped")]
    Stopped,
}

/// A queue right now.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStatus {
    /// The queue's name.
    pub name: String,
    /// Waiting tasks, best first.
    pub waiting: Vec<TaskId>,
    /// Counters since start.
    pub stats: QueueStats,
    /// Whether its calendar is open now.
    pub open: bool,
}

/// A task the shell knows (waiting, offered, in progress, or a callback waiting for its next
/// attempt), as `AcdHandle::tasks` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    /// The task.
    pub id: TaskId,
    /// Its channel.
    pub channel: Channel,
    /// Its current queue's name.
    pub queue: String,
    /// Phone number or CRM id, when known.
    pub customer: Option<String>,
    /// Base priority.
    pub priority: u32,
    /// CTI data carried along (dialplan variables, CRM answers).
    pub attributes: BTreeMap<String, String>,
    /// Unix ms of first arrival.
    pub arrived_ms: i64,
    /// Unix ms of the SLA deadline.
    pub deadline_ms: Option<i64>,
    /// Callback attempts made.
    pub attempts: u32,
    /// Where it is in the offer cycle; `None` while a callback waits for its next attempt.
    pub status: Option<TaskStatus>,
}

/// How a cancelled (abandoned) task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelOutcome {
    /// How long it waited.
    pub waited: Duration,
    /// The callback created for the caller (waited longer than the queue's `abandon_after`).
    pub callback: Option<TaskId>,
}

/// Shell sizes.
#[derive(Debug, Clone, Copy)]
pub struct AcdOptions {
    /// Commands waiting for the actor.
    pub inbox: usize,
    /// Broadcast buffer (slow subscribers lag and skip).
    pub events: usize,
    /// Queue-log rows waiting for the writer (beyond it rows are dropped and counted).
    pub log_buffer: usize,
}

impl Default for AcdOptions {
    fn default() -> Self {
        AcdOptions {
            inbox: 1024,
            events: 1024,
            log_buffer: 16_384,
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, AcdError>>;

/// One input for the actor.
#[derive(Debug)]
pub(crate) enum AcdCommand {
    Enqueue(Box<persist::TaskMeta>, Reply<TaskId>),
    Cancel(TaskId, Reply<CancelOutcome>),
    KeepPlace(TaskId, Reply<()>),
    Agent(AgentId, FeatureAction, StateCause, Reply<()>),
    Accepted(TaskId, AgentId, Reply<()>),
    Rejected(TaskId, AgentId, Reply<()>),
    Unanswered(TaskId, AgentId, Reply<()>),
    CallbackOutcome(TaskId, AttemptOutcome, Option<String>, Reply<Verdict>),
    Completed(TaskId, Reply<()>),
    Transfer(TaskId, String, Reply<()>),
    AgentOnCall(AgentId, bool, Duration, Reply<()>),
    QueueStatus(String, oneshot::Sender<Option<QueueStatus>>),
    AgentStatus(AgentId, oneshot::Sender<AgentStatus>),
    AgentState(AgentId, oneshot::Sender<(AgentStatus, Option<i64>)>),
    TaskStatus(TaskId, oneshot::Sender<Option<(TaskStatus, Option<usize>)>>),
    Tasks(oneshot::Sender<Vec<TaskView>>),
    Task(TaskId, oneshot::Sender<Option<TaskView>>),
    ChannelSink(Channel, OfferSink),
    FlushLog(oneshot::Sender<()>),
}

/// The actor's task; finishing it stops routing (after the queue log is flushed).
pub type AcdTask = JoinHandle<()>;

#[cfg(test)]
mod tests;

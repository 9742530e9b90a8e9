//! Routing (ACD) engine: one skill-based engine for every channel (voice, callback, chat,
//! e-mail, SMS, voicemail, follow-up).
//!
//! Owns: waiting tasks, agents' routing state (skills, capacity, presence, wrap-up), queue
//! configuration and statistics, relationship history for the sticky agent, SLA clocks.
//! Must not touch: clocks, sockets, tokio, SIP, SQL. It speaks only ids (`TaskId`, `AgentId`,
//! `QueueId`, ...). Wall-clock (business calendars) is passed in as `SystemTime`.
//! Driven by: the actor shell `routing::driver` (the one part here that uses tokio and the
//! store) that feeds `Engine::handle_*` with `now`, drains `Engine::poll_decision` after every
//! call, and sleeps until `Engine::poll_timeout`. See `LIFECYCLE.md` for the offer cycle.
//! Sans-IO parts besides the engine: `callback` (retry scheduling), `features` (feature
//! codes), `setup` (names and per-queue shell policies).

pub mod agent;
pub mod calendar;
pub mod callback;
pub mod driver;
pub mod engine;
pub mod features;
pub mod ids;
pub mod queue;
pub mod setup;
pub mod task;

mod decision;
mod index;

pub use agent::{AgentProfile, AgentStatus, CapacityModel, Presence, StateCause};
pub use calendar::{Calendar, CalendarError, Weekday};
pub use callback::{AttemptOutcome, CallbackPolicy, CallbackScheduler, Verdict};
pub use decision::{Decision, TaskStatus, TimeoutReason};
pub use driver::{
    AcdError, AcdEvent, AcdHandle, AcdHooks, AcdOptions, AcdTask, CancelOutcome, Change,
    ChangeEvents, NewTask, Notices, OfferReady, OfferSink, PrepareOffer, Prepared, QueueStatus,
    SystemClock, TaskNotice, TaskView, WallClock, notice_channel,
};
pub use engine::Engine;
pub use features::{FeatureAction, FeatureCodes};
pub use ids::{AgentId, CustomerId, QueueId, ReasonCode, SkillId, TaskId};
pub use queue::{
    BullseyeStep, Overflow, QueueConfig, QueueStats, Relax, SlaBoost, Sticky, StickyMode,
};
pub use setup::{
    AgentSetup, QueueSetup, RoutingSetup, SkillNames, channel_from_name, channel_name,
};
pub use task::{Channel, SkillRequirement, Task};

use thiserror::Error;

/// Errors from the engine's inputs. Every variant is the caller's fault (a stale or racing
/// command, or bad configuration); the engine state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RoutingError {
    /// No live task with this id.
    #[error("unknown task {0}")]
    UnknownTask(TaskId),
    /// No agent with this id has ever logged in.
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    /// No queue with this id is configured.
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    /// A live task already has this id.
    #[error("task {0} already queued")]
    DuplicateTask(TaskId),
    /// The task is not currently offered to this agent (late answer, or a race).
    #[error("task {task} is not offered to {agent}")]
    NotOffered {
        /// The task.
        task: TaskId,
        /// The agent who claimed the offer.
        agent: AgentId,
    },
    /// The task was not accepted yet, so it cannot be completed.
    #[error("task {0} is not assigned")]
    NotAssigned(TaskId),
    /// The task is already accepted, so it cannot be abandoned.
    #[error("task {0} is already assigned")]
    AlreadyAssigned(TaskId),
    /// A reload would remove a queue that still holds tasks or is an overflow target.
    #[error("queue {0} is still in use")]
    QueueInUse(QueueId),
    /// The agent is logged out.
    #[error("agent {0} is offline")]
    AgentOffline(AgentId),
    /// A calendar could not compute a deadline.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

//! What the engine tells its driver: decisions, timeout reasons and task status.
//!
//! Owns: `Decision` (drained by `Engine::poll_decision`), `TimeoutReason` (from
//! `Engine::timeout_reason`) and `TaskStatus` (from `Engine::task_status`).
//! Must not touch: engine state; these are plain values.
//! Driven by: `routing::engine`.

use std::time::Duration;

use crate::routing::ids::{AgentId, QueueId, ReasonCode, TaskId};

/// An output of the engine, to be carried out by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Offer `task` to `agent` (ring the phone, pop the chat). Answer with
    /// `handle_offer_accepted`, `handle_offer_rejected` or `handle_offer_unanswered`.
    Offer {
        /// The task.
        task: TaskId,
        /// The agent.
        agent: AgentId,
    },
    /// The offer rang for the queue's ring-no-answer time; stop ringing. The task is back at
    /// the head of its queue and an `AgentNotReady` follows.
    OfferTimedOut {
        /// The task.
        task: TaskId,
        /// The agent who did not answer.
        agent: AgentId,
    },
    /// The agent logged out while the offer was pending; stop ringing. The task is requeued.
    OfferWithdrawn {
        /// The task.
        task: TaskId,
        /// The agent who logged out.
        agent: AgentId,
    },
    /// The task waited too long and moved to another queue (play a message, if any).
    Overflowed {
        /// The task.
        task: TaskId,
        /// The queue it left.
        from: QueueId,
        /// The queue it entered.
        to: QueueId,
    },
    /// The task's SLA deadline passed before an agent accepted it.
    SlaBreached {
        /// The task.
        task: TaskId,
    },
    /// The agent's wrap-up time is over; they may receive offers again.
    WrapUpEnded {
        /// The agent.
        agent: AgentId,
    },
    /// The engine put the agent on a break (e.g. `ReasonCode::RING_NO_ANSWER`).
    AgentNotReady {
        /// The agent.
        agent: AgentId,
        /// Why.
        reason: ReasonCode,
    },
    /// The task was cancelled before acceptance (caller hung up, chat closed).
    Abandoned {
        /// The task.
        task: TaskId,
        /// The queue it was in.
        queue: QueueId,
        /// How long it waited since it was first queued.
        waited: Duration,
    },
}

/// Why the engine wants to be woken at `Engine::poll_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TimeoutReason {
    /// An offer's ring-no-answer time ends.
    RingNoAnswer(TaskId),
    /// A task reaches its next bullseye step.
    Bullseye(TaskId),
    /// A task reaches its queue's overflow timeout.
    Overflow(TaskId),
    /// A task stops waiting for its sticky agent.
    StickyExpired(TaskId),
    /// A task gets its SLA priority boost.
    SlaBoost(TaskId),
    /// A task's SLA deadline.
    SlaBreach(TaskId),
    /// An agent's wrap-up ends.
    WrapUpEnd(AgentId),
}

/// Where a live task is in the offer cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Waiting in `queue`; `reserved_for` is set while it waits for its sticky agent.
    Waiting {
        /// The current queue.
        queue: QueueId,
        /// The sticky agent it is reserved for, if any.
        reserved_for: Option<AgentId>,
    },
    /// Offered to `agent`, ringing.
    Offered {
        /// The agent.
        agent: AgentId,
    },
    /// Accepted by `agent`, in progress.
    Assigned {
        /// The agent.
        agent: AgentId,
    },
}

//! The task: one model for every contact the engine routes.
//!
//! Owns: `Task` (what the caller hands to `Engine::handle_task_queued`), `Channel` and
//! `SkillRequirement`.
//! Must not touch: queue state; the engine keeps its own per-task bookkeeping.
//! Driven by: the shells that turn contacts into tasks (`calls`, `channels`).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::routing::ids::{AgentId, CustomerId, QueueId, SkillId, TaskId};

/// The medium of a task. Each channel has its own capacity on an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// A live inbound or outbound call.
    Voice,
    /// A call back to a customer (a planned voice call).
    Callback,
    /// A web chat conversation.
    Chat,
    /// An e-mail to answer.
    Email,
    /// An SMS or messaging thread.
    Sms,
    /// A voicemail to listen to and act on.
    Voicemail,
    /// A planned follow-up.
    FollowUp,
}

impl Channel {
    /// Number of channels; arrays indexed by `Channel::index` have this length.
    pub const COUNT: usize = 7;

    /// Every channel, in index order.
    pub const ALL: [Channel; Channel::COUNT] = [
        Channel::Voice,
        Channel::Callback,
        Channel::Chat,
        Channel::Email,
        Channel::Sms,
        Channel::Voicemail,
        Channel::FollowUp,
    ];

    /// Position of this channel in per-channel arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A skill a task needs, at a minimum level (levels run 1..=255; higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkillRequirement {
    /// The skill.
    pub skill: SkillId,
    /// The lowest level that qualifies.
    pub min_level: u8,
}

/// One contact to route, as the caller describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Caller-chosen id; must be unique among live tasks.
    pub id: TaskId,
    /// The medium, which decides which capacity the task uses.
    pub channel: Channel,
    /// The customer, when known; enables the sticky agent from the engine's own history.
    pub customer: Option<CustomerId>,
    /// The customer's own agent as the caller knows it (e.g. from the store's timeline, which
    /// survives restarts); overrides the engine's in-memory history when set.
    pub preferred_agent: Option<AgentId>,
    /// The queue it enters.
    pub queue: QueueId,
    /// Skills needed on top of the queue's own skills (the higher minimum wins).
    pub skills: Vec<SkillRequirement>,
    /// Larger is more urgent. Aging adds to it while the task waits.
    pub priority: u32,
    /// When the SLA is breached, computed by the caller on the queue's business calendar
    /// (see `Engine::sla_deadline`); `None` when the contact has no SLA.
    pub sla_deadline: Option<Instant>,
    /// Free-form attributes (CTI data); the engine carries them but does not route on them.
    pub attributes: BTreeMap<String, String>,
}

impl Task {
    /// A task with no customer, no extra skills, priority 0, no SLA and no attributes.
    pub fn new(id: TaskId, channel: Channel, queue: QueueId) -> Task {
        Task {
            id,
            channel,
            customer: None,
            preferred_agent: None,
            queue,
            skills: Vec::new(),
            priority: 0,
            sla_deadline: None,
            attributes: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_indices_match_all() {
        for (i, c) in Channel::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }
}

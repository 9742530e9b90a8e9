//! Agents as the engine sees them: skills, per-channel proficiency, capacity and presence.
//!
//! Owns: `AgentProfile` (given at login), `CapacityModel`, `Presence` (what the agent sets)
//! `AgentStatus` (what the engine reports, including busy and wrap-up) and `StateCause` (why
//! it changed).
//! Must not touch: queue state, timers; the engine keeps the live per-agent record.
//! Driven by: `Engine::handle_agent_logged_in` and `Engine::handle_agent_state`.

use crate::routing::ids::{AgentId, ReasonCode, SkillId};
use crate::routing::task::Channel;

/// What an agent is allowed to hold at once, per channel.
///
/// An agent can take a task on channel `c` when its load on `c` is below `limit[c]`, no
/// exclusive channel has load, and, if `c` itself is exclusive, the agent holds nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityModel {
    /// Maximum simultaneous tasks per channel (indexed by `Channel::index`); 0 disables it.
    pub limit: [u8; Channel::COUNT],
    /// Channels whose task excludes every other task (a call excludes chats and e-mails).
    pub exclusive: [bool; Channel::COUNT],
}

impl CapacityModel {
    /// The usual contact-centre model: one exclusive call or callback; or up to three chats,
    /// two e-mails, two SMS threads, one voicemail and one follow-up together.
    pub fn contact_centre() -> CapacityModel {
        let mut limit = [0; Channel::COUNT];
        let mut exclusive = [false; Channel::COUNT];
        for (c, n) in [
            (Channel::Voice, 1),
            (Channel::Callback, 1),
            (Channel::Chat, 3),
            (Channel::Email, 2),
            (Channel::Sms, 2),
            (Channel::Voicemail, 1),
            (Channel::FollowUp, 1),
        ] {
            limit[c.index()] = n;
        }
        exclusive[Channel::Voice.index()] = true;
        exclusive[Channel::Callback.index()] = true;
        CapacityModel { limit, exclusive }
    }

    /// Only `channel`, `limit` at a time, exclusive of everything else when `exclusive`.
    pub fn single(channel: Channel, limit: u8, exclusive: bool) -> CapacityModel {
        let mut model = CapacityModel {
            limit: [0; Channel::COUNT],
            exclusive: [false; Channel::COUNT],
        };
        model.limit[channel.index()] = limit;
        model.exclusive[channel.index()] = exclusive;
        model
    }

    /// Whether an agent holding `load` (tasks per channel) may take one more on `channel`.
    pub fn has_room(&self, load: &[u8; Channel::COUNT], channel: Channel) -> bool {
        let c = channel.index();
        if load[c] >= self.limit[c] {
            return false;
        }
        let total: u32 = load.iter().map(|&n| u32::from(n)).sum();
        if self.exclusive[c] && total > 0 {
            return false;
        }
        !(0..Channel::COUNT).any(|i| self.exclusive[i] && load[i] > 0)
    }
}

/// An agent's routing profile, given at login and replaced at the next login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProfile {
    /// The agent.
    pub id: AgentId,
    /// Skills held, with levels (1..=255, higher is better). Duplicates keep the highest.
    pub skills: Vec<(SkillId, u8)>,
    /// How good the agent is per channel (any scale, higher is better; 0 is the default).
    pub proficiency: [u8; Channel::COUNT],
    /// What the agent may hold at once.
    pub capacity: CapacityModel,
}

impl AgentProfile {
    /// A profile with the given skills, equal proficiency and the contact-centre capacity.
    pub fn new(id: AgentId, skills: Vec<(SkillId, u8)>) -> AgentProfile {
        AgentProfile {
            id,
            skills,
            proficiency: [0; Channel::COUNT],
            capacity: CapacityModel::contact_centre(),
        }
    }
}

/// The state an agent (or a supervisor) sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Ready for offers.
    Available,
    /// Not ready, with a reason (lunch, training, ring-no-answer, ...).
    Break(ReasonCode),
}

/// What the engine reports about an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    /// Logged out (or never logged in).
    Offline,
    /// Ready and holding nothing.
    Available,
    /// Ready and holding at least one offered or accepted task.
    Busy,
    /// After a task, for the queue's wrap-up time; no offers meanwhile.
    WrapUp,
    /// Not ready, with a reason.
    Break(ReasonCode),
}

/// Why an agent's status changed: the `cause` of `agent.state_changed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateCause {
    /// The agent's phone registered (its first binding) or its last registration ended.
    Registration,
    /// The API: the agent desktop, a supervisor or an integration.
    Api,
    /// A feature code dialled on the agent's phone (`*21` log in, `*22` break, ...).
    FeatureCode,
    /// Work began or ended: a task offered or accepted, a call on the agent's phone.
    Busy,
    /// Wrap-up began or ended.
    WrapUp,
    /// An offer rang unanswered, and the agent was put on a not-ready break.
    RingNoAnswer,
    /// The state stored before a restart was restored.
    Restart,
}

impl StateCause {
    /// The wire name (events and the API).
    pub fn as_str(self) -> &'static str {
        match self {
            StateCause::Registration => "registration",
            StateCause::Api => "api",
            StateCause::FeatureCode => "feature_code",
            StateCause::Busy => "busy",
            StateCause::WrapUp => "wrap_up",
            StateCause::RingNoAnswer => "ring_no_answer",
            StateCause::Restart => "restart",
        }
    }

    /// The cause of a change from `old` to `new` that no command asked for: work starting
    /// or ending, wrap-up starting or ending, or a ring-no-answer break.
    pub fn of_transition(old: AgentStatus, new: AgentStatus) -> StateCause {
        match (old, new) {
            (_, AgentStatus::Break(ReasonCode::RING_NO_ANSWER)) => StateCause::RingNoAnswer,
            (_, AgentStatus::WrapUp) | (AgentStatus::WrapUp, _) => StateCause::WrapUp,
            _ => StateCause::Busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_excludes_everything_else() {
        let cap = CapacityModel::contact_centre();
        let mut load = [0; Channel::COUNT];
        assert!(cap.has_room(&load, Channel::Voice));
        load[Channel::Voice.index()] = 1;
        for c in Channel::ALL {
            assert!(!cap.has_room(&load, c), "{c:?} allowed during a call");
        }
    }

    #[test]
    fn chats_and_emails_mix_up_to_limits() {
        let cap = CapacityModel::contact_centre();
        let mut load = [0; Channel::COUNT];
        load[Channel::Chat.index()] = 2;
        load[Channel::Email.index()] = 1;
        assert!(cap.has_room(&load, Channel::Chat));
        assert!(cap.has_room(&load, Channel::Email));
        assert!(!cap.has_room(&load, Channel::Voice));
        load[Channel::Chat.index()] = 3;
        assert!(!cap.has_room(&load, Channel::Chat));
    }

    #[test]
    fn zero_limit_disables_channel() {
        let cap = CapacityModel::single(Channel::Chat, 2, false);
        assert!(!cap.has_room(&[0; Channel::COUNT], Channel::Voice));
        assert!(cap.has_room(&[0; Channel::COUNT], Channel::Chat));
    }

    #[test]
    fn unasked_changes_name_their_cause() {
        use AgentStatus::*;
        let rna = Break(ReasonCode::RING_NO_ANSWER);
        assert_eq!(
            StateCause::of_transition(Busy, rna),
            StateCause::RingNoAnswer
        );
        assert_eq!(StateCause::of_transition(Busy, WrapUp), StateCause::WrapUp);
        assert_eq!(
            StateCause::of_transition(WrapUp, Available),
            StateCause::WrapUp
        );
        assert_eq!(StateCause::of_transition(Available, Busy), StateCause::Busy);
        assert_eq!(StateCause::of_transition(Busy, Available), StateCause::Busy);
    }
}

//! What the routing shell is started with: queues by name with their shell-side policies,
//! agents by extension number, and the skill names behind `SkillId`s.
//!
//! Owns: `RoutingSetup`, `QueueSetup`, `AgentSetup`, `SkillNames`, and the name/id lookups
//! the driver needs to turn stored names into engine ids and back.
//! Must not touch: the engine's state, the config file (the `config` module builds this from
//! `[[queues]]` and `[[extensions]]`), I/O.
//! Driven by: `routing::driver` (start-up) and `config::routing` (conversion).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::routing::agent::AgentProfile;
use crate::routing::callback::CallbackPolicy;
use crate::routing::ids::{AgentId, QueueId, SkillId};
use crate::routing::queue::QueueConfig;
use crate::routing::task::Channel;

/// Skill names and their engine ids (ids are positions in the sorted name list, from 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillNames {
    by_name: BTreeMap<String, SkillId>,
}

impl SkillNames {
    /// Ids for `names` (duplicates collapse), assigned in sorted order from 1.
    pub fn new<I, S>(names: I) -> SkillNames
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut sorted: Vec<String> = names.into_iter().map(Into::into).collect();
        sorted.sort();
        sorted.dedup();
        let by_name = sorted
            .into_iter()
            .zip(1u32..)
            .map(|(name, i)| (name, SkillId(i)))
            .collect();
        SkillNames { by_name }
    }

    /// The id of a skill name.
    pub fn id(&self, name: &str) -> Option<SkillId> {
        self.by_name.get(name).copied()
    }

    /// The name of a skill id.
    pub fn name(&self, id: SkillId) -> Option<&str> {
        self.by_name
            .iter()
            .find(|(_, v)| **v == id)
            .map(|(k, _)| k.as_str())
    }
}

/// One queue: the engine's configuration plus what only the shell uses.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSetup {
    /// The queue's name (stored in tasks and the queue log; stable across restarts).
    pub name: String,
    /// The engine's configuration (its `id` is the engine id of this queue).
    pub config: QueueConfig,
    /// SLA target in business time per channel (indexed by `Channel::index`).
    pub sla: [Option<Duration>; Channel::COUNT],
    /// Callback rules of this queue.
    pub callback: CallbackPolicy,
    /// How often a waiting caller hears their position (`None`: never).
    pub announce_every: Option<Duration>,
    /// The key a waiting caller presses to keep their place and be called back (`None`: not
    /// offered), unless the dialplan's `queue` step names its own.
    pub keep_place_key: Option<char>,
    /// The headline service-level formula of this queue's reports.
    pub service_level_variant: crate::reports::SlVariant,
}

impl QueueSetup {
    /// A queue with the core defaults, no SLA, the default callback policy and no announcements.
    pub fn new(id: QueueId, name: &str) -> QueueSetup {
        QueueSetup {
            name: name.to_string(),
            config: QueueConfig::new(id),
            sla: [None; Channel::COUNT],
            callback: CallbackPolicy::default(),
            announce_every: None,
            keep_place_key: None,
            service_level_variant: crate::reports::SlVariant::default(),
        }
    }

    /// The SLA deadline, as wall-clock time, of a task of `channel` arriving at `arrived`
    /// (business time on the queue's calendar). `None` without a target or an open calendar.
    pub fn deadline(&self, channel: Channel, arrived: SystemTime) -> Option<SystemTime> {
        let target = self.sla[channel.index()]?;
        self.config.calendar.deadline(arrived, target).ok()
    }

    /// Whether the queue's calendar is open at `at` (for "missed call outside hours").
    pub fn is_open(&self, at: SystemTime) -> bool {
        let end = at + Duration::from_secs(1);
        self.config
            .calendar
            .business_time_between(at, end)
            .is_ok_and(|d| !d.is_zero())
    }
}

/// One agent: the extension number people and the store know, and the engine profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSetup {
    /// The extension number (used in the queue log and by feature codes).
    pub number: String,
    /// The routing profile used at login (its `id` is the engine id of this agent).
    pub profile: AgentProfile,
}

/// Everything the routing shell needs from the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutingSetup {
    /// Queues, ids from 1 in configuration order.
    pub queues: Vec<QueueSetup>,
    /// Agents, ids from 1 in configuration order.
    pub agents: Vec<AgentSetup>,
    /// Skill names.
    pub skills: SkillNames,
}

impl RoutingSetup {
    /// The queue with this name.
    pub fn queue(&self, name: &str) -> Option<&QueueSetup> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The queue with this engine id.
    pub fn queue_by_id(&self, id: QueueId) -> Option<&QueueSetup> {
        self.queues.iter().find(|q| q.config.id == id)
    }

    /// The agent with this extension number.
    pub fn agent(&self, number: &str) -> Option<&AgentSetup> {
        self.agents.iter().find(|a| a.number == number)
    }

    /// The agent with this engine id.
    pub fn agent_by_id(&self, id: AgentId) -> Option<&AgentSetup> {
        self.agents.iter().find(|a| a.profile.id == id)
    }
}

/// A channel's name in configuration, the store and the queue log.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Voice => "voice",
        Channel::Callback => "callback",
        Channel::Chat => "chat",
        Channel::Email => "email",
        Channel::Sms => "sms",
        Channel::Voicemail => "voicemail",
        Channel::FollowUp => "follow_up",
    }
}

/// The channel with this name (`channel_name`'s inverse).
pub fn channel_from_name(name: &str) -> Option<Channel> {
    Channel::ALL.into_iter().find(|&c| channel_name(c) == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::calendar::Calendar;

    #[test]
    fn skill_ids_follow_sorted_names() {
        let skills = SkillNames::new(["support", "sales", "support"]);
        assert_eq!(skills.id("sales"), Some(SkillId(1)));
        assert_eq!(skills.id("support"), Some(SkillId(2)));
        assert_eq!(skills.name(SkillId(2)), Some("support"));
        assert_eq!(skills.id("x"), None);
    }

    #[test]
    fn channel_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(channel_from_name(channel_name(c)), Some(c));
        }
    }

    #[test]
    fn deadline_and_opening_follow_the_calendar() {
        let mut q = QueueSetup::new(QueueId(1), "sales");
        q.config.calendar = Calendar::closed(0)
            .with_weekday_hours((9, 0), (17, 0))
            .unwrap();
        q.sla[Channel::Callback.index()] = Some(Duration::from_secs(3600));
        // 2024-01-01 was a Monday; 16:30 UTC.
        let monday = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200 + 16 * 3600 + 1800);
        assert!(q.is_open(monday));
        assert!(!q.is_open(monday + Duration::from_secs(3600)));
        let due = q.deadline(Channel::Callback, monday).unwrap();
        // 30 minutes on Monday, 30 on Tuesday from 09:00.
        let tuesday_0930 =
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200 + 86_400 + 9 * 3600 + 1800);
        assert_eq!(due, tuesday_0930);
        assert_eq!(q.deadline(Channel::Voice, monday), None);
    }
}

//! The engine's private bookkeeping: per-task and per-agent records, and the indices that keep
//! a routing decision from scanning every task or every agent.
//!
//! Owns: `TaskRecord`, `AgentRecord`, `Rank`, `WaitingIndex` (waiting tasks per channel, queue
//! and effective requirements, each bucket ordered by rank; tasks reserved for a sticky agent)
//! and `FreeAgents` (agents with room for a channel, by channel and by skill).
//! Must not touch: decisions and timers; `routing::engine` keeps those consistent with these
//! indices.
//! Driven by: `routing::engine` only.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::routing::agent::{AgentProfile, Presence};
use crate::routing::ids::{AgentId, QueueId, SkillId, TaskId};
use crate::routing::task::{Channel, SkillRequirement, Task};

/// Order of a waiting task inside one bucket (smaller is better). Within one queue the aged
/// priority `priority + wait / aging` orders tasks the same way at every instant as
/// `priority * aging - arrival`, so the key is fixed while the task waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rank {
    /// 0 for tasks returned to the head of the queue (ring-no-answer, reject), else 1.
    pub tier: u8,
    /// Negated static score (see above).
    pub neg_score: i64,
    /// Milliseconds since the engine's epoch when the task was first queued.
    pub arrival_ms: u64,
    /// Final tie-break.
    pub id: TaskId,
    /// Current priority (base plus boost); the id above already makes ranks unique.
    pub priority: u32,
}

impl Rank {
    pub fn new(
        tier: u8,
        priority: u32,
        arrival_ms: u64,
        aging_ms: Option<u64>,
        id: TaskId,
    ) -> Rank {
        let score = match aging_ms {
            Some(aging) => i64::from(priority)
                .saturating_mul(aging as i64)
                .saturating_sub(arrival_ms as i64),
            None => i64::from(priority),
        };
        Rank {
            tier,
            neg_score: -score,
            arrival_ms,
            id,
            priority,
        }
    }

    /// Key comparable across queues with different aging, at `now_ms` (smaller is better).
    pub fn global_key(
        &self,
        now_ms: u64,
        aging_ms: Option<u64>,
    ) -> (u8, Reverse<u128>, u64, TaskId) {
        let mut effective = u128::from(self.priority) * 1_000_000;
        if let Some(aging) = aging_ms {
            let wait = u128::from(now_ms.saturating_sub(self.arrival_ms));
            effective += wait * 1_000_000 / u128::from(aging.max(1));
        }
        (self.tier, Reverse(effective), self.arrival_ms, self.id)
    }
}

/// Timers currently armed for a task (so they can be disarmed).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TaskTimers {
    pub ring_no_answer: Option<Instant>,
    pub bullseye: Option<Instant>,
    pub overflow: Option<Instant>,
    pub sticky: Option<Instant>,
    pub sla_boost: Option<Instant>,
    pub sla_breach: Option<Instant>,
}

/// Where a live task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    /// In a bucket of `WaitingIndex`.
    Waiting,
    /// Reserved for its sticky agent in `WaitingIndex::sticky`.
    Reserved(AgentId),
    Offered(AgentId),
    Assigned(AgentId),
    /// In no index, about to be placed (only between two engine steps).
    Detached,
}

/// Everything the engine knows about one live task.
#[derive(Debug, Clone)]
pub(crate) struct TaskRecord {
    pub task: Task,
    pub state: TaskState,
    /// Base priority plus SLA boost.
    pub priority: u32,
    /// First queued (customer's wait, abandon and service-level statistics).
    pub queued_at: Instant,
    pub arrival_ms: u64,
    /// Entered the current queue (bullseye and overflow clocks).
    pub entered_at: Instant,
    /// Bullseye steps applied in the current queue.
    pub stage: usize,
    /// Requirements after merging with the queue and applying bullseye steps.
    pub reqs: Box<[SkillRequirement]>,
    /// Returned to the head of the queue.
    pub head: bool,
    pub timers: TaskTimers,
}

impl TaskRecord {
    pub fn rank(&self, aging_ms: Option<u64>) -> Rank {
        let tier = if self.head { 0 } else { 1 };
        Rank::new(tier, self.priority, self.arrival_ms, aging_ms, self.task.id)
    }

    pub fn waited(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.queued_at)
    }
}

/// Everything the engine knows about one agent.
#[derive(Debug, Clone)]
pub(crate) struct AgentRecord {
    /// Skills sorted by id, one entry per skill.
    pub profile: AgentProfile,
    pub online: bool,
    pub presence: Presence,
    pub wrap_up_until: Option<Instant>,
    /// Offered or accepted tasks per channel.
    pub load: [u8; Channel::COUNT],
    /// Offered or accepted tasks.
    pub holding: BTreeSet<TaskId>,
    /// Since when the agent has been ready with nothing to do (longest-idle tie-break).
    pub idle_since: Instant,
    /// Channels for which the agent is currently in `FreeAgents`.
    pub indexed: [bool; Channel::COUNT],
    /// The `idle_since` used in the agent's current `FreeAgents` keys.
    pub indexed_idle: Instant,
    /// Calls the agent's phone is on outside routing (direct, placed, originated); each
    /// also counts as voice load (`Engine::handle_agent_on_call`).
    pub outside_calls: u8,
}

impl AgentRecord {
    pub fn new(mut profile: AgentProfile, now: Instant) -> AgentRecord {
        normalise_skills(&mut profile.skills);
        AgentRecord {
            profile,
            online: true,
            presence: Presence::Available,
            wrap_up_until: None,
            load: [0; Channel::COUNT],
            holding: BTreeSet::new(),
            idle_since: now,
            indexed: [false; Channel::COUNT],
            indexed_idle: now,
            outside_calls: 0,
        }
    }

    pub fn ready(&self) -> bool {
        self.online && self.presence == Presence::Available && self.wrap_up_until.is_none()
    }

    /// Ready and with room for one more task on `channel`.
    pub fn routable(&self, channel: Channel) -> bool {
        self.ready() && self.profile.capacity.has_room(&self.load, channel)
    }

    /// Sum of the agent's levels over `reqs`, or `None` if a requirement is not met.
    pub fn skill_match(&self, reqs: &[SkillRequirement]) -> Option<u32> {
        let skills = &self.profile.skills;
        reqs.iter().try_fold(0u32, |sum, r| {
            let i = skills.binary_search_by_key(&r.skill, |&(s, _)| s).ok()?;
            let level = skills[i].1;
            (level >= r.min_level).then_some(sum + u32::from(level))
        })
    }
}

/// Sorts skills by id and keeps the highest level of duplicates.
pub(crate) fn normalise_skills(skills: &mut Vec<(SkillId, u8)>) {
    skills.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    skills.dedup_by_key(|s| s.0);
}

/// One bucket: waiting tasks of one channel, queue and requirement set, best first.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub aging_ms: Option<u64>,
    pub ranks: BTreeSet<Rank>,
}

type BucketKey = (QueueId, Box<[SkillRequirement]>);

/// Waiting tasks, indexed for "best task this agent can take".
#[derive(Debug, Default)]
pub(crate) struct WaitingIndex {
    /// Per channel: buckets by queue and effective requirements.
    pub buckets: [BTreeMap<BucketKey, Bucket>; Channel::COUNT],
    /// Tasks reserved for a sticky agent.
    pub sticky: BTreeMap<AgentId, BTreeSet<TaskId>>,
}

impl WaitingIndex {
    pub fn insert(&mut self, rec: &TaskRecord, aging_ms: Option<u64>) {
        let key = (rec.task.queue, rec.reqs.clone());
        let bucket = self.buckets[rec.task.channel.index()]
            .entry(key)
            .or_default();
        bucket.aging_ms = aging_ms;
        bucket.ranks.insert(rec.rank(aging_ms));
    }

    pub fn remove(&mut self, rec: &TaskRecord, aging_ms: Option<u64>) {
        let map = &mut self.buckets[rec.task.channel.index()];
        let key = (rec.task.queue, rec.reqs.clone());
        if let Some(bucket) = map.get_mut(&key) {
            bucket.ranks.remove(&rec.rank(aging_ms));
            if bucket.ranks.is_empty() {
                map.remove(&key);
            }
        }
    }

    pub fn reserve(&mut self, agent: AgentId, task: TaskId) {
        self.sticky.entry(agent).or_default().insert(task);
    }

    pub fn unreserve(&mut self, agent: AgentId, task: TaskId) {
        if let Some(set) = self.sticky.get_mut(&agent) {
            set.remove(&task);
            if set.is_empty() {
                self.sticky.remove(&agent);
            }
        }
    }
}

/// Order of free agents for one channel and skill, best first: proficiency on the channel,
/// level in the skill, longest idle, id. For a task needing at most one skill, the first
/// eligible agent in this order is the engine's choice.
pub(crate) type FreeKey = (Reverse<u8>, Reverse<u8>, Instant, AgentId);

/// Agents with room for a channel, by channel and by (channel, skill), best first.
#[derive(Debug, Default)]
pub(crate) struct FreeAgents {
    /// Per channel, ordered with level 0.
    pub any: [BTreeSet<FreeKey>; Channel::COUNT],
    pub by_skill: BTreeMap<(Channel, SkillId), BTreeSet<FreeKey>>,
    /// Agents whose record was updated since the engine last looked (every change of an
    /// agent's presence, load or wrap-up passes through `update`), so that the engine can
    /// report status changes without comparing every agent. A set: bounded by the agents
    /// however long nobody looks (the simulator never does).
    pub touched: BTreeSet<AgentId>,
}

impl FreeAgents {
    /// Brings the agent's index entries in line with its record.
    pub fn update(&mut self, rec: &mut AgentRecord) {
        self.touched.insert(rec.profile.id);
        if rec.indexed_idle != rec.idle_since {
            for channel in Channel::ALL {
                if rec.indexed[channel.index()] {
                    self.set(rec, channel, false);
                }
            }
            rec.indexed_idle = rec.idle_since;
        }
        for channel in Channel::ALL {
            let want = rec.routable(channel);
            if want != rec.indexed[channel.index()] {
                self.set(rec, channel, want);
            }
        }
    }

    /// Removes every entry of the agent (before its profile changes).
    pub fn clear(&mut self, rec: &mut AgentRecord) {
        let online = rec.online;
        rec.online = false;
        self.update(rec);
        rec.online = online;
    }

    fn set(&mut self, rec: &mut AgentRecord, channel: Channel, on: bool) {
        let c = channel.index();
        let (id, idle) = (rec.profile.id, rec.indexed_idle);
        let proficiency = Reverse(rec.profile.proficiency[c]);
        for &(skill, level) in &rec.profile.skills {
            let key = (proficiency, Reverse(level), idle, id);
            let set = self.by_skill.entry((channel, skill)).or_default();
            if on {
                set.insert(key);
            } else {
                set.remove(&key);
            }
        }
        let key = (proficiency, Reverse(0), idle, id);
        if on {
            self.any[c].insert(key);
        } else {
            self.any[c].remove(&key);
        }
        rec.indexed[c] = on;
    }

    /// The candidate set for a task with `reqs` on `channel`: all free agents when there is
    /// no requirement, else the smallest per-skill set (`None`: nobody has a required skill).
    pub fn candidates(
        &self,
        channel: Channel,
        reqs: &[SkillRequirement],
    ) -> Option<&BTreeSet<FreeKey>> {
        if reqs.is_empty() {
            return Some(&self.any[channel.index()]);
        }
        let mut best: Option<&BTreeSet<FreeKey>> = None;
        for r in reqs {
            let set = self.by_skill.get(&(channel, r.skill))?;
            if best.is_none_or(|b| set.len() < b.len()) {
                best = Some(set);
            }
        }
        best
    }
}

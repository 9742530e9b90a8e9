//! `[[queues]]` and `[features]`: the routing configuration, its demo defaults, validation,
//! and the conversion to what the routing shell runs with (`routing::RoutingSetup`).
//!
//! Skill names (from queues, bullseye steps and extensions) get ids in sorted order; queues
//! and agents (extensions with role `agent` or any skill) get ids from 1 in file order. Stored
//! tasks and the queue log use names, so these ids may change between runs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;

use super::caller_id::{CallerId, CallerNumber, DisplayName};
use super::sections::{Extension, Role};
use crate::routing::{
    AgentId, AgentProfile, AgentSetup, BullseyeStep, CallbackPolicy, Overflow, QueueId, QueueSetup,
    Relax, RoutingSetup, SkillNames, SkillRequirement, SlaBoost, Sticky, StickyMode,
    channel_from_name,
};

/// `[[queues]]`: one routing queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSection {
    /// Name used by dialplans (`queue: sales`), the API, stored tasks and reports.
    pub name: String,
    /// Skills every task needs, with minimum levels (1-255).
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// Answered within this counts as within service level.
    #[serde(default = "secs_20")]
    pub service_level_secs: u64,
    /// How long an offer rings before the agent is made not-ready.
    #[serde(default = "secs_20")]
    pub ring_no_answer_secs: u64,
    /// After-task work time (0: none).
    #[serde(default)]
    pub wrap_up_secs: u64,
    /// Move waiting tasks to another queue after a while.
    #[serde(default)]
    pub overflow: Option<OverflowSection>,
    /// Requirement relaxations as a task waits.
    #[serde(default)]
    pub bullseye: Vec<BullseyeSection>,
    /// Wait this long for the customer's previous agent (0: no sticky agent).
    #[serde(default)]
    pub sticky_wait_secs: u64,
    /// `recent` (the last agent) or `often` (the most frequent).
    #[serde(default = "recent")]
    pub sticky_mode: String,
    /// Waiting time that earns one priority point (0: strict priority).
    #[serde(default)]
    pub aging_secs: u64,
    /// Priority boost before the SLA deadline.
    #[serde(default)]
    pub sla_boost: Option<SlaBoostSection>,
    /// Business hours for SLA deadlines (absent: always open).
    #[serde(default)]
    pub calendar: Option<CalendarSection>,
    /// SLA targets in business seconds per channel (`voice`, `callback`, `chat`, `email`,
    /// `sms`, `voicemail`, `follow_up`).
    #[serde(default = "default_sla")]
    pub sla_secs: BTreeMap<String, u64>,
    /// Callback rules.
    #[serde(default)]
    pub callback: CallbackSection,
    /// Position announcements to waiting callers (0: never).
    #[serde(default)]
    pub announce_every_secs: u64,
    /// The headline service-level formula of reports (docs/REPORTS.md): `answered`,
    /// `offered`, `offered_without_short` or `abandoned_after_threshold` (the default).
    #[serde(default)]
    pub service_level_variant: Option<String>,
    /// The number presented to the carrier on this queue's calls out through a trunk
    /// (callbacks, click-to-dial naming the queue), over the trunk's own.
    #[serde(default)]
    pub caller_id: Option<CallerNumber>,
    /// The display name presented with `caller_id`.
    #[serde(default)]
    pub caller_name: Option<DisplayName>,
}

/// `overflow = { to = "...", after_secs = N }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowSection {
    /// Target queue name.
    pub to: String,
    /// Wait before moving.
    pub after_secs: u64,
}

/// One `[[queues.bullseye]]` step: exactly one of `lower_levels`, `drop`, `drop_all`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BullseyeSection {
    /// Time in the queue at which the step applies.
    pub after_secs: u64,
    /// Lower every minimum level by this much.
    #[serde(default)]
    pub lower_levels: Option<u8>,
    /// Stop requiring this skill.
    #[serde(default)]
    pub drop: Option<String>,
    /// Stop requiring any skill.
    #[serde(default)]
    pub drop_all: bool,
}

/// `sla_boost = { before_secs = N, priority = P }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaBoostSection {
    /// How long before the deadline.
    pub before_secs: u64,
    /// Points added.
    pub priority: u32,
}

/// `[queues.callback]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackSection {
    /// A caller who hangs up after waiting longer than this gets a callback (0: never).
    pub abandon_after_secs: u64,
    /// A call while the calendar is closed becomes a callback.
    pub outside_hours: bool,
    /// Between failed attempts.
    pub retry_interval_secs: u64,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// DTMF key a waiting caller presses to keep their place and hang up (empty: none).
    pub keep_place_key: String,
}

impl Default for CallbackSection {
    fn default() -> Self {
        let p = CallbackPolicy::default();
        CallbackSection {
            abandon_after_secs: p.abandon_after.map_or(0, |d| d.as_secs()),
            outside_hours: p.outside_hours,
            retry_interval_secs: p.retry_interval.as_secs(),
            max_attempts: p.max_attempts,
            keep_place_key: "1".into(),
        }
    }
}

fn secs_20() -> u64 {
    20
}

fn recent() -> String {
    "recent".into()
}

/// E-mail within 6 business hours, callbacks within 1 hour.
fn default_sla() -> BTreeMap<String, u64> {
    BTreeMap::from([("callback".into(), 3600), ("email".into(), 6 * 3600)])
}

impl QueueSection {
    /// A queue with every default and these required skills (level 1).
    pub fn named(name: &str, skills: &[&str]) -> QueueSection {
        QueueSection {
            name: name.into(),
            skills: skills.iter().map(|s| (s.to_string(), 1)).collect(),
            service_level_secs: 20,
            ring_no_answer_secs: 20,
            wrap_up_secs: 10,
            overflow: None,
            bullseye: Vec::new(),
            sticky_wait_secs: 0,
            sticky_mode: recent(),
            aging_secs: 0,
            sla_boost: None,
            calendar: None,
            sla_secs: default_sla(),
            callback: CallbackSection::default(),
            announce_every_secs: 60,
            service_level_variant: None,
            caller_id: None,
            caller_name: None,
        }
    }

    /// The queue's caller ID (`caller_id` with `caller_name`); `Err` when a name comes
    /// without a number.
    pub fn caller_id(&self) -> Result<Option<CallerId>, String> {
        let owner = format!("queue {}", self.name);
        CallerId::of(&owner, self.caller_id.as_ref(), self.caller_name.as_ref())
    }
}

/// The demo's queues: sales, support and collections, each needing its own skill.
pub(super) fn demo_queues() -> Vec<QueueSection> {
    ["sales", "support", "collections"]
        .into_iter()
        .map(|name| QueueSection::named(name, &[name]))
        .collect()
}

/// Checks `[features]`, `[[queues]]` and agents' skills together.
pub(super) fn validate(
    features: &FeaturesSection,
    queues: &[QueueSection],
    extensions: &[Extension],
) -> Result<(), String> {
    features.validate()?;
    for queue in queues {
        queue.caller_id()?;
    }
    routing_setup(queues, extensions).map(|_| ())
}

/// The routing shell's setup from `[[queues]]` and `[[extensions]]`.
pub fn routing_setup(
    queues: &[QueueSection],
    extensions: &[Extension],
) -> Result<RoutingSetup, String> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for q in queues {
        names.extend(q.skills.keys().map(String::as_str));
        names.extend(q.bullseye.iter().filter_map(|b| b.drop.as_deref()));
    }
    for ext in extensions {
        names.extend(ext.skills.keys().map(String::as_str));
    }
    let skills = SkillNames::new(names);
    let ids: BTreeMap<&str, QueueId> = queues
        .iter()
        .zip(1u32..)
        .map(|(q, i)| (q.name.as_str(), QueueId(i)))
        .collect();
    if ids.len() != queues.len() {
        return Err("queues: duplicate queue name".into());
    }
    let queues = queues
        .iter()
        .map(|q| queue_setup(q, &ids, &skills).map_err(|e| format!("queue {:?}: {e}", q.name)))
        .collect::<Result<Vec<_>, _>>()?;
    let agents = extensions
        .iter()
        .filter(|e| e.role == Role::Agent || !e.skills.is_empty())
        .zip(1u32..)
        .map(|(e, i)| {
            agent_setup(e, AgentId(i), &skills).map_err(|m| format!("extension {}: {m}", e.number))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RoutingSetup {
        queues,
        agents,
        skills,
    })
}

fn level(name: &str, level: u8) -> Result<u8, String> {
    if level == 0 {
        return Err(format!("skill {name:?}: levels run from 1 to 255"));
    }
    Ok(level)
}

fn queue_setup(
    q: &QueueSection,
    ids: &BTreeMap<&str, QueueId>,
    skills: &SkillNames,
) -> Result<QueueSetup, String> {
    if q.name.is_empty()
        || !q
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("name must be letters, digits, _ or -".into());
    }
    let mut setup = QueueSetup::new(ids[q.name.as_str()], &q.name);
    let c = &mut setup.config;
    for (name, &min) in &q.skills {
        let skill = skills
            .id(name)
            .ok_or_else(|| format!("unknown skill {name:?}"))?;
        c.skills.push(SkillRequirement {
            skill,
            min_level: level(name, min)?,
        });
    }
    if q.ring_no_answer_secs == 0 {
        return Err("ring_no_answer_secs must be positive".into());
    }
    c.service_level_threshold = Duration::from_secs(q.service_level_secs);
    c.ring_no_answer = Duration::from_secs(q.ring_no_answer_secs);
    c.wrap_up = Duration::from_secs(q.wrap_up_secs);
    if let Some(o) = &q.overflow {
        let to = *ids
            .get(o.to.as_str())
            .ok_or_else(|| format!("overflow to unknown queue {:?}", o.to))?;
        if o.to == q.name {
            return Err("overflow to itself".into());
        }
        c.overflow = Some(Overflow {
            after: Duration::from_secs(o.after_secs),
            to,
        });
    }
    for b in &q.bullseye {
        let relax = match (b.lower_levels, &b.drop, b.drop_all) {
            (Some(n), None, false) => Relax::LowerLevels(n),
            (None, Some(name), false) => Relax::Drop(
                skills
                    .id(name)
                    .ok_or_else(|| format!("unknown skill {name:?}"))?,
            ),
            (None, None, true) => Relax::DropAll,
            _ => {
                return Err(
                    "a bullseye step needs exactly one of lower_levels, drop, drop_all".into(),
                );
            }
        };
        c.bullseye.push(BullseyeStep {
            after: Duration::from_secs(b.after_secs),
            relax,
        });
    }
    if q.sticky_wait_secs > 0 {
        let mode = match q.sticky_mode.as_str() {
            "recent" => StickyMode::MostRecent,
            "often" => StickyMode::MostOften,
            other => return Err(format!("sticky_mode {other:?}: use recent or often")),
        };
        c.sticky = Some(Sticky {
            wait: Duration::from_secs(q.sticky_wait_secs),
            mode,
        });
    }
    c.aging = (q.aging_secs > 0).then(|| Duration::from_secs(q.aging_secs));
    c.sla_boost = q.sla_boost.as_ref().map(|b| SlaBoost {
        before: Duration::from_secs(b.before_secs),
        priority: b.priority,
    });
    if let Some(cal) = &q.calendar {
        c.calendar = cal.to_calendar()?;
    }
    for (name, &secs) in &q.sla_secs {
        let channel =
            channel_from_name(name).ok_or_else(|| format!("sla_secs: unknown channel {name:?}"))?;
        setup.sla[channel.index()] = (secs > 0).then(|| Duration::from_secs(secs));
    }
    let cb = &q.callback;
    if cb.max_attempts == 0 || cb.retry_interval_secs == 0 {
        return Err("callback: max_attempts and retry_interval_secs must be positive".into());
    }
    setup.callback = CallbackPolicy {
        abandon_after: (cb.abandon_after_secs > 0)
            .then(|| Duration::from_secs(cb.abandon_after_secs)),
        outside_hours: cb.outside_hours,
        retry_interval: Duration::from_secs(cb.retry_interval_secs),
        max_attempts: cb.max_attempts,
    };
    setup.announce_every =
        (q.announce_every_secs > 0).then(|| Duration::from_secs(q.announce_every_secs));
    if let Some(name) = &q.service_level_variant {
        setup.service_level_variant = crate::reports::SlVariant::parse(name)
            .ok_or_else(|| format!("unknown service_level_variant {name:?}"))?;
    }
    let key = &cb.keep_place_key;
    let dtmf = |c: char| c.is_ascii_digit() || c == '*' || c == '#';
    if key.chars().count() > 1 || !key.chars().all(dtmf) {
        return Err(format!(
            "callback: keep_place_key {key:?} must be one key (0-9, * or #) or empty"
        ));
    }
    setup.keep_place_key = key.chars().next();
    Ok(setup)
}

fn agent_setup(e: &Extension, id: AgentId, skills: &SkillNames) -> Result<AgentSetup, String> {
    let mut held = Vec::new();
    for (name, &lvl) in &e.skills {
        let skill = skills
            .id(name)
            .ok_or_else(|| format!("unknown skill {name:?}"))?;
        held.push((skill, level(name, lvl)?));
    }
    let mut profile = AgentProfile::new(id, held);
    for (name, &p) in &e.proficiency {
        let channel = channel_from_name(name)
            .ok_or_else(|| format!("proficiency: unknown channel {name:?}"))?;
        profile.proficiency[channel.index()] = p;
    }
    Ok(AgentSetup {
        number: e.number.clone(),
        profile,
    })
}

mod calendar;
mod features;

pub use calendar::CalendarSection;
pub use features::FeaturesSection;

#[cfg(test)]
mod tests;

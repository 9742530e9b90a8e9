//! Queue configuration and per-queue statistics.
//!
//! Owns: `QueueConfig` and its parts (`BullseyeStep`, `Relax`, `Overflow`, `Sticky`,
//! `SlaBoost`), `QueueStats`, and `effective_requirements` (bullseye widening).
//! Must not touch: waiting tasks or agents; the engine owns those.
//! Driven by: config loading (`Engine::new`, `Engine::handle_config_reloaded`).

use std::time::Duration;

use crate::routing::calendar::Calendar;
use crate::routing::ids::{QueueId, SkillId};
use crate::routing::task::SkillRequirement;

/// How one queue routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// The queue.
    pub id: QueueId,
    /// Skills every task of this queue needs (merged with the task's own; higher minimum wins).
    pub skills: Vec<SkillRequirement>,
    /// A task answered within this wait counts as "within service level".
    pub service_level_threshold: Duration,
    /// How long an offer may ring before the engine takes it back (ring-no-answer).
    pub ring_no_answer: Duration,
    /// Wrap-up time after a task of this queue completes (zero: none).
    pub wrap_up: Duration,
    /// Where a task goes after waiting too long here.
    pub overflow: Option<Overflow>,
    /// Requirement widening as a task waits, in increasing `after` order (cumulative).
    pub bullseye: Vec<BullseyeStep>,
    /// Relationship continuity (prefer the agent who served the customer before).
    pub sticky: Option<Sticky>,
    /// Waiting time that earns one priority point (`None`: no aging, strict priority).
    pub aging: Option<Duration>,
    /// Priority boost for tasks close to their SLA deadline.
    pub sla_boost: Option<SlaBoost>,
    /// Business hours for SLA deadlines of this queue's tasks.
    pub calendar: Calendar,
    /// SLA target in business time, used by `Engine::sla_deadline` (`None`: no SLA).
    pub sla_target: Option<Duration>,
}

impl QueueConfig {
    /// A queue with no skills, 20 s service level, 20 s ring-no-answer, no wrap-up, no
    /// overflow, no bullseye, no sticky agent, no aging, no SLA, and an always-open calendar.
    pub fn new(id: QueueId) -> QueueConfig {
        QueueConfig {
            id,
            skills: Vec::new(),
            service_level_threshold: Duration::from_secs(20),
            ring_no_answer: Duration::from_secs(20),
            wrap_up: Duration::ZERO,
            overflow: None,
            bullseye: Vec::new(),
            sticky: None,
            aging: None,
            sla_boost: None,
            calendar: Calendar::always_open(),
            sla_target: None,
        }
    }
}

/// Move waiting tasks to another queue after a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Wait in this queue before overflowing.
    pub after: Duration,
    /// The queue that receives the task.
    pub to: QueueId,
}

/// One bullseye ring: after `after` in the queue, requirements are relaxed by `relax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BullseyeStep {
    /// Time in the queue at which this step applies.
    pub after: Duration,
    /// What gets relaxed.
    pub relax: Relax,
}

/// A relaxation of skill requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relax {
    /// Lower every minimum level by this much (never below 1: the skill stays required).
    LowerLevels(u8),
    /// Stop requiring this skill.
    Drop(SkillId),
    /// Stop requiring any skill.
    DropAll,
}

/// Relationship continuity settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sticky {
    /// How long a task waits for the preferred agent before any agent may take it.
    pub wait: Duration,
    /// Which past agent is preferred.
    pub mode: StickyMode,
}

/// Which agent counts as the customer's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StickyMode {
    /// The agent who accepted the customer's most recent task.
    MostRecent,
    /// The agent who accepted most of the customer's tasks (ties: most recent).
    MostOften,
}

/// Priority boost before an SLA deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaBoost {
    /// How long before the deadline the boost applies.
    pub before: Duration,
    /// Priority points added.
    pub priority: u32,
}

/// Counters per queue since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Tasks that entered the queue (including by overflow).
    pub entered: u64,
    /// Offers made.
    pub offered: u64,
    /// Offers accepted.
    pub answered: u64,
    /// Accepted within the service-level threshold.
    pub answered_within_threshold: u64,
    /// Tasks cancelled while waiting or ringing.
    pub abandoned: u64,
    /// Total wait of abandoned tasks.
    pub abandoned_wait: Duration,
    /// Abandoned after waiting longer than the threshold.
    pub abandoned_after_threshold: u64,
    /// Tasks sent to the overflow queue.
    pub overflowed: u64,
    /// SLA deadlines passed before acceptance.
    pub sla_breaches: u64,
}

impl QueueStats {
    /// Share of tasks answered within the threshold, out of those answered or abandoned after
    /// the threshold (the usual contact-centre formula); `None` before any such task.
    pub fn service_level(&self) -> Option<f64> {
        let base = self.answered + self.abandoned_after_threshold;
        (base > 0).then(|| self.answered_within_threshold as f64 / base as f64)
    }
}

/// Merges task and queue requirements, then applies the first `stage` bullseye steps.
/// The result is sorted by skill with one entry per skill.
pub fn effective_requirements(
    task: &[SkillRequirement],
    queue: &QueueConfig,
    stage: usize,
) -> Vec<SkillRequirement> {
    let mut reqs: Vec<SkillRequirement> = task.iter().chain(&queue.skills).copied().collect();
    reqs.sort_unstable_by(|a, b| a.skill.cmp(&b.skill).then(b.min_level.cmp(&a.min_level)));
    reqs.dedup_by_key(|r| r.skill);
    for step in queue.bullseye.iter().take(stage) {
        match step.relax {
            Relax::LowerLevels(n) => {
                for r in &mut reqs {
                    r.min_level = r.min_level.saturating_sub(n).max(1);
                }
            }
            Relax::Drop(skill) => reqs.retain(|r| r.skill != skill),
            Relax::DropAll => reqs.clear(),
        }
    }
    reqs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(skill: u32, min_level: u8) -> SkillRequirement {
        SkillRequirement {
            skill: SkillId(skill),
            min_level,
        }
    }

    #[test]
    fn merge_keeps_highest_minimum_per_skill() {
        let mut q = QueueConfig::new(QueueId(1));
        q.skills = vec![req(2, 3), req(1, 5)];
        let eff = effective_requirements(&[req(2, 7)], &q, 0);
        assert_eq!(eff, vec![req(1, 5), req(2, 7)]);
    }

    #[test]
    fn bullseye_steps_apply_cumulatively() {
        let mut q = QueueConfig::new(QueueId(1));
        q.skills = vec![req(1, 5), req(2, 2)];
        q.bullseye = vec![
            BullseyeStep {
                after: Duration::from_secs(30),
                relax: Relax::LowerLevels(3),
            },
            BullseyeStep {
                after: Duration::from_secs(60),
                relax: Relax::Drop(SkillId(2)),
            },
            BullseyeStep {
                after: Duration::from_secs(90),
                relax: Relax::DropAll,
            },
        ];
        assert_eq!(
            effective_requirements(&[], &q, 1),
            vec![req(1, 2), req(2, 1)]
        );
        assert_eq!(effective_requirements(&[], &q, 2), vec![req(1, 2)]);
        assert!(effective_requirements(&[], &q, 3).is_empty());
    }

    #[test]
    fn service_level_formula() {
        let mut s = QueueStats::default();
        assert_eq!(s.service_level(), None);
        s.answered = 3;
        s.answered_within_threshold = 2;
        s.abandoned_after_threshold = 1;
        assert_eq!(s.service_level(), Some(0.5));
    }
}

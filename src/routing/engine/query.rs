//! Read-only views of the engine: agent and task status, queue statistics and order, and the
//! SLA deadline helper.
//!
//! Part of `Engine`; nothing here mutates state.

use std::time::{Instant, SystemTime};

use super::Engine;
use crate::routing::RoutingError;
use crate::routing::agent::{AgentStatus, Presence};
use crate::routing::decision::TaskStatus;
use crate::routing::ids::{AgentId, QueueId, TaskId};
use crate::routing::index::TaskState;
use crate::routing::queue::QueueStats;

impl Engine {
    /// The SLA deadline of a task queued in `queue` now, from the queue's `sla_target` and
    /// calendar, with `wall_now` read together with `now`. `None` if the queue has no target.
    pub fn sla_deadline(
        &self,
        queue: QueueId,
        now: Instant,
        wall_now: SystemTime,
    ) -> Result<Option<Instant>, RoutingError> {
        let entry = self
            .queues
            .get(&queue)
            .ok_or(RoutingError::UnknownQueue(queue))?;
        let Some(target) = entry.config.sla_target else {
            return Ok(None);
        };
        Ok(Some(
            entry
                .config
                .calendar
                .deadline_instant(now, wall_now, target)?,
        ))
    }

    /// Whether the agent is logged in, and the presence it set (kept while logged out);
    /// `None` for an agent the engine has never seen.
    pub fn agent_presence(&self, agent: AgentId) -> Option<(bool, Presence)> {
        self.agents
            .get(&agent)
            .map(|rec| (rec.online, rec.presence))
    }

    /// What the agent is doing (`Offline` for unknown agents).
    pub fn agent_status(&self, agent: AgentId) -> AgentStatus {
        match self.agents.get(&agent) {
            None => AgentStatus::Offline,
            Some(rec) if !rec.online => AgentStatus::Offline,
            Some(rec) => match rec.presence {
                Presence::Break(reason) => AgentStatus::Break(reason),
                Presence::Available if rec.wrap_up_until.is_some() => AgentStatus::WrapUp,
                Presence::Available if !rec.holding.is_empty() || rec.outside_calls > 0 => {
                    AgentStatus::Busy
                }
                Presence::Available => AgentStatus::Available,
            },
        }
    }

    /// Where a live task is; `None` once completed or abandoned.
    pub fn task_status(&self, task: TaskId) -> Option<TaskStatus> {
        let rec = self.tasks.get(&task)?;
        let queue = rec.task.queue;
        Some(match rec.state {
            TaskState::Waiting | TaskState::Detached => TaskStatus::Waiting {
                queue,
                reserved_for: None,
            },
            TaskState::Reserved(agent) => TaskStatus::Waiting {
                queue,
                reserved_for: Some(agent),
            },
            TaskState::Offered(agent) => TaskStatus::Offered { agent },
            TaskState::Assigned(agent) => TaskStatus::Assigned { agent },
        })
    }

    /// Counters of a queue.
    pub fn queue_stats(&self, queue: QueueId) -> Option<&QueueStats> {
        self.queues.get(&queue).map(|q| &q.stats)
    }

    /// Tasks waiting in `queue` (all channels, reserved ones included), best first.
    pub fn waiting_tasks(&self, queue: QueueId) -> Vec<TaskId> {
        let aging = self.queues.get(&queue).and_then(|q| q.aging_ms);
        let mut ranks: Vec<_> = self
            .waiting
            .buckets
            .iter()
            .flat_map(|map| map.iter().filter(|((q, _), _)| *q == queue))
            .flat_map(|(_, bucket)| bucket.ranks.iter().copied())
            .collect();
        for set in self.waiting.sticky.values() {
            ranks.extend(
                set.iter()
                    .filter_map(|id| self.tasks.get(id))
                    .filter(|t| t.task.queue == queue)
                    .map(|t| t.rank(aging)),
            );
        }
        ranks.sort_unstable();
        ranks.into_iter().map(|r| r.id).collect()
    }

    /// How many tasks of the same queue are ahead of this waiting task (0: next), for "you are
    /// number N in the queue" prompts. `None` unless the task is waiting. Costs one pass over
    /// the queue's waiting tasks; meant for prompts, not for every decision.
    pub fn queue_position(&self, task: TaskId) -> Option<usize> {
        let rec = self.tasks.get(&task)?;
        if !matches!(rec.state, TaskState::Waiting | TaskState::Reserved(_)) {
            return None;
        }
        let queue = rec.task.queue;
        let mine = rec.rank(self.queues.get(&queue).and_then(|q| q.aging_ms));
        let in_buckets: usize = self
            .waiting
            .buckets
            .iter()
            .flat_map(|map| map.iter().filter(|((q, _), _)| *q == queue))
            .map(|(_, bucket)| bucket.ranks.range(..mine).count())
            .sum();
        let aging = self.queues.get(&queue).and_then(|q| q.aging_ms);
        let reserved = self
            .waiting
            .sticky
            .values()
            .flatten()
            .filter_map(|id| self.tasks.get(id))
            .filter(|t| t.task.queue == queue && t.rank(aging) < mine)
            .count();
        Some(in_buckets + reserved)
    }

    /// Agents logged in and not on a break who hold every skill `queue` requires at its
    /// minimum level (busy and wrapping-up agents count: they will be free again). For
    /// estimated-wait prompts; one pass over the agents.
    pub fn staffed(&self, queue: QueueId) -> usize {
        let Some(entry) = self.queues.get(&queue) else {
            return 0;
        };
        let qualifies = |profile: &crate::routing::agent::AgentProfile| {
            entry.config.skills.iter().all(|need| {
                profile
                    .skills
                    .iter()
                    .any(|&(skill, level)| skill == need.skill && level >= need.min_level)
            })
        };
        self.agents
            .values()
            .filter(|a| a.online && a.presence == Presence::Available && qualifies(&a.profile))
            .count()
    }

    /// Number of live tasks (waiting, offered or assigned).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }
}

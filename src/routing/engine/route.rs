//! The engine's internal steps: placing a task, choosing an agent for a task and a task for an
//! agent, offers, timers. Every public `handle_*` in `engine.rs` is a short sequence of these.
//!
//! Invariant kept between public calls: no ready agent with room is eligible for a waiting
//! (unreserved) task, and no ready agent with room has a reservation it could take. So a new
//! or moved task only needs the best free agent, and a freed agent only needs the best task.

use std::cmp::Reverse;
use std::time::Instant;

use tracing::debug;

use super::Engine;
use super::timers::Slot;
use crate::routing::agent::Presence;
use crate::routing::decision::Decision;
use crate::routing::ids::{AgentId, TaskId};
use crate::routing::index::TaskState;
use crate::routing::queue::{StickyMode, effective_requirements};
use crate::routing::task::Channel;

impl Engine {
    /// Starts the clocks of the task's current queue (bullseye, overflow).
    pub(super) fn enter_queue(&mut self, now: Instant, task: TaskId) {
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        rec.entered_at = now;
        let overflow = self
            .queues
            .get(&rec.task.queue)
            .and_then(|q| q.config.overflow);
        self.refresh_stage(now, task);
        match overflow {
            Some(o) => self.arm(task, Slot::Overflow, now + o.after),
            None => self.disarm(task, Slot::Overflow),
        }
    }

    /// Puts a detached task where it belongs: offered to its sticky agent, reserved for them,
    /// or in its bucket (then offered to the best free agent, if any).
    pub(super) fn place(&mut self, now: Instant, task: TaskId) {
        let Some(rec) = self.tasks.get(&task) else {
            return;
        };
        let channel = rec.task.channel;
        if let Some((agent, until)) = self.sticky_agent_for(now, task) {
            if self.agents.get(&agent).is_some_and(|a| a.routable(channel)) {
                self.offer(now, task, agent);
            } else {
                self.waiting.reserve(agent, task);
                if let Some(rec) = self.tasks.get_mut(&task) {
                    rec.state = TaskState::Reserved(agent);
                }
                self.arm(task, Slot::Sticky, until);
            }
            return;
        }
        let aging = self.queues.get(&rec.task.queue).and_then(|q| q.aging_ms);
        self.waiting.insert(rec, aging);
        if let Some(rec) = self.tasks.get_mut(&task) {
            rec.state = TaskState::Waiting;
        }
        self.route_task(now, task);
    }

    /// Re-evaluates a detached task in its queue: overflow if due, else the bullseye stage at
    /// `now`; then places it.
    pub(super) fn requeue(&mut self, now: Instant, task: TaskId) {
        let Some(rec) = self.tasks.get(&task) else {
            return;
        };
        let overflow = self
            .queues
            .get(&rec.task.queue)
            .and_then(|q| q.config.overflow);
        let entered_at = rec.entered_at;
        match overflow {
            Some(o) if now >= entered_at + o.after => self.overflow(now, task),
            Some(o) => {
                self.refresh_stage(now, task);
                self.arm(task, Slot::Overflow, entered_at + o.after);
            }
            None => self.refresh_stage(now, task),
        }
        self.place(now, task);
    }

    /// Takes a task out of whatever index holds it; the caller places it again or drops it.
    pub(super) fn unindex(&mut self, task: TaskId) {
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        match rec.state {
            TaskState::Waiting => {
                let aging = self.queues.get(&rec.task.queue).and_then(|q| q.aging_ms);
                self.waiting.remove(rec, aging);
            }
            TaskState::Reserved(agent) => self.waiting.unreserve(agent, task),
            _ => return,
        }
        rec.state = TaskState::Detached;
        self.disarm(task, Slot::Sticky);
    }

    /// Ends a pending offer without acceptance: frees the agent, requeues the task at the head.
    pub(super) fn end_offer(&mut self, now: Instant, task: TaskId, agent: AgentId) {
        self.disarm(task, Slot::RingNoAnswer);
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        rec.state = TaskState::Detached;
        rec.head = true;
        let channel = rec.task.channel;
        self.release_agent(now, agent, task, channel);
        self.requeue(now, task);
    }

    /// Offers a waiting task to the best free eligible agent, if there is one.
    pub(super) fn route_task(&mut self, now: Instant, task: TaskId) {
        if let Some(agent) = self.best_agent_for(task) {
            self.offer(now, task, agent);
        }
    }

    fn best_agent_for(&self, task: TaskId) -> Option<AgentId> {
        let rec = self
            .tasks
            .get(&task)
            .filter(|t| t.state == TaskState::Waiting)?;
        let channel = rec.task.channel;
        let declined = self.declined.get(&task);
        let candidates = self.free.candidates(channel, &rec.reqs)?;
        let eligible = |id: &AgentId| {
            let agent = self.agents.get(id)?;
            let ok = agent.routable(channel) && !declined.is_some_and(|d| d.contains(id));
            ok.then(|| agent.skill_match(&rec.reqs)).flatten()
        };
        if rec.reqs.len() <= 1 {
            // The set is already in choice order: the first eligible agent is the best.
            return candidates
                .iter()
                .find(|k| eligible(&k.3).is_some())
                .map(|k| k.3);
        }
        // Several requirements: the level sum decides, so rank the smallest set by it.
        candidates
            .iter()
            .filter_map(|&(proficiency, _, idle, id)| {
                eligible(&id).map(|sum| (proficiency, Reverse(sum), idle, id))
            })
            .min()
            .map(|k| k.3)
    }

    /// Offers the best tasks the agent can take until it is full or nothing fits.
    pub(super) fn route_agent(&mut self, now: Instant, agent: AgentId) {
        while let Some(task) = self.best_task_for(now, agent) {
            self.offer(now, task, agent);
        }
    }

    fn best_task_for(&self, now: Instant, agent: AgentId) -> Option<TaskId> {
        let rec = self.agents.get(&agent).filter(|a| a.ready())?;
        let now_ms = self.ms(now);
        let mut best = None;
        for task in self.waiting.sticky.get(&agent).into_iter().flatten() {
            let Some(t) = self.tasks.get(task) else {
                continue;
            };
            if rec.routable(t.task.channel) && rec.skill_match(&t.reqs).is_some() {
                let aging = self.queues.get(&t.task.queue).and_then(|q| q.aging_ms);
                let key = t.rank(aging).global_key(now_ms, aging);
                if best.as_ref().is_none_or(|b| key < *b) {
                    best = Some(key);
                }
            }
        }
        if best.is_some() {
            return best.map(|k| k.3);
        }
        for channel in Channel::ALL {
            if !rec.routable(channel) {
                continue;
            }
            for ((_, reqs), bucket) in &self.waiting.buckets[channel.index()] {
                if rec.skill_match(reqs).is_none() {
                    continue;
                }
                let Some(rank) = bucket.ranks.iter().find(|r| !self.is_declined(r.id, agent))
                else {
                    continue;
                };
                let key = rank.global_key(now_ms, bucket.aging_ms);
                if best.as_ref().is_none_or(|b| key < *b) {
                    best = Some(key);
                }
            }
        }
        best.map(|k| k.3)
    }

    fn is_declined(&self, task: TaskId, agent: AgentId) -> bool {
        !self.declined.is_empty() && self.declined.get(&task).is_some_and(|d| d.contains(&agent))
    }

    fn offer(&mut self, now: Instant, task: TaskId, agent: AgentId) {
        self.unindex(task);
        for slot in [Slot::Bullseye, Slot::Overflow, Slot::Sticky] {
            self.disarm(task, slot);
        }
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        rec.state = TaskState::Offered(agent);
        let (queue, channel) = (rec.task.queue, rec.task.channel);
        if let Some(a) = self.agents.get_mut(&agent) {
            a.load[channel.index()] = a.load[channel.index()].saturating_add(1);
            a.holding.insert(task);
            self.free.update(a);
        }
        let ring = self.queues.get_mut(&queue).map(|q| {
            q.stats.offered += 1;
            q.config.ring_no_answer
        });
        if let Some(ring) = ring {
            self.arm(task, Slot::RingNoAnswer, now + ring);
        }
        debug!(%task, %agent, %queue, "routing offer");
        self.decisions.push_back(Decision::Offer { task, agent });
    }

    /// Moves a detached task to its queue's overflow target.
    pub(super) fn overflow(&mut self, now: Instant, task: TaskId) {
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        let from = rec.task.queue;
        let Some(to) = self
            .queues
            .get(&from)
            .and_then(|q| q.config.overflow)
            .map(|o| o.to)
        else {
            return;
        };
        rec.task.queue = to;
        if let Some(q) = self.queues.get_mut(&from) {
            q.stats.overflowed += 1;
        }
        if let Some(q) = self.queues.get_mut(&to) {
            q.stats.entered += 1;
        }
        debug!(%task, %from, %to, "routing overflow");
        self.decisions
            .push_back(Decision::Overflowed { task, from, to });
        self.enter_queue(now, task);
    }

    /// Sets the bullseye stage and requirements for the time spent in the current queue, and
    /// arms the next step. The task must be detached.
    fn refresh_stage(&mut self, now: Instant, task: TaskId) {
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        let Some(queue) = self.queues.get(&rec.task.queue) else {
            return;
        };
        let steps = &queue.config.bullseye;
        let waited = now.saturating_duration_since(rec.entered_at);
        rec.stage = steps.iter().take_while(|s| s.after <= waited).count();
        rec.reqs = effective_requirements(&rec.task.skills, &queue.config, rec.stage).into();
        match steps.get(rec.stage).map(|s| rec.entered_at + s.after) {
            Some(at) => self.arm(task, Slot::Bullseye, at),
            None => self.disarm(task, Slot::Bullseye),
        }
    }

    /// The agent this task should wait for, and until when.
    fn sticky_agent_for(&self, now: Instant, task: TaskId) -> Option<(AgentId, Instant)> {
        let rec = self.tasks.get(&task)?;
        let sticky = self.queues.get(&rec.task.queue)?.config.sticky?;
        let until = rec.queued_at + sticky.wait;
        if now >= until {
            return None;
        }
        let agent = match rec.task.preferred_agent {
            Some(agent) => agent,
            None => {
                let served = self.history.get(&rec.task.customer?)?;
                let &(agent, _, _) = match sticky.mode {
                    StickyMode::MostRecent => served.iter().max_by_key(|s| s.2)?,
                    StickyMode::MostOften => served.iter().max_by_key(|s| (s.1, s.2))?,
                };
                agent
            }
        };
        let a = self.agents.get(&agent)?;
        let present = a.online && a.presence == Presence::Available;
        let eligible = a.skill_match(&rec.reqs).is_some() && !self.is_declined(task, agent);
        (present && eligible).then_some((agent, until))
    }
}

//! The routing engine: one owner of all queue state, fed events and the time, returning
//! decisions.
//!
//! Owns: waiting tasks and their order, agents' routing state, queue configs and stats,
//! relationship history, the timer table.
//! Must not touch: clocks, I/O, tokio. Same inputs, same decisions: every choice has an
//! explicit tie-break and no `HashMap` is ever iterated to decide anything.
//! Driven by: the routing driver (actor shell). See `LIFECYCLE.md` for the offer cycle.
//!
//! # Run loop
//!
//! Call one `handle_*` method with the current `now`, then drain `poll_decision` until it
//! returns `None` and re-arm one timer at `poll_timeout` (`timeout_reason` says why). When
//! the timer fires call `handle_timeout(now)` and drain again. Drain after every mutation:
//! decisions are in causal order.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use centrala::routing::{
//!     AgentId, AgentProfile, Channel, Decision, Engine, QueueConfig, QueueId, Task, TaskId,
//! };
//!
//! let start = Instant::now(); // the shell reads the clock, never the engine
//! let mut engine = Engine::new(start, vec![QueueConfig::new(QueueId(1))])?;
//! engine.handle_agent_logged_in(start, AgentProfile::new(AgentId(7), vec![]));
//! engine.handle_task_queued(start, Task::new(TaskId(1), Channel::Voice, QueueId(1)))?;
//! let offer = Decision::Offer { task: TaskId(1), agent: AgentId(7) };
//! assert_eq!(engine.poll_decision(), Some(offer));
//! // Nobody answers: the shell sleeps until poll_timeout, then feeds the timeout.
//! let wake = engine.poll_timeout().expect("ring-no-answer armed");
//! assert_eq!(wake - start, Duration::from_secs(20));
//! engine.handle_timeout(wake);
//! let timed_out = Decision::OfferTimedOut { task: TaskId(1), agent: AgentId(7) };
//! assert_eq!(engine.poll_decision(), Some(timed_out));
//! # Ok::<(), centrala::routing::RoutingError>(())
//! ```
//!
//! # Choices
//!
//! * Tasks: sticky reservation first; then (head-of-queue tier, aged priority
//!   `priority + wait / aging`, arrival, id).
//! * Agents: sticky agent first; then (channel proficiency, sum of skill levels over the
//!   requirements, longest idle, id).
//! * SLA deadlines are `Instant`s carried by the task, computed by the caller from the queue's
//!   business calendar (`Engine::sla_deadline` does it given `now` and the wall clock read
//!   together). The engine thus never needs the wall clock. The deadline is fixed when the
//!   task is queued; a calendar change later does not move it.
//! * Rejection excludes that agent for that task for good; ring-no-answer does not (the agent
//!   is put on a break instead), so a one-agent queue still gets its call back.
//! * Wrap-up (per queue, after completion) blocks every offer to the agent, on all channels.
//!   Give chat and e-mail queues a zero wrap-up when agents juggle several conversations.

mod agents;
mod config;
mod outside;
mod query;
mod route;
mod timers;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::routing::RoutingError;
use crate::routing::decision::{Decision, TimeoutReason};
use crate::routing::ids::{AgentId, CustomerId, QueueId, TaskId};
use crate::routing::index::{
    AgentRecord, FreeAgents, TaskRecord, TaskState, TaskTimers, WaitingIndex,
};
use crate::routing::queue::{QueueConfig, QueueStats, effective_requirements};
use crate::routing::task::Task;

/// The ACD engine. See the module docs for the run loop.
#[derive(Debug)]
pub struct Engine {
    /// Origin of the millisecond clock used in task ranks.
    epoch: Instant,
    /// Configuration and counters per queue.
    queues: BTreeMap<QueueId, QueueEntry>,
    /// Live tasks (looked up only, never iterated for a decision).
    tasks: HashMap<TaskId, TaskRecord>,
    /// Agents who ever logged in (looked up only).
    agents: HashMap<AgentId, AgentRecord>,
    /// Waiting tasks by channel, queue and requirements; sticky reservations.
    waiting: WaitingIndex,
    /// Agents with room, by channel and skill.
    free: FreeAgents,
    /// Agents who rejected a task; kept apart so the hot path rarely touches it.
    declined: BTreeMap<TaskId, Vec<AgentId>>,
    /// Every armed timer, earliest first.
    timers: BTreeSet<(Instant, TimeoutReason)>,
    /// Who served each customer: (agent, times, sequence number of the last time).
    history: HashMap<CustomerId, Vec<(AgentId, u32, u64)>>,
    /// Source of sequence numbers for `history` (most recent = largest).
    served_seq: u64,
    /// Outputs not yet drained.
    decisions: VecDeque<Decision>,
}

#[derive(Debug)]
struct QueueEntry {
    config: QueueConfig,
    stats: QueueStats,
    aging_ms: Option<u64>,
}

impl Engine {
    /// An engine with the given queues. Fails if an overflow target is not among them.
    pub fn new(now: Instant, queues: Vec<QueueConfig>) -> Result<Engine, RoutingError> {
        let mut engine = Engine {
            epoch: now,
            queues: BTreeMap::new(),
            tasks: HashMap::new(),
            agents: HashMap::new(),
            waiting: WaitingIndex::default(),
            free: FreeAgents::default(),
            declined: BTreeMap::new(),
            timers: BTreeSet::new(),
            history: HashMap::new(),
            served_seq: 0,
            decisions: VecDeque::new(),
        };
        engine.queues = engine.validate(queues)?;
        Ok(engine)
    }

    /// A contact enters its queue. It is offered at once if an eligible agent is free.
    /// Fails on a duplicate id or an unknown queue.
    pub fn handle_task_queued(&mut self, now: Instant, task: Task) -> Result<(), RoutingError> {
        self.queue_task(now, task, now)
    }

    /// A task that first arrived at `arrived` (before a restart, or as a voice call that became
    /// a callback) enters its queue now, keeping its place: it ranks and reports its wait from
    /// `arrived` (clamped to `now`). Bullseye and overflow clocks start now. Ranks before the
    /// engine's creation `now` collapse to it, so a driver restoring tasks creates the engine
    /// with the earliest restored arrival.
    pub fn handle_task_restored(
        &mut self,
        now: Instant,
        task: Task,
        arrived: Instant,
    ) -> Result<(), RoutingError> {
        self.queue_task(now, task, arrived.min(now))
    }

    fn queue_task(
        &mut self,
        now: Instant,
        task: Task,
        arrived: Instant,
    ) -> Result<(), RoutingError> {
        let id = task.id;
        if self.tasks.contains_key(&id) {
            return Err(RoutingError::DuplicateTask(id));
        }
        let entry = self
            .queues
            .get_mut(&task.queue)
            .ok_or(RoutingError::UnknownQueue(task.queue))?;
        entry.stats.entered += 1;
        let reqs = effective_requirements(&task.skills, &entry.config, 0).into_boxed_slice();
        let deadline = task.sla_deadline;
        let boost = entry.config.sla_boost;
        let record = TaskRecord {
            priority: task.priority,
            task,
            state: TaskState::Detached,
            queued_at: arrived,
            arrival_ms: self.ms(arrived),
            entered_at: now,
            stage: 0,
            reqs,
            head: false,
            timers: TaskTimers::default(),
        };
        self.tasks.insert(id, record);
        if let Some(deadline) = deadline {
            self.arm(id, timers::Slot::SlaBreach, deadline);
            if let Some(boost) = boost {
                self.arm(
                    id,
                    timers::Slot::SlaBoost,
                    deadline.checked_sub(boost.before).unwrap_or(now),
                );
            }
        }
        self.enter_queue(now, id);
        self.place(now, id);
        Ok(())
    }

    /// The contact went away before an agent accepted it (abandon). Returns how long it
    /// waited. Fails if the task is unknown or already accepted (complete it instead).
    pub fn handle_task_cancelled(
        &mut self,
        now: Instant,
        task: TaskId,
    ) -> Result<Duration, RoutingError> {
        let rec = self
            .tasks
            .get(&task)
            .ok_or(RoutingError::UnknownTask(task))?;
        if let TaskState::Assigned(_) = rec.state {
            return Err(RoutingError::AlreadyAssigned(task));
        }
        let (state, queue, channel, waited) =
            (rec.state, rec.task.queue, rec.task.channel, rec.waited(now));
        self.unindex(task);
        self.disarm_all(task);
        self.tasks.remove(&task);
        self.declined.remove(&task);
        if let Some(entry) = self.queues.get_mut(&queue) {
            entry.stats.abandoned += 1;
            entry.stats.abandoned_wait += waited;
            if waited > entry.config.service_level_threshold {
                entry.stats.abandoned_after_threshold += 1;
            }
        }
        self.decisions.push_back(Decision::Abandoned {
            task,
            queue,
            waited,
        });
        if let TaskState::Offered(agent) = state {
            self.release_agent(now, agent, task, channel);
            self.route_agent(now, agent);
        }
        Ok(waited)
    }

    /// The agent accepted the offer (answered the call, opened the chat).
    pub fn handle_offer_accepted(
        &mut self,
        now: Instant,
        task: TaskId,
        agent: AgentId,
    ) -> Result<(), RoutingError> {
        self.check_offered(task, agent)?;
        for slot in [
            timers::Slot::RingNoAnswer,
            timers::Slot::SlaBoost,
            timers::Slot::SlaBreach,
        ] {
            self.disarm(task, slot);
        }
        let rec = self
            .tasks
            .get_mut(&task)
            .ok_or(RoutingError::UnknownTask(task))?;
        rec.state = TaskState::Assigned(agent);
        rec.head = false;
        let (queue, waited, customer) = (rec.task.queue, rec.waited(now), rec.task.customer);
        if let Some(entry) = self.queues.get_mut(&queue) {
            entry.stats.answered += 1;
            if waited <= entry.config.service_level_threshold {
                entry.stats.answered_within_threshold += 1;
            }
        }
        if let Some(customer) = customer {
            self.served_seq += 1;
            let served = self.history.entry(customer).or_default();
            match served.iter_mut().find(|s| s.0 == agent) {
                Some(s) => {
                    s.1 += 1;
                    s.2 = self.served_seq;
                }
                None => served.push((agent, 1, self.served_seq)),
            }
        }
        Ok(())
    }

    /// The agent declined the offer: the task goes back to the head of its queue and is never
    /// offered to this agent again; the agent stays ready.
    pub fn handle_offer_rejected(
        &mut self,
        now: Instant,
        task: TaskId,
        agent: AgentId,
    ) -> Result<(), RoutingError> {
        self.check_offered(task, agent)?;
        self.declined.entry(task).or_default().push(agent);
        self.end_offer(now, task, agent);
        self.route_agent(now, agent);
        Ok(())
    }

    /// The offer rang out (reported by the shell): the agent goes not-ready
    /// (`ReasonCode::RING_NO_ANSWER`) and the task goes back to the head of its queue.
    pub fn handle_offer_unanswered(
        &mut self,
        now: Instant,
        task: TaskId,
        agent: AgentId,
    ) -> Result<(), RoutingError> {
        self.check_offered(task, agent)?;
        self.ring_no_answer(now, task, agent);
        Ok(())
    }

    /// The agent finished the task; wrap-up starts if the queue has one.
    pub fn handle_task_completed(
        &mut self,
        now: Instant,
        task: TaskId,
    ) -> Result<(), RoutingError> {
        let rec = self
            .tasks
            .get(&task)
            .ok_or(RoutingError::UnknownTask(task))?;
        let TaskState::Assigned(agent) = rec.state else {
            return Err(RoutingError::NotAssigned(task));
        };
        let (queue, channel) = (rec.task.queue, rec.task.channel);
        self.disarm_all(task);
        self.tasks.remove(&task);
        self.declined.remove(&task);
        let wrap_up = self
            .queues
            .get(&queue)
            .map_or(Duration::ZERO, |q| q.config.wrap_up);
        self.release_agent(now, agent, task, channel);
        let online = self.agents.get(&agent).is_some_and(|a| a.online);
        if online && !wrap_up.is_zero() {
            self.start_wrap_up(agent, now + wrap_up);
        }
        self.route_agent(now, agent);
        Ok(())
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, reason)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            self.fire(now, reason);
        }
    }

    /// The next output, in causal order.
    pub fn poll_decision(&mut self) -> Option<Decision> {
        self.decisions.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(at, _)| at)
    }

    /// Why the engine wants to wake at `poll_timeout` (for logs and debugging).
    pub fn timeout_reason(&self) -> Option<TimeoutReason> {
        self.timers.first().map(|&(_, reason)| reason)
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn check_offered(&self, task: TaskId, agent: AgentId) -> Result<(), RoutingError> {
        let rec = self
            .tasks
            .get(&task)
            .ok_or(RoutingError::UnknownTask(task))?;
        if rec.state != TaskState::Offered(agent) {
            return Err(RoutingError::NotOffered { task, agent });
        }
        Ok(())
    }
}

#[cfg(test)]
mod restore_tests;
#[cfg(test)]
mod tests;

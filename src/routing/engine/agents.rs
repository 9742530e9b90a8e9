//! Agent-side inputs and bookkeeping: login, logout, presence, wrap-up, ring-no-answer.
//!
//! Part of `Engine` (see `engine.rs` for the run loop); keeps `FreeAgents` in line with every
//! change of an agent's presence, load or idle time.

use std::time::Instant;

use super::Engine;
use crate::routing::RoutingError;
use crate::routing::agent::{AgentProfile, Presence};
use crate::routing::decision::{Decision, TimeoutReason};
use crate::routing::ids::{AgentId, ReasonCode, TaskId};
use crate::routing::index::{AgentRecord, TaskState, normalise_skills};
use crate::routing::task::Channel;

impl Engine {
    /// An agent logs in (or re-logs in with a new profile) and becomes available.
    pub fn handle_agent_logged_in(&mut self, now: Instant, profile: AgentProfile) {
        self.log_in(now, profile, Some(Presence::Available));
    }

    /// An agent's phone registered: the agent is logged in with its profile and keeps the
    /// presence it had (a break stays a break); a new agent starts available.
    pub fn handle_agent_registered(&mut self, now: Instant, profile: AgentProfile) {
        self.log_in(now, profile, None);
    }

    /// At start-up, an agent's stored state: logged in or not, with its presence. An agent
    /// the engine already knows keeps its record.
    pub fn handle_agent_restored(
        &mut self,
        now: Instant,
        profile: AgentProfile,
        online: bool,
        presence: Presence,
    ) {
        let id = profile.id;
        if self.agents.contains_key(&id) {
            return;
        }
        let mut rec = AgentRecord::new(profile, now);
        rec.online = online;
        rec.presence = presence;
        self.free.update(&mut rec);
        self.agents.insert(id, rec);
        self.route_agent(now, id);
    }

    /// Logs an agent in with `presence`, or the presence it had when `None`.
    fn log_in(&mut self, now: Instant, mut profile: AgentProfile, presence: Option<Presence>) {
        let id = profile.id;
        normalise_skills(&mut profile.skills);
        match self.agents.get_mut(&id) {
            Some(rec) => {
                self.free.clear(rec);
                let presence = presence.unwrap_or(rec.presence);
                if !rec.online || rec.presence != presence {
                    rec.idle_since = now;
                }
                rec.profile = profile;
                rec.online = true;
                rec.presence = presence;
                self.free.update(rec);
            }
            None => {
                let mut rec = AgentRecord::new(profile, now);
                rec.presence = presence.unwrap_or(Presence::Available);
                self.free.update(&mut rec);
                self.agents.insert(id, rec);
            }
        }
        self.route_agent(now, id);
    }

    /// The next agent whose record changed since the last call, in id order; its status may
    /// or may not have changed (the shell compares it with the status it last reported).
    pub fn poll_touched_agent(&mut self) -> Option<AgentId> {
        self.free.touched.pop_first()
    }

    /// An agent logs out: pending offers are withdrawn (`Decision::OfferWithdrawn`) and
    /// requeued at the head; accepted tasks stay with the agent until completed.
    pub fn handle_agent_logged_out(
        &mut self,
        now: Instant,
        agent: AgentId,
    ) -> Result<(), RoutingError> {
        let rec = self
            .agents
            .get_mut(&agent)
            .ok_or(RoutingError::UnknownAgent(agent))?;
        rec.online = false;
        self.free.update(rec);
        let held: Vec<TaskId> = rec.holding.iter().copied().collect();
        for task in held {
            if self
                .tasks
                .get(&task)
                .is_some_and(|t| t.state == TaskState::Offered(agent))
            {
                self.decisions
                    .push_back(Decision::OfferWithdrawn { task, agent });
                self.end_offer(now, task, agent);
            }
        }
        self.release_reservations(now, agent);
        Ok(())
    }

    /// An agent changes presence (ready, or a break with a reason code).
    pub fn handle_agent_state(
        &mut self,
        now: Instant,
        agent: AgentId,
        presence: Presence,
    ) -> Result<(), RoutingError> {
        let rec = self
            .agents
            .get_mut(&agent)
            .ok_or(RoutingError::UnknownAgent(agent))?;
        if !rec.online {
            return Err(RoutingError::AgentOffline(agent));
        }
        if presence == Presence::Available && rec.presence != Presence::Available {
            rec.idle_since = now;
        }
        rec.presence = presence;
        self.free.update(rec);
        match presence {
            Presence::Available => self.route_agent(now, agent),
            Presence::Break(_) => self.release_reservations(now, agent),
        }
        Ok(())
    }

    pub(super) fn start_wrap_up(&mut self, agent: AgentId, until: Instant) {
        let Some(rec) = self.agents.get_mut(&agent) else {
            return;
        };
        let until = rec.wrap_up_until.map_or(until, |u| u.max(until));
        if let Some(old) = rec.wrap_up_until.replace(until) {
            self.timers.remove(&(old, TimeoutReason::WrapUpEnd(agent)));
        }
        self.free.update(rec);
        self.timers.insert((until, TimeoutReason::WrapUpEnd(agent)));
    }

    pub(super) fn ring_no_answer(&mut self, now: Instant, task: TaskId, agent: AgentId) {
        let reason = ReasonCode::RING_NO_ANSWER;
        if let Some(rec) = self.agents.get_mut(&agent) {
            rec.presence = Presence::Break(reason);
            self.free.update(rec);
        }
        self.decisions
            .push_back(Decision::AgentNotReady { agent, reason });
        self.end_offer(now, task, agent);
        self.release_reservations(now, agent);
    }

    pub(super) fn release_agent(
        &mut self,
        now: Instant,
        agent: AgentId,
        task: TaskId,
        channel: Channel,
    ) {
        let Some(rec) = self.agents.get_mut(&agent) else {
            return;
        };
        let load = &mut rec.load[channel.index()];
        *load = load.saturating_sub(1);
        rec.holding.remove(&task);
        if rec.holding.is_empty() {
            rec.idle_since = now;
        }
        self.free.update(rec);
    }

    /// Tasks reserved for `agent` stop waiting for them (logout, break).
    pub(super) fn release_reservations(&mut self, now: Instant, agent: AgentId) {
        let Some(set) = self.waiting.sticky.get(&agent) else {
            return;
        };
        let reserved: Vec<TaskId> = set.iter().copied().collect();
        for task in reserved {
            self.unindex(task);
            self.place(now, task);
        }
    }

    pub(super) fn end_wrap_up(&mut self, now: Instant, agent: AgentId) {
        let Some(rec) = self.agents.get_mut(&agent) else {
            return;
        };
        rec.wrap_up_until = None;
        if rec.holding.is_empty() {
            rec.idle_since = now;
        }
        self.free.update(rec);
        self.decisions.push_back(Decision::WrapUpEnded { agent });
        self.route_agent(now, agent);
    }
}

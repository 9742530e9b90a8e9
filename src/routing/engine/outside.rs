//! Calls outside routing: an agent's phone on a direct call between extensions, a call the
//! agent placed, or a click-to-dial/callback leg holds voice capacity like an offered task, so
//! the agent is busy and gets no voice offer meanwhile.
//!
//! Part of `Engine`. Must not touch: tasks and queues (no task exists for these calls).
//! Driven by: the call layer, through `AcdHandle::agent_on_call`, at the call's start and end.

use std::time::{Duration, Instant};

use super::Engine;
use crate::routing::RoutingError;
use crate::routing::ids::AgentId;
use crate::routing::task::Channel;

impl Engine {
    /// The agent's phone started (`on`) or ended a call outside routing.
    pub fn handle_agent_on_call(
        &mut self,
        now: Instant,
        agent: AgentId,
        on: bool,
    ) -> Result<(), RoutingError> {
        self.handle_agent_call_change(now, agent, on, Duration::ZERO)
    }

    /// The agent's phone ended a call outside routing that is followed by `wrap_up` of
    /// after-call work (a click-to-dial call): the agent takes no offer until it ends.
    pub fn handle_agent_call_ended(
        &mut self,
        now: Instant,
        agent: AgentId,
        wrap_up: Duration,
    ) -> Result<(), RoutingError> {
        self.handle_agent_call_change(now, agent, false, wrap_up)
    }

    fn handle_agent_call_change(
        &mut self,
        now: Instant,
        agent: AgentId,
        on: bool,
        wrap_up: Duration,
    ) -> Result<(), RoutingError> {
        let rec = self
            .agents
            .get_mut(&agent)
            .ok_or(RoutingError::UnknownAgent(agent))?;
        let voice = Channel::Voice.index();
        if on {
            rec.outside_calls = rec.outside_calls.saturating_add(1);
            rec.load[voice] = rec.load[voice].saturating_add(1);
        } else if rec.outside_calls > 0 {
            rec.outside_calls -= 1;
            rec.load[voice] = rec.load[voice].saturating_sub(1);
            if rec.outside_calls == 0 && rec.holding.is_empty() {
                rec.idle_since = now;
            }
        } else {
            return Ok(());
        }
        self.free.update(rec);
        if !on {
            if !wrap_up.is_zero() {
                self.start_wrap_up(agent, now + wrap_up);
            }
            self.route_agent(now, agent);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::routing::agent::AgentStatus;
    use crate::routing::decision::Decision;
    use crate::routing::engine::tests::{Sim, voice};
    use crate::routing::ids::{AgentId, QueueId, TaskId};
    use crate::routing::queue::QueueConfig;

    #[test]
    fn an_agent_on_a_direct_call_is_busy_and_offered_nothing_until_it_ends() {
        let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
        sim.login(1, &[]);
        let agent = AgentId(1);
        sim.engine
            .handle_agent_on_call(sim.now, agent, true)
            .unwrap();
        assert_eq!(sim.engine.agent_status(agent), AgentStatus::Busy);
        assert_eq!(
            sim.queue(voice(10, 1)),
            vec![],
            "a busy phone gets no offer"
        );
        let later = sim.now + Duration::from_secs(30);
        sim.engine
            .handle_agent_on_call(later, agent, false)
            .unwrap();
        let offer = Decision::Offer {
            task: TaskId(10),
            agent,
        };
        assert_eq!(sim.drain(), vec![offer], "offered once the call ended");
    }

    #[test]
    fn after_a_click_to_dial_call_the_agent_wraps_up_before_the_next_offer() {
        let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
        sim.login(1, &[]);
        let agent = AgentId(1);
        sim.engine
            .handle_agent_on_call(sim.now, agent, true)
            .unwrap();
        assert_eq!(sim.queue(voice(10, 1)), vec![]);
        let ended = sim.now + Duration::from_secs(30);
        sim.engine
            .handle_agent_call_ended(ended, agent, Duration::from_secs(15))
            .unwrap();
        assert_eq!(sim.engine.agent_status(agent), AgentStatus::WrapUp);
        assert_eq!(sim.drain(), vec![], "no offer during wrap-up");
        sim.engine.handle_timeout(ended + Duration::from_secs(15));
        let offer = Decision::Offer {
            task: TaskId(10),
            agent,
        };
        assert!(sim.drain().contains(&offer), "offered once wrap-up ended");
    }

    #[test]
    fn an_unmatched_call_end_changes_nothing() {
        let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
        sim.login(1, &[]);
        let now = sim.now;
        sim.engine
            .handle_agent_on_call(now, AgentId(1), false)
            .unwrap();
        assert_eq!(sim.engine.agent_status(AgentId(1)), AgentStatus::Available);
    }
}

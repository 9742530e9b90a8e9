//! The actor's agents: their commands (log in and out, ready, break; from the API, a phone's
//! feature codes or its registration), the `agent.state_changed` of every status change
//! whatever caused it, and the stored state that survives a restart (`store::agent_states`).
//!
//! The engine marks each agent whose record it touched; after every input the actor compares
//! those agents' status with the one it last reported, and reports each change once, with the
//! command's cause or, for a change no command asked for, the cause its transition implies
//! (`StateCause::of_transition`). One input makes at most one change per agent: an agent who
//! becomes ready and is offered a task at once goes from break to busy. Whether the agent is logged in and its presence are written
//! with the change; busy and wrap-up are not (they follow live work).

use std::time::Instant;

use super::AcdError;
use super::AcdEvent;
use super::actor::Actor;
use super::log::Entry;
use crate::routing::agent::{AgentStatus, Presence, StateCause};
use crate::routing::features::FeatureAction;
use crate::routing::ids::{AgentId, ReasonCode, TaskId};
use crate::routing::task::Channel;
use crate::store::AgentStateRow;

/// What the actor last reported of an agent.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reported {
    status: AgentStatus,
    /// Unix ms when `status` began.
    since_ms: i64,
    /// Logged in, and the presence set: what is stored.
    stored: (bool, Presence),
}

impl Actor {
    /// An agent command (see `AcdHandle::agent_from`).
    pub(super) fn agent(
        &mut self,
        now: Instant,
        wall_ms: i64,
        agent: AgentId,
        action: FeatureAction,
        cause: StateCause,
    ) -> Result<(), AcdError> {
        let setup = self
            .shared
            .setup
            .agent_by_id(agent)
            .ok_or(AcdError::UnknownAgent(agent))?;
        let number = setup.number.clone();
        let (event, detail) = match (action, cause) {
            // A registration found at start-up logs in only an agent with no stored state:
            // one who logged out stays out.
            (FeatureAction::Login, StateCause::Restart) => {
                if self.reported.contains_key(&agent) {
                    return Ok(());
                }
                self.engine
                    .handle_agent_registered(now, setup.profile.clone());
                ("login", None)
            }
            (FeatureAction::Login, StateCause::Registration) => {
                self.engine
                    .handle_agent_registered(now, setup.profile.clone());
                ("login", None)
            }
            (FeatureAction::Login, _) => {
                self.engine
                    .handle_agent_logged_in(now, setup.profile.clone());
                ("login", None)
            }
            (FeatureAction::Logout, _) => {
                self.engine.handle_agent_logged_out(now, agent)?;
                ("logout", None)
            }
            (FeatureAction::Pause(reason), _) => {
                self.engine
                    .handle_agent_state(now, agent, Presence::Break(reason))?;
                ("break", Some(reason.0.to_string()))
            }
            (FeatureAction::Ready, _) => {
                self.engine
                    .handle_agent_state(now, agent, Presence::Available)?;
                ("ready", None)
            }
        };
        let mut entry = Entry::new("", Channel::Voice, TaskId(0), event).agent(number);
        entry.detail = detail;
        self.log.push(wall_ms, entry);
        let cause = match cause {
            StateCause::Restart => StateCause::Registration,
            other => other,
        };
        self.causes.insert(agent, cause);
        Ok(())
    }

    /// Restores the agents' stored states (at start-up, before any task).
    pub(super) fn restore_agents(&mut self, now: Instant, rows: Vec<AgentStateRow>) {
        for row in rows {
            let Some(setup) = self.shared.setup.agent(&row.agent) else {
                continue; // no longer configured
            };
            let presence = match (row.presence.as_str(), row.reason) {
                ("break", Some(reason)) => {
                    Presence::Break(ReasonCode(u16::try_from(reason).unwrap_or(1)))
                }
                _ => Presence::Available,
            };
            let id = setup.profile.id;
            self.engine
                .handle_agent_restored(now, setup.profile.clone(), row.online, presence);
            self.reported.insert(
                id,
                Reported {
                    status: self.engine.agent_status(id),
                    since_ms: row.since_ms,
                    stored: (row.online, presence),
                },
            );
        }
        while self.engine.poll_touched_agent().is_some() {}
    }

    /// Reports each agent whose status changed since the last input, and stores its new
    /// login and presence when they changed.
    pub(super) fn report_agents(&mut self, wall_ms: i64) {
        while let Some(agent) = self.engine.poll_touched_agent() {
            let status = self.engine.agent_status(agent);
            let stored = self
                .engine
                .agent_presence(agent)
                .unwrap_or((false, Presence::Available));
            let last = self.reported.get(&agent).copied();
            let previous = last.map_or(AgentStatus::Offline, |r| r.status);
            if status == previous && last.is_some_and(|r| r.stored == stored) {
                continue;
            }
            let hinted = self.causes.get(&agent).copied();
            let cause = hinted.unwrap_or_else(|| StateCause::of_transition(previous, status));
            let since_ms = if status == previous {
                last.map_or(wall_ms, |r| r.since_ms)
            } else {
                wall_ms
            };
            self.reported.insert(
                agent,
                Reported {
                    status,
                    since_ms,
                    stored,
                },
            );
            if last.is_none_or(|r| r.stored != stored) {
                self.journal.push_agent_state(AgentStateRow {
                    agent: self.shared.agent_number(agent),
                    online: stored.0,
                    presence: match stored.1 {
                        Presence::Available => "available".into(),
                        Presence::Break(_) => "break".into(),
                    },
                    reason: match stored.1 {
                        Presence::Available => None,
                        Presence::Break(reason) => Some(i64::from(reason.0)),
                    },
                    since_ms: wall_ms,
                });
            }
            if status != previous {
                let event = AcdEvent::AgentChanged {
                    agent,
                    status,
                    previous,
                    cause,
                };
                self.emit(wall_ms, event, None, Some(agent));
            }
        }
        self.causes.clear();
    }

    /// What the agent is doing and since when.
    pub(super) fn agent_state(&self, agent: AgentId) -> (AgentStatus, Option<i64>) {
        let status = self.engine.agent_status(agent);
        let since = self
            .reported
            .get(&agent)
            .filter(|r| r.status == status)
            .map(|r| r.since_ms);
        (status, since)
    }
}

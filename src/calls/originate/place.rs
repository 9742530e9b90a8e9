//! Placing an originated call: checks the request (a configured agent with a registered
//! phone, a dialable number, a route to it), builds the agent's forks and spawns the task.
//!
//! Part of `calls::originate`; the public entry is `CallManager::originate`.

use tokio::sync::mpsc;
use tracing::Instrument;

use super::control::OriginatedControl;
use super::{OriginateError, Originated, Placed, Purpose};
use crate::calls::CallManager;
use crate::calls::control::LiveCall;
use crate::calls::fork::Fork;
use crate::calls::target::Target;
use crate::media::relay::MediaSession;

impl CallManager {
    /// Rings `agent_extension`'s phones, then dials `customer_number` and bridges them;
    /// returns the call's id (its CDR id) once the agent's phones are being rung.
    pub fn originate(
        &self,
        agent_extension: &str,
        customer_number: &str,
        purpose: Purpose,
    ) -> Result<String, OriginateError> {
        self.place(agent_extension, customer_number, purpose)
            .map(|placed| placed.id)
    }

    /// `originate`, keeping the withdraw handle (for offers the ACD may take back).
    pub(in crate::calls) fn place(
        &self,
        agent: &str,
        customer: &str,
        purpose: Purpose,
    ) -> Result<Placed, OriginateError> {
        if self.tasks.draining() {
            return Err(OriginateError::ShuttingDown);
        }
        if !self.config.extensions.contains_key(agent) {
            return Err(OriginateError::UnknownExtension(agent.to_owned()));
        }
        let valid = |c: char| c.is_ascii_digit() || c == '+';
        if customer.is_empty() || !customer.chars().all(valid) {
            return Err(OriginateError::InvalidNumber(customer.to_owned()));
        }
        let contacts = self.registrar.lookup(agent);
        if contacts.is_empty() {
            return Err(OriginateError::AgentUnavailable(agent.to_owned()));
        }
        let customer_target = self.customer_target(customer)?;
        let agent_forks = Fork::toward(
            self.endpoint.domain(),
            customer,
            &Target::Extension {
                number: agent.to_owned(),
                contacts,
            },
        );
        let (withdraw, withdrawn) = mpsc::unbounded_channel();
        let mut call =
            Originated::new(self, agent, customer, purpose, agent_forks, customer_target);
        let id = call.cdr.id.clone();
        let (guard, commands) = self.live.register(LiveCall {
            id: id.clone(),
            call_id: call.cdr.call_id.clone(),
            caller: agent.to_owned(),
            callee: customer.to_owned(),
            started_at_ms: call.cdr.started_at_ms,
            agent: Some(agent.to_owned()),
            caller_is_extension: true,
        });
        call.control = Some(OriginatedControl {
            guard,
            commands,
            held: false,
            registrar: self.registrar.clone(),
            trunks: self.config.trunks.clone().into(),
            transfers: 0,
            transfer_target: None,
            recordings_dir: self.config.recordings_dir.clone(),
            recording: None,
            recordings_made: 0,
            paused: false,
        });
        let ports = self.ports.clone();
        let media_ip = self.config.media_ip;
        let span = tracing::info_span!("originate", id = %id, agent);
        let running = self.tasks.enter();
        tokio::spawn(
            async move {
                match MediaSession::open(&ports, media_ip).await {
                    Ok(media) => call.run(media, withdrawn).await,
                    Err(err) => call.no_media(err.to_string()).await,
                }
                drop(running);
            }
            .instrument(span),
        );
        Ok(Placed { id, withdraw })
    }

    /// An extension's phones for a configured number, else the first trunk that dials out.
    fn customer_target(&self, number: &str) -> Result<Target, OriginateError> {
        if self.config.extensions.contains_key(number) {
            return Ok(Target::Extension {
                number: number.to_owned(),
                contacts: self.registrar.lookup(number),
            });
        }
        self.config
            .trunks
            .iter()
            .find(|t| t.outbound.is_some())
            .map(|trunk| Target::Trunk {
                trunk: trunk.clone(),
                number: number.to_owned(),
            })
            .ok_or(OriginateError::NoRoute)
    }
}

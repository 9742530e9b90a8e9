//! Placing an originated call: checks the request (a configured agent with a registered
//! phone, a dialable number, a route to it, the caller ID it presents), builds the agent's
//! forks and spawns the task.
//!
//! Part of `calls::originate`; the public entry is `CallManager::originate`.

use tokio::sync::mpsc;
use tracing::Instrument;

use super::control::OriginatedControl;
use super::{OriginateError, Originated, Placed, Purpose};
use crate::calls::CallManager;
use crate::calls::caller_id::Overrides;
use crate::calls::control::LiveCall;
use crate::calls::fork::Fork;
use crate::calls::target::Target;
use crate::config::{CallerId, CallerNumber};
use crate::media::relay::MediaSession;

impl CallManager {
    /// Rings `agent_extension`'s phones, then dials `customer_number` and bridges them;
    /// returns the call's id (its CDR id) once the agent's phones are being rung.
    /// A customer reached through a trunk is presented the caller ID `overrides` choose over
    /// the trunk's (`calls::caller_id`).
    pub fn originate(
        &self,
        agent_extension: &str,
        customer_number: &str,
        purpose: Purpose,
        overrides: Overrides,
    ) -> Result<String, OriginateError> {
        self.place(agent_extension, customer_number, purpose, overrides)
            .map(|placed| placed.id)
    }

    /// The overrides of a call placed with its own `caller_id` (if any) for `queue` (if any:
    /// its `[[queues]] caller_id`); `Err` for a queue that is not configured.
    pub fn caller_id_overrides(
        &self,
        caller_id: Option<CallerId>,
        queue: Option<&str>,
    ) -> Result<Overrides, OriginateError> {
        let queue = match queue {
            None => None,
            Some(name) if self.acd.setup().queue(name).is_some() => {
                self.config.queue_caller_ids.get(name).cloned()
            }
            Some(name) => return Err(OriginateError::UnknownQueue(name.to_owned())),
        };
        Ok(Overrides {
            call: caller_id,
            queue,
        })
    }

    /// Whether a trunk or a queue is configured to present `number` (the numbers an agent
    /// may choose for a call of its own).
    pub fn presents(&self, number: &CallerNumber) -> bool {
        let trunks = self
            .config
            .trunks
            .iter()
            .filter_map(|t| t.outbound.as_ref());
        let mut configured = trunks
            .filter_map(|out| out.caller_id.as_ref())
            .chain(self.config.queue_caller_ids.values().map(|id| &id.number));
        configured.any(|n| n == number)
    }

    /// `originate`, keeping the withdraw handle (for offers the ACD may take back).
    pub(in crate::calls) fn place(
        &self,
        agent: &str,
        customer: &str,
        purpose: Purpose,
        overrides: Overrides,
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
        let customer_target = self.customer_target(customer, overrides)?;
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
    fn customer_target(
        &self,
        number: &str,
        overrides: Overrides,
    ) -> Result<Target, OriginateError> {
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
                trunk: Box::new(trunk.clone()),
                number: number.to_owned(),
                overrides,
            })
            .ok_or(OriginateError::NoRoute)
    }
}

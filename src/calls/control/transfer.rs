//! Transfers through the API. The party transferred is the caller's side (the customer); the
//! agent asking (or, for a supervisor, admin or integration, the callee's side) is released.
//!
//! Blind: the agent's leg gets BYE at once (its own CDR row says `transferred`), the caller
//! hears ring-back while the target rings through the dialplan's `dial` machinery
//! (`Phase::Dialing`, `Call::dial_target`); the answer bridges. A queue target makes the
//! caller a voice task of that queue with the call's CTI attributes (music on hold, the ACD
//! offers it as usual). A target that fails (busy, no answer, unreachable) ends the call with
//! cause `transfer_failed: <why>`: the agent is gone by then, as in Asterisk's blind transfer.
//! Attended: see `consult.rs`.
//!
//! Owns: `Transfer` (the transfer under way), target resolution, releasing the agent's leg
//! (its CDR row, the ACD task's completion) and the blind transfer's outcome.
//! Driven by: `Call::on_control`, and the dial hooks `transfer_answered` / `transfer_dial_failed`
//! called by `calls::ivr` when the `Phase::Dialing` forks settle.

use serde_json::{Value, json};

use super::ControlError;
use super::consult::Consult;
use super::rules::{TransferMode, TransferTarget, party_acted_on};
use crate::calls::call::{Call, Leg, Phase};
use crate::calls::cdr::{Outcome, Side};
use crate::calls::target::Target;
use crate::media::relay::Side as MediaSide;

/// A transfer under way.
pub(in crate::calls) struct Transfer {
    /// Where the caller goes.
    pub target: TransferTarget,
    pub mode: TransferMode,
    /// The consultation of an attended transfer.
    pub consult: Option<Consult>,
}

/// What a request a transfer sent is for (`call::Pending::Transfer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::calls) enum TransferPending {
    /// The INVITE of consultation fork `index` (toward the target).
    ConsultInvite(usize),
    /// The re-INVITE moving the agent's media to the consultation session.
    AgentToConsult,
    /// The re-INVITE moving the agent's media back to the call's session.
    AgentBack,
    /// The re-INVITE moving the target's media onto the call's session.
    TargetJoin,
}

/// A transfer target resolved to what the call does with it.
pub(super) enum Resolved {
    /// Ring these phones (an extension's, or a trunk's).
    Ring(Box<Target>),
    /// Queue the caller here.
    Queue(String),
}

impl Call {
    /// Starts a transfer of the other party than `by` to `target`.
    pub(in crate::calls) async fn start_transfer(
        &mut self,
        target: TransferTarget,
        mode: TransferMode,
        by: Option<&str>,
    ) -> Result<(), ControlError> {
        let (agent, resolved) = self.check_transfer(&target, mode, by)?;
        match resolved {
            Resolved::Ring(ring) if mode == TransferMode::Attended => {
                self.start_consultation(agent, target, &ring).await
            }
            resolved => {
                self.blind_transfer(agent, target, resolved);
                Ok(())
            }
        }
    }

    /// Whether a transfer of the other party than `by` to `target` can start now: the
    /// released agent's fork and what the target resolves to, else why not.
    pub(super) fn check_transfer(
        &self,
        target: &TransferTarget,
        mode: TransferMode,
        by: Option<&str>,
    ) -> Result<(usize, Resolved), ControlError> {
        let invalid = |why: &str| Err(ControlError::InvalidState(why.into()));
        let Phase::Connected { winner } = self.phase else {
            return invalid("the call is not answered");
        };
        let Some(control) = self.control.as_ref() else {
            return invalid("the call takes no commands");
        };
        if control.transfer.is_some() {
            return invalid("a transfer is already under way");
        }
        if party_acted_on(by, &self.cdr.origin, &self.cdr.caller) == Leg::B {
            return invalid(
                "only the caller's side can be transferred; this agent placed the call",
            );
        }
        match (mode, self.resolve(target)?) {
            (TransferMode::Attended, Resolved::Queue(_)) => Err(ControlError::InvalidTarget(
                "an attended transfer needs an extension or a phone number".into(),
            )),
            (_, resolved) => Ok((winner, resolved)),
        }
    }

    /// The blind transfer's target answered (the call is bridged to it again).
    pub(in crate::calls) fn transfer_answered(&mut self) {
        let Some(control) = self.control.as_mut() else {
            return;
        };
        if control
            .transfer
            .as_ref()
            .is_none_or(|t| t.mode != TransferMode::Blind)
        {
            return;
        }
        if let Some(transfer) = control.transfer.take() {
            tracing::info!(target = %transfer.target.describe(), "blind transfer answered");
            if let Some(guard) = &control.guard {
                guard.set_agent(&transfer.target.describe());
            }
        }
    }

    /// The blind transfer's target failed: the caller is hung up (cause `transfer_failed`);
    /// false when no blind transfer was ringing.
    pub(in crate::calls) fn transfer_dial_failed(&mut self, why: &str) -> bool {
        let blind = self
            .control
            .as_mut()
            .and_then(|c| c.transfer.take_if(|t| t.mode == TransferMode::Blind));
        if blind.is_none() {
            return false;
        }
        tracing::info!(why, "blind transfer failed; the caller is hung up");
        self.cdr.end(
            Outcome::Answered,
            format!("transfer_failed: {why}"),
            Side::Callee,
        );
        if let Some(media) = &self.media {
            media.stop_playback(MediaSide::A);
        }
        self.hang_up_caller();
        true
    }

    /// What `target` means here, or why it cannot be reached now.
    fn resolve(&self, target: &TransferTarget) -> Result<Resolved, ControlError> {
        let services = self.control.as_ref().map(|c| &c.services);
        let Some(services) = services else {
            return Err(ControlError::InvalidState(
                "the call takes no commands".into(),
            ));
        };
        match target {
            TransferTarget::Extension(number) => {
                let contacts = self.registrar.lookup(number);
                if contacts.is_empty() {
                    return Err(ControlError::InvalidState(format!(
                        "extension {number} has no registered phone"
                    )));
                }
                Ok(Resolved::Ring(Box::new(Target::Extension {
                    number: number.clone(),
                    contacts,
                })))
            }
            TransferTarget::Queue(name) => match services.acd.setup().queue(name) {
                Some(_) => Ok(Resolved::Queue(name.clone())),
                None => Err(ControlError::InvalidTarget(format!("no queue {name}"))),
            },
            TransferTarget::External(number) => services
                .trunks
                .iter()
                .find(|t| t.outbound.is_some())
                .map(|trunk| {
                    Resolved::Ring(Box::new(Target::Trunk {
                        trunk: Box::new(trunk.clone()),
                        number: number.clone(),
                        overrides: Default::default(),
                    }))
                })
                .ok_or_else(|| ControlError::InvalidState("no trunk dials out".into())),
        }
    }

    /// Releases the agent on fork `agent` and sends the caller to `resolved`.
    pub(super) fn blind_transfer(
        &mut self,
        agent: usize,
        target: TransferTarget,
        resolved: Resolved,
    ) {
        self.clear_hold();
        let vars = self.transfer_vars();
        self.release_agent(agent, &target, true);
        self.phase = Phase::Ivr;
        tracing::info!(target = %target.describe(), "blind transfer");
        match resolved {
            Resolved::Queue(queue) => {
                let Some(acd) = self.control.as_ref().map(|c| c.services.acd.clone()) else {
                    return;
                };
                self.enqueue(acd, queue, Vec::new(), 0, vars, None);
            }
            Resolved::Ring(ring) => {
                if let Some(control) = self.control.as_mut() {
                    control.transfer = Some(Box::new(Transfer {
                        target,
                        mode: TransferMode::Blind,
                        consult: None,
                    }));
                }
                let timeout = self.no_answer_timeout;
                self.dial_target(&ring, timeout);
            }
        }
    }

    /// Releases the agent on fork `agent` (BYE unless `bye` is false: they hung up
    /// themselves): its CDR row says `transferred` to `target`, a queued call's task is
    /// completed (the agent wraps up), the call's CDR names the target.
    pub(super) fn release_agent(&mut self, agent: usize, target: &TransferTarget, bye: bool) {
        if bye {
            self.bye(agent);
        }
        let Some(control) = self.control.as_mut() else {
            return;
        };
        control.transfers_made += 1;
        let n = control.transfers_made;
        let party = control.guard.as_ref().and_then(|g| g.agent());
        let party = party.unwrap_or_else(|| self.cdr.callee.clone());
        let leg = self.forks[agent].dialog.call_id.clone();
        let segment = self
            .cdr
            .transfer_segment(n, &leg, &party, &target.describe());
        let store = self.store.clone();
        tokio::spawn(async move { store.record_cdr(segment).await });
        self.complete_queue_task();
        if let Some(guard) = self.control.as_ref().and_then(|c| c.guard.as_ref()) {
            guard.clear_agent();
        }
    }

    /// The ACD task of a queued call ends with its agent (who then wraps up).
    fn complete_queue_task(&mut self) {
        let Some(queued) = self.queued.take() else {
            return;
        };
        if let (true, Some(task)) = (queued.accepted, queued.task) {
            let acd = queued.acd.clone();
            tokio::spawn(async move {
                if let Err(err) = acd.completed(task).await {
                    tracing::debug!(%err, "task already closed");
                }
            });
        }
    }

    /// The CTI attributes a transferred call takes to its next queue: those of its queue
    /// step, else the caller's number; plus who transferred it.
    fn transfer_vars(&self) -> Value {
        let mut vars = self
            .queued
            .as_ref()
            .map(|q| q.vars.clone())
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({ "caller": { "number": self.cdr.caller } }));
        let from = self
            .control
            .as_ref()
            .and_then(|c| c.guard.as_ref())
            .and_then(|g| g.agent())
            .unwrap_or_else(|| self.cdr.callee.clone());
        vars["transferred_by"] = Value::String(from);
        vars
    }
}

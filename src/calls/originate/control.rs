//! API control of an originated call (click-to-dial, agent-first callbacks): it is listed in
//! `LiveCalls` (the agent as its caller and agent, the customer as its callee) from the
//! moment the agent's phones ring, and takes hang-up, hold and unhold, and (click-to-dial)
//! a blind transfer of the customer. Hold always holds the customer (the agent placed the
//! call): the customer hears music on hold, the agent silence. A blind transfer releases the
//! agent (BYE, its own CDR row with cause `transferred`) and rings the target (an extension
//! or a number through the trunk) as a new round of the agent leg on the same media side,
//! while the customer hears ring-back; a target that fails ends the call (`transfer_failed`).
//! Recording works as on other calls (`calls::recording`; the file's left channel is the
//! agent, the right the customer). Refused (409) for now: attended transfers, transfers to a
//! queue, and transfers of callback calls (their ACD task would need the completion at the
//! transfer).
//!
//! Part of `Originated`; the registry and commands are `calls::control`'s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{Leg, Originated, Pending, Purpose, RING_LIMIT, Stage};
use crate::calls::cdr::{Outcome, Side};
use crate::calls::control::{
    CallCommand, ControlError, ControlRequest, LiveCallGuard, RecordingAction, TransferMode,
    TransferTarget, check_recording, pause_recording,
};
use crate::calls::fork::Fork;
use crate::calls::recording;
use crate::calls::target::Target;
use crate::config::Trunk;
use crate::media::player::Playback;
use crate::media::relay::Side as MediaSide;
use crate::media::sdp::Direction;
use crate::media::tone::ToneSpec;
use crate::sip::message::reason_phrase;
use crate::sip::registrar::RegistrarService;

/// An originated call's end of the control channel.
pub(super) struct OriginatedControl {
    /// Keeps the call listed until the call task ends; names its current agent.
    pub guard: LiveCallGuard,
    pub commands: mpsc::UnboundedReceiver<ControlRequest>,
    /// The customer is on hold.
    pub held: bool,
    /// Where a transfer target extension's phones are.
    pub registrar: Arc<RegistrarService>,
    /// Carrier trunks, for a transfer to a number.
    pub trunks: Arc<[Trunk]>,
    /// Transfers made so far (each released agent gets a CDR row).
    pub transfers: u32,
    /// The target of the transfer ringing now.
    pub transfer_target: Option<String>,
    /// Where recordings go.
    pub recordings_dir: PathBuf,
    /// The running recording's id.
    pub recording: Option<String>,
    /// Recordings started so far (each gets its own file and index row).
    pub recordings_made: u32,
    /// The running recording is paused.
    pub paused: bool,
}

/// The next command, or never when the call takes none.
pub(super) async fn next_command(
    control: &mut Option<OriginatedControl>,
) -> Option<ControlRequest> {
    match control {
        Some(control) => control.commands.recv().await,
        None => std::future::pending().await,
    }
}

impl Originated {
    /// Carries out one command and reports its outcome.
    pub(super) async fn on_control(&mut self, request: ControlRequest) {
        let outcome = match request.command() {
            CallCommand::Recording(action) => {
                let action = *action;
                self.control_recording(action).await
            }
            CallCommand::Hangup => self.hang_up_for("api_hangup"),
            CallCommand::Shutdown => self.hang_up_for("shutdown"),
            CallCommand::Hold { .. } => self.hold(true),
            CallCommand::Unhold => self.hold(false),
            CallCommand::Transfer {
                target,
                mode: TransferMode::Blind,
                ..
            } => {
                let target = target.clone();
                self.blind_transfer(&target)
            }
            _ => Err(ControlError::InvalidState(
                "attended transfers are not available on click-to-dial and callback calls".into(),
            )),
        };
        request.answer(outcome);
    }

    fn hang_up_for(&mut self, cause: &str) -> Result<(), ControlError> {
        tracing::info!(cause, "originated call hung up by Centrala");
        match self.stage {
            Stage::RingingAgent => {
                self.cdr.end(Outcome::Cancelled, cause, Side::System);
                self.cancel_all(Leg::Agent);
            }
            Stage::Briefing { winner } | Stage::DialingCustomer { winner } => {
                self.cdr.end(Outcome::Cancelled, cause, Side::System);
                self.cancel_all(Leg::Customer);
                self.bye(Leg::Agent, winner);
            }
            Stage::Connected { winner, customer } => {
                self.cdr.end(Outcome::Answered, cause, Side::System);
                self.bye(Leg::Agent, winner);
                self.bye(Leg::Customer, customer);
                // A callback answered and ended: its task completes (wrap-up), as on BYE.
                self.reports.push(super::Report::Completed);
            }
            Stage::Transferring { customer } => {
                self.cdr.end(Outcome::Answered, cause, Side::System);
                self.cancel_all(Leg::Agent);
                self.bye(Leg::Customer, customer);
            }
            Stage::Ending | Stage::Done => {
                return Err(ControlError::InvalidState("the call is ending".into()));
            }
        }
        self.ending();
        Ok(())
    }

    async fn control_recording(&mut self, action: RecordingAction) -> Result<(), ControlError> {
        let (Stage::Connected { .. }, Some(control), Some(media)) =
            (self.stage, self.control.as_mut(), self.media.as_mut())
        else {
            return Err(ControlError::InvalidState(
                "the call is not answered".into(),
            ));
        };
        check_recording(action, control.recording.is_some(), control.paused)?;
        control.paused = action == RecordingAction::Pause;
        let store = &*self.store;
        match action {
            RecordingAction::Start => {
                let (dir, made) = (&control.recordings_dir, control.recordings_made);
                let Some(id) = recording::start(media, dir, &self.cdr.id, made, store).await else {
                    return Err(ControlError::InvalidState(
                        "the recording could not start".into(),
                    ));
                };
                control.recordings_made += 1;
                control.recording = Some(id);
            }
            RecordingAction::Stop => {
                if let Some(id) = control.recording.take() {
                    recording::stop(media, id, store).await;
                }
            }
            RecordingAction::Pause | RecordingAction::Resume => {
                pause_recording(media, action == RecordingAction::Pause);
            }
        }
        Ok(())
    }

    /// Stops a running recording (the call ends).
    pub(super) async fn finish_recording(&mut self) {
        let id = self.control.as_mut().and_then(|c| c.recording.take());
        if let (Some(id), Some(media)) = (id, self.media.as_mut()) {
            recording::stop(media, id, &*self.store).await;
        }
    }

    /// Holds (`on`) or releases the customer.
    fn hold(&mut self, on: bool) -> Result<(), ControlError> {
        let invalid = |why: &str| Err(ControlError::InvalidState(why.into()));
        if !matches!(self.stage, Stage::Connected { .. }) {
            return invalid("the call is not answered");
        }
        let music = match self.prompts.get("moh/default") {
            Some(music) => Playback::prompt(music).looped(),
            None => Playback::tone(ToneSpec::ringback_eu()),
        };
        let (Some(control), Some(media)) = (self.control.as_mut(), self.media.as_ref()) else {
            return invalid("the call takes no commands");
        };
        match (on, control.held) {
            (true, true) => return invalid("the call is already on hold"),
            (false, false) => return invalid("the call is not on hold"),
            (true, false) => {
                media.play(MediaSide::B, music);
                media.set_direction(MediaSide::A, Direction::RecvOnly);
            }
            (false, true) => {
                media.stop_playback(MediaSide::B);
                media.set_direction(MediaSide::A, Direction::SendRecv);
            }
        }
        control.held = on;
        tracing::info!(held = on, "originated call hold changed");
        Ok(())
    }

    /// Releases the agent and rings `target` for the customer (click-to-dial calls).
    fn blind_transfer(&mut self, target: &TransferTarget) -> Result<(), ControlError> {
        let invalid = |why: &str| Err(ControlError::InvalidState(why.into()));
        let Stage::Connected { winner, customer } = self.stage else {
            return invalid("the call is not answered");
        };
        if self.purpose != Purpose::ClickToDial {
            return invalid("callback calls cannot be transferred yet");
        }
        let ring = self.transfer_ring(target)?;
        let forks = Fork::toward(self.endpoint.domain(), &self.customer.clone(), &ring);
        let (false, Some(offer)) = (forks.is_empty(), self.offer(MediaSide::A)) else {
            return invalid("the target cannot be rung");
        };
        let _ = self.hold(false);
        self.bye(Leg::Agent, winner);
        let Some(control) = self.control.as_mut() else {
            return invalid("the call takes no commands");
        };
        control.transfers += 1;
        control.transfer_target = Some(target.describe());
        let leg = self.agent_forks[winner].dialog.call_id.clone();
        let segment =
            self.cdr
                .transfer_segment(control.transfers, &leg, &self.agent, &target.describe());
        let store = self.store.clone();
        tokio::spawn(async move { store.record_cdr(segment).await });
        if let Some(media) = &self.media {
            media.play(MediaSide::B, Playback::tone(ToneSpec::ringback_eu()));
        }
        self.agent_round = self.agent_forks.len();
        self.agent_forks.extend(forks);
        for index in self.agent_round..self.agent_forks.len() {
            self.send_invite(Pending::Agent(index), offer.clone(), None);
        }
        self.ring_until = Some(Instant::now() + RING_LIMIT);
        self.stage = Stage::Transferring { customer };
        tracing::info!(target = %target.describe(), "click-to-dial call transferred (blind)");
        Ok(())
    }

    /// The phones a transfer rings, or why it cannot.
    fn transfer_ring(&self, target: &TransferTarget) -> Result<Target, ControlError> {
        let Some(control) = self.control.as_ref() else {
            return Err(ControlError::InvalidState(
                "the call takes no commands".into(),
            ));
        };
        match target {
            TransferTarget::Extension(number) => {
                let contacts = control.registrar.lookup(number);
                if contacts.is_empty() {
                    return Err(ControlError::InvalidState(format!(
                        "extension {number} has no registered phone"
                    )));
                }
                Ok(Target::Extension {
                    number: number.clone(),
                    contacts,
                })
            }
            TransferTarget::External(number) => control
                .trunks
                .iter()
                .find(|t| t.outbound.is_some())
                .map(|trunk| Target::Trunk {
                    trunk: Box::new(trunk.clone()),
                    number: number.clone(),
                    // The carrier sees what the call itself presented to the customer.
                    overrides: match &self.customer_target {
                        Target::Trunk { overrides, .. } => overrides.clone(),
                        _ => Default::default(),
                    },
                })
                .ok_or_else(|| ControlError::InvalidState("no trunk dials out".into())),
            TransferTarget::Queue(_) => Err(ControlError::InvalidState(
                "click-to-dial calls cannot be transferred to a queue yet".into(),
            )),
        }
    }

    /// The transfer target answered on agent fork `index`: it is bridged with the customer.
    pub(super) fn transfer_answered(&mut self, index: usize, customer: usize) {
        if let Some(media) = &self.media {
            media.stop_playback(MediaSide::B);
        }
        self.stage = Stage::Connected {
            winner: index,
            customer,
        };
        if let Some(control) = self.control.as_mut()
            && let Some(target) = control.transfer_target.take()
        {
            control.guard.set_agent(&target);
        }
        tracing::info!("the transfer target answered; bridged");
    }

    /// The transfer target was not reached: the customer's call ends.
    pub(super) fn transfer_failed(&mut self, customer: usize, status: u16) {
        tracing::info!(status, "the transfer target was not reached");
        self.cdr.end(
            Outcome::Answered,
            format!("transfer_failed: {status} {}", reason_phrase(status)),
            Side::Callee,
        );
        if let Some(media) = &self.media {
            media.stop_playback(MediaSide::B);
        }
        self.bye(Leg::Customer, customer);
        self.ending();
    }
}

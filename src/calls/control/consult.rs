//! Attended transfer: the caller (side A) hears music on hold while the agent consults the
//! target, then the API completes (the target is bridged with the caller, the agent released)
//! or cancels (the target is dropped, the agent is back with the caller).
//!
//! Media: a media session joins only two parties, so the consultation gets its own session
//! (side A toward the agent, side B toward the target). The agent's phone is moved to it by a
//! re-INVITE (and back by another on cancel); on completion the target is moved onto the
//! call's session by a re-INVITE, in place of the agent. The caller's leg is never
//! re-INVITEd. Meanwhile the call's session sends nothing toward the agent's old address.
//!
//! Decisions: completing needs the target to have answered (409 before). The agent hanging
//! up completes the transfer (as Asterisk does); if the target still rings then, the caller
//! hears ring-back instead of music and is bridged on the answer (a blind transfer). The
//! target hanging up, being busy or not answering (`no_answer_timeout`) returns the agent to
//! the caller. With nobody left for the caller, the call ends with cause `transfer_failed`.
//!
//! Owns: `Consult` and the SIP/media steps of `rules::ConsultStage`'s transitions.
//! Driven by: `Call::on_control`, the responses tagged `Pending::Transfer`, requests on the
//! target's dialog, the agent's BYE, and the call's timer (`consult_deadline`).

use std::time::Instant;

use bytes::Bytes;

use super::ControlError;
use super::rules::{ConsultInput, ConsultStage, ConsultStep, TransferMode, TransferTarget};
use super::transfer::{Transfer, TransferPending};
use crate::calls::bridge::side_of;
use crate::calls::call::{Call, Leg, Pending, Phase, sdp_of};
use crate::calls::cdr::{Outcome, Side};
use crate::calls::codecs;
use crate::calls::fork::Fork;
use crate::calls::target::Target;
use crate::media::player::Playback;
use crate::media::relay::{MediaSession, Side as MediaSide};
use crate::media::sdp::{Direction, OriginState, anchored_offer, remote_audio};
use crate::media::tone::ToneSpec;
use crate::sip::message::Message;
use crate::sip::method::Method;

/// An attended transfer's consultation.
pub(in crate::calls) struct Consult {
    /// Side A toward the agent's phone, side B toward the target.
    pub(super) media: MediaSession,
    /// The target's forks are `Call::forks[first..]`.
    pub(super) first: usize,
    pub(super) stage: ConsultStage,
    /// Where the agent's phone sends its media.
    agent: AgentMedia,
    /// The agent's fork (the call's bridged fork when the consultation started).
    agent_fork: usize,
    /// The agent hung up during the consultation.
    agent_gone: bool,
    /// The SDP origin of our offers to the target.
    origin: OriginState,
    /// When a ringing target is given up.
    ring_until: Option<Instant>,
}

/// Where the agent's phone is, as the re-INVITEs moving it stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgentMedia {
    /// The re-INVITE to the consultation session is outstanding.
    Moving,
    /// It was answered: the agent is on the consultation session.
    Moved,
    /// It was refused: the agent stayed on the call's session.
    Stayed,
}

impl Call {
    /// Puts the caller on music, moves the agent to a new session and rings `ring`.
    pub(super) async fn start_consultation(
        &mut self,
        agent: usize,
        target: TransferTarget,
        ring: &Target,
    ) -> Result<(), ControlError> {
        let invalid = |why: &str| Err(ControlError::InvalidState(why.into()));
        let Ok(media) = MediaSession::open(&self.ports, self.media_ip).await else {
            return invalid("no media ports for the consultation");
        };
        let mut origin = OriginState::new();
        let agent_offer =
            anchored_offer(&self.a.offer, media.local(MediaSide::A), &mut self.origin_b);
        let target_offer = anchored_offer(&self.a.offer, media.local(MediaSide::B), &mut origin);
        let (Some(agent_offer), Some(target_offer)) = (agent_offer, target_offer) else {
            return invalid("no codec to offer the target");
        };
        let from = self.cdr.caller.clone();
        let forks = Fork::toward(self.endpoint.domain(), &from, ring);
        if forks.is_empty() {
            return invalid("the target has no phone to ring");
        }
        self.clear_hold();
        let music = self.music_on_hold();
        if let Some(call_media) = &self.media {
            call_media.play(MediaSide::A, music);
            call_media.set_direction(MediaSide::B, Direction::Inactive);
        }
        self.core_hold(Leg::A, true);
        let body = Some(sdp_body(&agent_offer.to_string()));
        self.send_in_dialog(
            Leg::B,
            &Method::Invite,
            body,
            transfer(TransferPending::AgentToConsult),
        );
        let first = self.forks.len();
        let offer = Bytes::from(target_offer.to_string());
        for fork in forks {
            self.forks.push(fork);
            let index = self.forks.len() - 1;
            let pending = transfer(TransferPending::ConsultInvite(index));
            self.send_fork_invite_as(index, offer.clone(), None, pending);
        }
        tracing::info!(target = %target.describe(), agent, "attended transfer: consulting");
        let consult = Consult {
            media,
            first,
            stage: ConsultStage::Ringing,
            agent: AgentMedia::Moving,
            agent_fork: agent,
            agent_gone: false,
            origin,
            ring_until: Some(Instant::now() + self.no_answer_timeout),
        };
        if let Some(control) = self.control.as_mut() {
            control.transfer = Some(Box::new(Transfer {
                target,
                mode: TransferMode::Attended,
                consult: Some(consult),
            }));
        }
        Ok(())
    }

    /// `POST .../transfer/complete`.
    pub(in crate::calls) fn complete_transfer(&mut self) -> Result<(), ControlError> {
        self.consult_input(ConsultInput::Complete)
    }

    /// `POST .../transfer/cancel`.
    pub(in crate::calls) fn cancel_transfer(&mut self) -> Result<(), ControlError> {
        self.consult_input(ConsultInput::Cancel)
    }

    /// A response (`None`: none came, timeout or transport error) to a request a transfer
    /// sent.
    pub(in crate::calls) fn transfer_response(
        &mut self,
        pending: TransferPending,
        msg: Option<&Message>,
    ) {
        let provisional = msg.is_some_and(|m| m.status().unwrap_or(500) < 200);
        match (pending, msg) {
            (TransferPending::ConsultInvite(index), Some(msg)) => {
                self.consult_fork_response(index, msg)
            }
            (TransferPending::ConsultInvite(index), None) => self.consult_fork_failed(index, 408),
            _ if provisional => {}
            (TransferPending::AgentToConsult, msg) => self.agent_moved(msg),
            (TransferPending::AgentBack, msg) => self.agent_back(msg),
            (TransferPending::TargetJoin, msg) => self.target_joined(msg),
        }
    }

    /// The agent hung up: true when a consultation took it (the transfer completes).
    pub(in crate::calls) fn agent_left_consultation(&mut self) -> bool {
        let Phase::Connected { winner } = self.phase else {
            return false;
        };
        let Some(target) = self.transfer_target_of_consultation() else {
            return false;
        };
        tracing::info!("the agent hung up during the consultation");
        if let Some(consult) = self.consult_mut()
            && !std::mem::replace(&mut consult.agent_gone, true)
            && matches!(
                consult.stage,
                ConsultStage::Ringing | ConsultStage::Talking { .. }
            )
        {
            self.release_agent(winner, &target, false);
        }
        let _ = self.consult_input(ConsultInput::AgentGone);
        true
    }

    /// Ends a consultation with the call (the caller or the API hung up): the target's legs
    /// get CANCEL or BYE.
    pub(in crate::calls) fn drop_consultation(&mut self) {
        if self.consult().is_some() {
            self.drop_target_forks();
        }
        if let Some(control) = self.control.as_mut() {
            control.transfer.take_if(|t| t.consult.is_some());
        }
    }

    /// When a ringing target is given up.
    pub(in crate::calls) fn consult_deadline(&self) -> Option<Instant> {
        self.consult().and_then(|c| c.ring_until)
    }

    /// The ring timer: the target did not answer in time.
    pub(in crate::calls) fn consult_timer(&mut self, now: Instant) {
        if self.consult_deadline().is_some_and(|at| at <= now) {
            tracing::info!("the transfer target did not answer");
            let _ = self.consult_input(ConsultInput::TargetGone);
        }
    }

    pub(super) fn consult_input(&mut self, input: ConsultInput) -> Result<(), ControlError> {
        let Some(consult) = self.consult_mut() else {
            return Err(ControlError::InvalidState(
                "no attended transfer is under way".into(),
            ));
        };
        let (stage, step) = consult
            .stage
            .next(input, consult.agent_gone)
            .map_err(|why| ControlError::InvalidState(why.into()))?;
        consult.stage = stage;
        if stage != ConsultStage::Ringing {
            consult.ring_until = None;
        }
        match step {
            ConsultStep::Talk => {
                consult.media.stop_playback(MediaSide::A);
                tracing::info!("the agent talks to the transfer target");
            }
            ConsultStep::Join { fork } => self.join_target(fork),
            ConsultStep::Return => self.return_agent(),
            ConsultStep::RingOn => {
                if let Some(media) = &self.media {
                    media.play(MediaSide::A, Playback::tone(ToneSpec::ringback_eu()));
                }
            }
            ConsultStep::Fail => self.consultation_failed(),
            ConsultStep::Ignore => {}
        }
        Ok(())
    }

    /// Completion: the agent is released, the target re-INVITEd onto the call's session.
    fn join_target(&mut self, fork: usize) {
        let (Phase::Connected { winner }, Some(target)) =
            (self.phase, self.transfer_target_of_consultation())
        else {
            return;
        };
        let local = self.media.as_ref().map(|m| m.local(MediaSide::B));
        let a_offer = self.a.offer.clone();
        let offer = self.consult_mut().zip(local).and_then(|(consult, local)| {
            let gone = consult.agent_gone;
            anchored_offer(&a_offer, local, &mut consult.origin).map(|o| (o, gone))
        });
        let Some((offer, agent_gone)) = offer else {
            return self.consultation_failed();
        };
        self.cancel_target_forks_except(fork);
        if !agent_gone {
            self.release_agent(winner, &target, true);
        }
        self.phase = Phase::Connected { winner: fork };
        self.core_bridged(fork, None);
        // The call's side B is the target's from now on: later offers continue its SDP origin.
        if let Some(consult) = self.consult_mut() {
            self.origin_b = std::mem::take(&mut consult.origin);
        }
        let body = Some(sdp_body(&offer.to_string()));
        self.send_on_fork(
            fork,
            &Method::Invite,
            body,
            transfer(TransferPending::TargetJoin),
        );
        tracing::info!(target = %target.describe(), "attended transfer: joining the target");
    }

    /// The target's re-INVITE was answered: caller and target are bridged.
    fn target_joined(&mut self, msg: Option<&Message>) {
        let Phase::Connected { winner } = self.phase else {
            return;
        };
        if !msg.is_some_and(|msg| is_2xx(msg) && self.settle_leg(winner, msg)) {
            tracing::warn!("the transfer target refused to join the call");
            self.cdr.end(
                Outcome::Answered,
                "transfer_failed: join refused",
                Side::Callee,
            );
            self.drop_consultation();
            return self.hang_up_both(Outcome::Answered, "transfer_failed");
        }
        if let Some(media) = &self.media {
            media.set_direction(MediaSide::B, Direction::SendRecv);
            media.stop_playback(MediaSide::A);
        }
        self.core_hold(Leg::A, false);
        let target = self.transfer_target_of_consultation();
        if let Some(control) = self.control.as_mut() {
            control.transfer = None;
            if let (Some(guard), Some(target)) = (&control.guard, target) {
                guard.set_agent(&target.describe());
            }
        }
        tracing::info!("attended transfer completed");
    }

    /// Cancel (or the target is gone): drop the target, move the agent back (once its move
    /// to the consultation is answered, if it is still under way).
    fn return_agent(&mut self) {
        self.drop_target_forks();
        match self.consult().map(|c| c.agent) {
            Some(AgentMedia::Moved) => self.move_agent_back(),
            Some(AgentMedia::Moving) => {}
            _ => self.agent_returned(),
        }
    }

    fn move_agent_back(&mut self) {
        let local = self.media.as_ref().map(|m| m.local(MediaSide::B));
        let offer = local.and_then(|l| anchored_offer(&self.a.offer, l, &mut self.origin_b));
        let Some(offer) = offer else {
            return self.agent_returned();
        };
        let body = Some(sdp_body(&offer.to_string()));
        let pending = transfer(TransferPending::AgentBack);
        self.send_in_dialog(Leg::B, &Method::Invite, body, pending);
    }

    fn agent_back(&mut self, msg: Option<&Message>) {
        let Phase::Connected { winner } = self.phase else {
            return;
        };
        if !msg.is_some_and(|msg| is_2xx(msg) && self.settle_leg(winner, msg)) {
            tracing::warn!("the agent's phone refused to come back to the call");
        }
        self.agent_returned();
    }

    fn agent_returned(&mut self) {
        if let Some(media) = &self.media {
            media.set_direction(MediaSide::B, Direction::SendRecv);
            media.stop_playback(MediaSide::A);
        }
        self.core_hold(Leg::A, false);
        if let Some(control) = self.control.as_mut() {
            control.transfer = None;
        }
        tracing::info!("attended transfer cancelled; the agent is back with the caller");
    }

    /// The agent's phone moved to the consultation: it hears ring-back while the target rings.
    fn agent_moved(&mut self, msg: Option<&Message>) {
        let Some(agent) = self.consult().map(|c| c.agent_fork) else {
            return;
        };
        let Some(msg) = msg.filter(|msg| is_2xx(msg)) else {
            tracing::warn!("the agent's phone refused the consultation");
            let Some(consult) = self.consult_mut() else {
                return;
            };
            consult.agent = AgentMedia::Stayed;
            if consult.stage == ConsultStage::Returning {
                self.agent_returned();
            } else {
                let _ = self.consult_input(ConsultInput::Cancel);
            }
            return;
        };
        self.ack_fork(agent, msg);
        let answer = sdp_of(msg);
        let Some(consult) = self.consult_mut() else {
            return;
        };
        let Some((answer, remote)) = answer.and_then(|a| remote_audio(&a).map(|r| (a, r))) else {
            return;
        };
        consult.media.set_remote(MediaSide::A, remote.rtp);
        codecs::apply(&consult.media, MediaSide::A, &answer);
        consult.agent = AgentMedia::Moved;
        match consult.stage {
            ConsultStage::Ringing => {
                let ringback = Playback::tone(ToneSpec::ringback_eu());
                consult.media.play(MediaSide::A, ringback);
            }
            ConsultStage::Returning => self.move_agent_back(),
            _ => {}
        }
    }

    /// Nobody is left for the caller: the call ends.
    fn consultation_failed(&mut self) {
        self.drop_target_forks();
        if let Some(control) = self.control.as_mut() {
            control.transfer = None;
        }
        self.cdr
            .end(Outcome::Answered, "transfer_failed", Side::Callee);
        self.hang_up_caller();
    }

    /// ACKs a re-INVITE's 2xx on fork `index` and points the call's side B at its SDP.
    fn settle_leg(&mut self, index: usize, msg: &Message) -> bool {
        self.ack_fork(index, msg);
        let answer = sdp_of(msg).and_then(|a| remote_audio(&a).map(|r| (a, r)));
        let (Some((answer, remote)), Some(media)) = (answer, self.media.as_ref()) else {
            return false;
        };
        media.set_remote(side_of(Leg::B), remote.rtp);
        codecs::apply(media, MediaSide::B, &answer);
        true
    }

    fn transfer_target_of_consultation(&self) -> Option<TransferTarget> {
        let transfer = self.control.as_ref()?.transfer.as_ref()?;
        transfer.consult.as_ref().map(|_| transfer.target.clone())
    }

    pub(super) fn consult(&self) -> Option<&Consult> {
        self.control.as_ref()?.transfer.as_ref()?.consult.as_ref()
    }

    pub(super) fn consult_mut(&mut self) -> Option<&mut Consult> {
        self.control.as_mut()?.transfer.as_mut()?.consult.as_mut()
    }
}

pub(super) fn transfer(pending: TransferPending) -> Pending {
    Pending::Transfer(pending)
}

fn sdp_body(sdp: &str) -> (String, Bytes) {
    ("application/sdp".to_owned(), Bytes::from(sdp.to_owned()))
}

fn is_2xx(msg: &Message) -> bool {
    msg.status().is_some_and(|s| (200..300).contains(&s))
}

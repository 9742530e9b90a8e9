//! The target's side of an attended transfer's consultation: the forks ringing the target,
//! their responses (the first answer is bridged with the agent on the consultation session),
//! requests on the target's dialog (its BYE returns the agent), and dropping the target.
//!
//! Part of `consult.rs` (which owns `Consult`); the steps come from `rules::ConsultStage`.

use super::consult::transfer;
use super::rules::{ConsultInput, ConsultStage};
use super::transfer::TransferPending;
use crate::calls::call::{Call, sdp_of};
use crate::calls::codecs;
use crate::calls::fork::{Fork, ForkState};
use crate::media::relay::Side as MediaSide;
use crate::media::sdp::remote_audio;
use crate::sip::endpoint::ServerTxn;
use crate::sip::message::{Message, MessageBuilder};
use crate::sip::method::Method;

impl Call {
    /// Whether `call_id` is a consultation fork's dialog (before the target is joined).
    pub(in crate::calls) fn is_consult_dialog(&self, call_id: &str) -> bool {
        self.consult().is_some_and(|c| {
            c.stage != ConsultStage::Joining
                && self.forks[c.first..]
                    .iter()
                    .any(|f| f.dialog.call_id == call_id)
        })
    }

    /// A request on the target's dialog during the consultation: a BYE returns the agent.
    pub(in crate::calls) fn consult_request(&mut self, msg: Message, txn: ServerTxn) {
        let (status, reason) = match msg.method() {
            Some(Method::Invite) => (488, "Not Acceptable Here"),
            _ => (200, "OK"),
        };
        let bye = msg.method() == Some(&Method::Bye);
        self.endpoint
            .reply(txn, MessageBuilder::response_to(&msg, status, reason, None));
        if bye {
            tracing::info!("the transfer target hung up during the consultation");
            let _ = self.consult_input(ConsultInput::TargetGone);
        }
    }

    pub(super) fn consult_fork_response(&mut self, index: usize, msg: &Message) {
        let status = msg.status().unwrap_or(500);
        match status {
            100 => {}
            101..=199 => {
                let fork = &mut self.forks[index];
                fork.state = ForkState::Ringing;
                if std::mem::take(&mut fork.cancel_due) {
                    self.cancel_fork(index);
                }
            }
            200..=299 => self.consult_fork_answered(index, msg),
            401 | 407 => match self.forks[index].answer_challenge(msg) {
                Some(answer) => {
                    let offer = self.forks[index].offer.clone();
                    let pending = transfer(TransferPending::ConsultInvite(index));
                    self.send_fork_invite_as(index, offer, Some(answer), pending);
                }
                None => self.consult_fork_failed(index, status),
            },
            _ => self.consult_fork_failed(index, status),
        }
    }

    fn consult_fork_answered(&mut self, index: usize, msg: &Message) {
        let fork = &mut self.forks[index];
        let first_answer = fork.state != ForkState::Answered;
        fork.state = ForkState::Answered;
        if fork.dialog.confirm(msg).is_err() {
            tracing::warn!("unusable 2xx from the transfer target");
        }
        self.ack_fork(index, msg);
        if !first_answer {
            return;
        }
        let answer = sdp_of(msg).and_then(|a| remote_audio(&a).map(|r| (a, r)));
        let ringing = self
            .consult()
            .is_some_and(|c| c.stage == ConsultStage::Ringing);
        let (true, Some((answer, remote)), Some(consult)) = (ringing, answer, self.consult_mut())
        else {
            self.bye(index);
            return self.consult_fork_failed(index, 488);
        };
        consult.media.set_remote(MediaSide::B, remote.rtp);
        codecs::apply(&consult.media, MediaSide::B, &answer);
        self.cancel_target_forks_except(index);
        let _ = self.consult_input(ConsultInput::TargetAnswered(index));
    }

    pub(super) fn consult_fork_failed(&mut self, index: usize, status: u16) {
        if self.forks[index].state != ForkState::Answered {
            self.forks[index].state = ForkState::Failed(status);
        }
        let Some(consult) = self.consult() else {
            return;
        };
        let ringing = consult.stage == ConsultStage::Ringing;
        if ringing && self.forks[consult.first..].iter().all(Fork::is_final) {
            tracing::info!(status, "the transfer target did not answer");
            let _ = self.consult_input(ConsultInput::TargetGone);
        }
    }

    /// CANCEL (ringing) or BYE (answered) every target fork.
    pub(super) fn drop_target_forks(&mut self) {
        let Some(first) = self.consult().map(|c| c.first) else {
            return;
        };
        for index in first..self.forks.len() {
            match self.forks[index].state {
                ForkState::Answered => self.bye(index),
                ForkState::Failed(_) => {}
                _ => self.cancel_fork(index),
            }
        }
    }

    pub(super) fn cancel_target_forks_except(&mut self, keep: usize) {
        let Some(first) = self.consult().map(|c| c.first) else {
            return;
        };
        for index in first..self.forks.len() {
            if index != keep && !self.forks[index].is_final() {
                self.cancel_fork(index);
            }
        }
    }
}

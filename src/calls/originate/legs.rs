//! The two legs of an originated call: INVITEs toward the agent's phones and then toward the
//! customer, their responses (first 2xx wins, the others are cancelled), requests inside the
//! answered dialogs (BYE ends the call), and the mapping of the customer's final status to a
//! callback attempt's outcome.
//!
//! Part of `Originated`; SIP messages are built by `calls::fork::Fork`.

use bytes::Bytes;

use super::{Leg, Originated, Pending, Report, Stage};
use crate::calls::call::sdp_of;
use crate::calls::cdr::{Outcome, Side};
use crate::calls::codecs;
use crate::calls::fork::{Fork, ForkState};
use crate::media::player::Playback;
use crate::media::relay::Side as MediaSide;
use crate::media::sdp::remote_audio;
use crate::media::tone::ToneSpec;
use crate::routing::AttemptOutcome;
use crate::sip::endpoint::{SERVER, ServerTxn, TuEvent};
use crate::sip::message::{Message, MessageBuilder, reason_phrase};
use crate::sip::method::Method;
use crate::sip::peer::Peer;

impl Originated {
    /// Sends (or re-sends with a digest answer) the INVITE of a fork.
    pub(super) fn send_invite(
        &mut self,
        pending: Pending,
        body: Bytes,
        authorization: Option<(&str, String)>,
    ) {
        let endpoint = self.endpoint.clone();
        let fork = match pending {
            Pending::Agent(index) => &mut self.agent_forks[index],
            Pending::Customer(index) => &mut self.customer_forks[index],
            Pending::Teardown => return,
        };
        let Some(msg) = fork.invite(&endpoint, body, authorization) else {
            return;
        };
        let peer = fork.dialog.peer;
        endpoint.subscribe(&fork.dialog.call_id, self.events.clone());
        let tag = self.track(pending);
        endpoint.send_request(msg, peer, self.events.clone(), tag);
    }

    pub(super) fn on_event(&mut self, event: TuEvent) {
        match event {
            TuEvent::Response { tag, msg } => {
                let status = msg.status().unwrap_or(500);
                let pending = if status >= 200 {
                    self.pending.remove(&tag)
                } else {
                    self.pending.get(&tag).copied()
                };
                match pending {
                    Some(Pending::Agent(i)) => self.response(Leg::Agent, i, &msg),
                    Some(Pending::Customer(i)) => self.response(Leg::Customer, i, &msg),
                    _ => {}
                }
            }
            TuEvent::Failed { tag } => match self.pending.remove(&tag) {
                Some(Pending::Agent(i)) => self.fork_failed(Leg::Agent, i, 408),
                Some(Pending::Customer(i)) => self.fork_failed(Leg::Customer, i, 408),
                _ => {}
            },
            TuEvent::StrayResponse { msg } => {
                let call_id = msg.call_id().unwrap_or_default();
                let is_2xx = msg.status().is_some_and(|s| (200..300).contains(&s));
                if let Some(fork) = self.forks().find(|f| f.dialog.call_id == call_id)
                    && is_2xx
                {
                    fork.ack(&self.endpoint, &msg);
                }
            }
            TuEvent::Request { msg, txn, from } => self.on_request(msg, txn, from),
            _ => {}
        }
    }

    fn response(&mut self, leg: Leg, index: usize, msg: &Message) {
        let status = msg.status().unwrap_or(500);
        match status {
            100 => {}
            101..=199 => {
                let fork = self.fork_mut(leg, index);
                fork.state = ForkState::Ringing;
                if std::mem::take(&mut fork.cancel_due) {
                    self.cancel(leg, index);
                }
            }
            200..=299 => self.answered(leg, index, msg),
            401 | 407 => {
                let fork = self.fork_mut(leg, index);
                match fork.answer_challenge(msg) {
                    Some(answer) => {
                        let body = fork.offer.clone();
                        let pending = match leg {
                            Leg::Agent => Pending::Agent(index),
                            Leg::Customer => Pending::Customer(index),
                        };
                        self.send_invite(pending, body, Some(answer));
                    }
                    None => self.fork_failed(leg, index, status),
                }
            }
            _ => self.fork_failed(leg, index, status),
        }
    }

    fn answered(&mut self, leg: Leg, index: usize, msg: &Message) {
        let endpoint = self.endpoint.clone();
        let fork = self.fork_mut(leg, index);
        let first = fork.state != ForkState::Answered;
        fork.state = ForkState::Answered;
        if fork.dialog.confirm(msg).is_err() {
            tracing::warn!("unusable 2xx on an originated leg");
        }
        fork.ack(&endpoint, msg);
        if !first {
            return;
        }
        let wanted = matches!(
            (leg, self.stage),
            (Leg::Agent, Stage::RingingAgent | Stage::Transferring { .. })
                | (Leg::Customer, Stage::DialingCustomer { .. })
        );
        let remote = sdp_of(msg).and_then(|sdp| remote_audio(&sdp).map(|r| (sdp, r)));
        let (true, Some((answer, remote)), Some(media)) = (wanted, remote, self.media.as_ref())
        else {
            self.bye(leg, index);
            return self.fork_failed(leg, index, 488);
        };
        let side = match leg {
            Leg::Agent => MediaSide::A,
            Leg::Customer => MediaSide::B,
        };
        media.set_remote(side, remote.rtp);
        codecs::apply(media, side, &answer);
        if leg == Leg::Customer {
            media.stop_playback(MediaSide::A);
        }
        self.cancel_all(leg);
        self.ring_until = None;
        match (leg, self.stage) {
            (Leg::Agent, Stage::Transferring { customer }) => {
                self.transfer_answered(index, customer)
            }
            (Leg::Agent, _) => {
                tracing::info!("the agent answered");
                self.reports.push(Report::Accepted);
                self.brief_agent(index);
            }
            (Leg::Customer, Stage::DialingCustomer { winner }) => {
                tracing::info!("the customer answered; bridged");
                self.stage = Stage::Connected {
                    winner,
                    customer: index,
                };
                self.cdr.answered();
                self.reports.push(Report::Attempt(AttemptOutcome::Answered));
            }
            _ => {}
        }
    }

    /// A fork failed with `status`; when it was the last of its leg, the leg failed.
    fn fork_failed(&mut self, leg: Leg, index: usize, status: u16) {
        self.fork_mut(leg, index).state = ForkState::Failed(status);
        if leg == Leg::Agent && index < self.agent_round {
            return;
        }
        let forks = match leg {
            Leg::Agent => &self.agent_forks[self.agent_round..],
            Leg::Customer => &self.customer_forks[..],
        };
        if !forks.iter().all(Fork::is_final) {
            return;
        }
        let best = forks
            .iter()
            .filter_map(|f| match f.state {
                ForkState::Failed(s) => Some(s),
                _ => None,
            })
            .min_by_key(|s| match s {
                600.. => 0,
                486 => 1,
                400..=499 => 2,
                _ => 3,
            })
            .unwrap_or(480);
        match (leg, self.stage) {
            (Leg::Agent, Stage::RingingAgent) => self.agent_failed(best),
            (Leg::Agent, Stage::Transferring { customer }) => self.transfer_failed(customer, best),
            (Leg::Customer, Stage::DialingCustomer { winner }) => {
                self.customer_failed(winner, best)
            }
            _ => {}
        }
    }

    /// Nobody took the call at the agent's phones.
    pub(super) fn agent_failed(&mut self, status: u16) {
        tracing::info!(status, "the agent did not answer");
        self.reports.push(Report::Unanswered);
        let outcome = if status == 486 || status == 600 {
            Outcome::Busy
        } else {
            Outcome::NoAnswer
        };
        self.cdr.end(outcome, "agent_not_answered", Side::Caller);
        self.ending();
    }

    /// Dials the customer; the agent hears ring-back meanwhile.
    pub(super) fn dial_customer(&mut self, winner: usize) {
        self.stage = Stage::DialingCustomer { winner };
        let forks = Fork::toward(
            self.endpoint.domain(),
            &self.agent.clone(),
            &self.customer_target,
        );
        let body = self.offer(MediaSide::B);
        let (false, Some(body)) = (forks.is_empty(), body) else {
            return self.customer_failed(winner, 480);
        };
        tracing::info!("dialling the customer");
        if let Some(media) = &self.media {
            media.play(MediaSide::A, Playback::tone(ToneSpec::ringback_eu()));
        }
        self.ring_until = Some(std::time::Instant::now() + super::RING_LIMIT);
        self.customer_forks = forks;
        for index in 0..self.customer_forks.len() {
            self.send_invite(Pending::Customer(index), body.clone(), None);
        }
    }

    /// The customer was not reached: the attempt's outcome goes to the ACD and the agent's
    /// call ends.
    pub(super) fn customer_failed(&mut self, winner: usize, status: u16) {
        let (attempt, outcome) = attempt_of(status);
        tracing::info!(status, ?attempt, "the customer was not reached");
        self.reports.push(Report::Attempt(attempt));
        self.cdr.end(
            outcome,
            format!("{status} {}", reason_phrase(status)),
            Side::Callee,
        );
        self.bye(Leg::Agent, winner);
        self.ending();
    }

    fn on_request(&mut self, msg: Message, txn: ServerTxn, _from: Peer) {
        let call_id = msg.call_id().unwrap_or_default().to_owned();
        let (winner, customer) = match self.stage {
            Stage::Briefing { winner } | Stage::DialingCustomer { winner } => (Some(winner), None),
            Stage::Connected { winner, customer } => (Some(winner), Some(customer)),
            Stage::Transferring { customer } => (None, Some(customer)),
            _ => (None, None),
        };
        let from_agent = winner.is_some_and(|w| self.agent_forks[w].dialog.call_id == call_id);
        let from_customer =
            customer.is_some_and(|c| self.customer_forks[c].dialog.call_id == call_id);
        let (status, reason) = match msg.method() {
            _ if !from_agent && !from_customer => (481, "Call/Transaction Does Not Exist"),
            Some(Method::Invite) => (488, "Not Acceptable Here"),
            _ => (200, "OK"),
        };
        let response =
            MessageBuilder::response_to(&msg, status, reason, None).header("Server", SERVER);
        self.endpoint.reply(txn, response);
        if status != 200 || msg.method() != Some(&Method::Bye) {
            return;
        }
        match (self.stage, from_agent) {
            (Stage::Connected { customer, .. }, true) => {
                self.cdr
                    .end(Outcome::Answered, "normal_clearing", Side::Caller);
                self.bye(Leg::Customer, customer);
                self.reports.push(Report::Completed);
            }
            (Stage::Transferring { .. }, false) => {
                self.cancel_all(Leg::Agent);
                self.cdr
                    .end(Outcome::Answered, "normal_clearing", Side::Callee);
            }
            (Stage::Connected { winner, .. }, false) => {
                self.cdr
                    .end(Outcome::Answered, "normal_clearing", Side::Callee);
                self.bye(Leg::Agent, winner);
                self.reports.push(Report::Completed);
            }
            _ => {
                // The agent hung up before the customer answered: the attempt failed.
                self.cancel_all(Leg::Customer);
                self.cdr
                    .end(Outcome::Cancelled, "agent_hung_up", Side::Caller);
                self.reports.push(Report::Attempt(AttemptOutcome::Failed));
            }
        }
        self.ending();
    }

    /// CANCELs every fork of `leg` that has no final answer.
    pub(super) fn cancel_all(&mut self, leg: Leg) {
        let count = match leg {
            Leg::Agent => self.agent_forks.len(),
            Leg::Customer => self.customer_forks.len(),
        };
        for index in 0..count {
            if !self.fork_mut(leg, index).is_final() {
                self.cancel(leg, index);
            }
        }
    }

    fn cancel(&mut self, leg: Leg, index: usize) {
        let fork = self.fork_mut(leg, index);
        let peer = fork.dialog.peer;
        if let Some(cancel) = fork.cancel() {
            self.send(cancel, peer);
        }
    }

    pub(super) fn bye(&mut self, leg: Leg, index: usize) {
        let endpoint = self.endpoint.clone();
        let fork = self.fork_mut(leg, index);
        let via = endpoint.via(fork.dialog.peer.transport);
        let builder = fork.dialog.request(&Method::Bye, &via);
        let peer = fork.dialog.peer;
        self.send(builder, peer);
    }

    fn send(&mut self, builder: MessageBuilder, peer: Peer) {
        match builder.header("User-Agent", SERVER).build_message() {
            Ok(msg) => {
                let tag = self.track(Pending::Teardown);
                self.endpoint
                    .send_request(msg, peer, self.events.clone(), tag);
            }
            Err(err) => tracing::error!(%err, "we built an unparsable request"),
        }
    }

    fn track(&mut self, pending: Pending) -> u64 {
        self.next_tag += 1;
        self.pending.insert(self.next_tag, pending);
        self.next_tag
    }

    fn fork_mut(&mut self, leg: Leg, index: usize) -> &mut Fork {
        match leg {
            Leg::Agent => &mut self.agent_forks[index],
            Leg::Customer => &mut self.customer_forks[index],
        }
    }

    fn forks(&self) -> impl Iterator<Item = &Fork> {
        self.agent_forks.iter().chain(&self.customer_forks)
    }
}

/// How a customer's final status counts for a callback attempt and the CDR.
fn attempt_of(status: u16) -> (AttemptOutcome, Outcome) {
    match status {
        486 | 600 => (AttemptOutcome::Busy, Outcome::Busy),
        408 | 480 | 487 => (AttemptOutcome::NoAnswer, Outcome::NoAnswer),
        _ => (AttemptOutcome::Failed, Outcome::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_statuses_map_to_attempt_outcomes() {
        assert_eq!(attempt_of(486).0, AttemptOutcome::Busy);
        assert_eq!(attempt_of(600).0, AttemptOutcome::Busy);
        // Rang out at our timer (487 after our CANCEL, 408) or unavailable.
        for status in [408, 480, 487] {
            assert_eq!(attempt_of(status).0, AttemptOutcome::NoAnswer, "{status}");
        }
        for status in [403, 404, 488, 500, 503] {
            assert_eq!(attempt_of(status).0, AttemptOutcome::Failed, "{status}");
        }
    }
}

//! A connected call: requests inside either dialog (BYE, re-INVITE for hold/unhold, INFO and
//! other in-dialog requests) are answered or relayed to the other leg, with SDP re-anchored.

use bytes::Bytes;

use super::call::{Call, Leg, Pending, Phase, sdp_of};
use super::cdr::{Outcome, Side};
use super::codecs;
use super::core_link::leg_index;
use crate::media::relay;
use crate::media::sdp::{
    OriginState, SessionDescription, anchored_answer, anchored_offer, remote_audio,
};
use crate::sip::dialog::Dialog;
use crate::sip::endpoint::{SERVER, ServerTxn};
use crate::sip::message::{Message, MessageBuilder};
use crate::sip::method::Method;

impl Call {
    /// Routes the response to a request we sent, by its tag.
    pub fn on_response(&mut self, tag: u64, msg: Message) {
        let Some(pending) = self.pending.get(&tag) else {
            return;
        };
        let status = msg.status().unwrap_or(500);
        match pending {
            Pending::ForkInvite(index) => {
                let index = *index;
                self.fork_response(tag, index, msg);
            }
            Pending::Teardown => {
                if status >= 200 {
                    self.pending.remove(&tag);
                }
            }
            Pending::Transfer(pending) => {
                let pending = *pending;
                if status >= 200 {
                    self.pending.remove(&tag);
                }
                self.transfer_response(pending, Some(&msg));
            }
            Pending::Refresh(leg) => {
                let leg = *leg;
                if status >= 200 {
                    self.pending.remove(&tag);
                }
                let cseq = msg.cseq().ok().map(|c| c.seq);
                self.core_reinvite_response_to(leg, Some(status), cseq);
            }
            Pending::Relay { .. } | Pending::Reinvite { .. } if status < 200 => {}
            Pending::Relay { .. } => {
                if let Some(Pending::Relay { txn, request, .. }) = self.pending.remove(&tag) {
                    self.relay_response(txn, &request, &msg);
                }
            }
            Pending::Reinvite { .. } => {
                if let Some(Pending::Reinvite {
                    from,
                    txn,
                    request,
                    offer,
                }) = self.pending.remove(&tag)
                {
                    self.reinvite_answered(from, txn, &request, &offer, &msg);
                }
            }
        }
    }

    /// A request we sent got no response (timeout or transport error).
    pub fn on_failed(&mut self, tag: u64) {
        match self.pending.remove(&tag) {
            Some(Pending::ForkInvite(index)) => self.fork_failed(index, 408),
            Some(Pending::Relay { txn, request, .. }) => {
                self.endpoint.reply(
                    txn,
                    MessageBuilder::response_to(&request, 408, "Request Timeout", None),
                );
            }
            Some(Pending::Reinvite {
                from, txn, request, ..
            }) => {
                self.core_reinvite_answered(from, &request, 408);
                self.endpoint.reply(
                    txn,
                    MessageBuilder::response_to(&request, 408, "Request Timeout", None),
                );
                self.core_reinvite_response(other(from), None);
            }
            Some(Pending::Refresh(leg)) => self.core_reinvite_response(leg, None),
            Some(Pending::Transfer(pending)) => self.transfer_response(pending, None),
            Some(Pending::Teardown) | None => {}
        }
    }

    /// A request inside the dialog of `leg` while connected.
    pub fn in_dialog_request(&mut self, leg: Leg, msg: Message, txn: ServerTxn) {
        if !self.dialog_mut(leg).accept_remote_cseq(&msg) {
            return self.endpoint.reply(
                txn,
                MessageBuilder::response_to(&msg, 500, "Out Of Order", None),
            );
        }
        match msg.method() {
            Some(Method::Bye) => {
                self.endpoint
                    .reply(txn, MessageBuilder::response_to(&msg, 200, "OK", None));
                if leg == Leg::B && self.agent_left_consultation() {
                    return;
                }
                self.drop_consultation();
                let side = if leg == Leg::A {
                    Side::Caller
                } else {
                    Side::Callee
                };
                tracing::info!(?side, "hang-up");
                self.cdr.end(Outcome::Answered, "normal_clearing", side);
                self.send_in_dialog(other(leg), &Method::Bye, None, Pending::Teardown);
                self.ending();
            }
            Some(Method::Invite) => self.reinvite(leg, msg, txn),
            Some(Method::Refer) => self.refer(leg, msg, txn),
            Some(Method::Options) => {
                let response =
                    MessageBuilder::response_to(&msg, 200, "OK", None).header("Server", SERVER);
                self.endpoint.reply(txn, response);
            }
            Some(Method::Update) if msg.body().is_empty() => {
                let mut response = MessageBuilder::response_to(&msg, 200, "OK", None);
                for (name, value) in self.core_update_refresh(leg, &msg) {
                    response = response.header(name, value);
                }
                self.endpoint.reply(txn, response);
            }
            Some(Method::Update) => {
                let response = MessageBuilder::response_to(&msg, 488, "Not Acceptable Here", None);
                self.endpoint.reply(txn, response);
            }
            _ => {
                let body = msg
                    .content_type()
                    .map(|t| (t.to_owned(), Bytes::copy_from_slice(msg.body())));
                let method = msg.method().cloned().unwrap_or(Method::Info);
                let pending = Pending::Relay { txn, request: msg };
                self.send_in_dialog(other(leg), &method, body, pending);
            }
        }
    }

    /// Hangs up both legs from our side (e.g. the caller never ACKed).
    pub fn hang_up_both(&mut self, outcome: Outcome, cause: &str) {
        self.cdr.end(outcome, cause, Side::System);
        if matches!(self.phase, Phase::Connected { .. }) {
            self.send_in_dialog(Leg::A, &Method::Bye, None, Pending::Teardown);
            self.send_in_dialog(Leg::B, &Method::Bye, None, Pending::Teardown);
        }
        self.ending();
    }

    /// Sends BYE to the caller (answered by the dialplan, not yet bridged).
    pub fn bye_caller(&mut self) {
        self.send_in_dialog(Leg::A, &Method::Bye, None, Pending::Teardown);
    }

    fn reinvite(&mut self, leg: Leg, msg: Message, txn: ServerTxn) {
        if !self.core_accepts_reinvite(leg, &msg, txn) {
            return;
        }
        let transferring = self.control.as_ref().is_some_and(|c| c.transfer.is_some());
        if transferring || !self.core_relay_starts(other(leg)) {
            return self.reject_reinvite(leg, &msg, txn, 491, "Request Pending");
        }
        let (Some(offer), Some(media)) = (sdp_of(&msg), self.media.as_ref()) else {
            self.core_reinvite_response(other(leg), Some(488));
            return self.reject_reinvite(leg, &msg, txn, 488, "Not Acceptable Here");
        };
        let toward = side_of(other(leg));
        let relayed = anchored_offer(&offer, media.local(toward), self.origin_mut(other(leg)));
        let (Some(relayed), Some(remote)) = (relayed, remote_audio(&offer)) else {
            self.core_reinvite_response(other(leg), Some(488));
            return self.reject_reinvite(leg, &msg, txn, 488, "Not Acceptable Here");
        };
        if let Some(media) = &self.media {
            media.set_remote(side_of(leg), remote.rtp);
        }
        let held = remote.direction != crate::media::sdp::Direction::SendRecv;
        self.core_hold(leg, held);
        tracing::info!(direction = %remote.direction.as_str(), "re-INVITE relayed");
        let relayed = Bytes::from(relayed.to_string());
        self.core.last_sdp[leg_index(other(leg))] = Some(relayed.clone());
        let body = Some(("application/sdp".to_owned(), relayed));
        let pending = Pending::Reinvite {
            from: leg,
            txn,
            request: msg,
            offer,
        };
        self.send_in_dialog(other(leg), &Method::Invite, body, pending);
    }

    fn reinvite_answered(
        &mut self,
        from: Leg,
        txn: ServerTxn,
        request: &Message,
        offer: &SessionDescription,
        response: &Message,
    ) {
        let status = response.status().unwrap_or(500);
        self.core_reinvite_response(other(from), Some(status));
        if !(200..300).contains(&status) {
            self.core_reinvite_answered(from, request, status);
            return self.relay_response(txn, request, response);
        }
        if let Ok(cseq) = response.cseq() {
            let dialog = self.dialog_mut(other(from)).clone();
            let via = self.endpoint.via(dialog.peer.transport);
            if let Ok(ack) = dialog.ack(cseq.seq, &via).build_message() {
                self.endpoint.send_stateless(&ack, dialog.peer);
            }
        }
        let answer = sdp_of(response);
        let Some(media) = self.media.as_ref() else {
            return;
        };
        let local = media.local(side_of(from));
        let (Some(answer), Some(origin)) = (answer, Some(self.origin_mut(from))) else {
            self.core_reinvite_answered(from, request, status);
            return self.relay_response(txn, request, response);
        };
        let Some(ours) = anchored_answer(&answer, offer, local, origin) else {
            self.core_reinvite_answered(from, request, status);
            return self.relay_response(txn, request, response);
        };
        if let (Some(remote), Some(media)) = (remote_audio(&answer), self.media.as_ref()) {
            media.set_remote(side_of(other(from)), remote.rtp);
            codecs::apply(media, side_of(other(from)), &answer);
            codecs::apply(media, side_of(from), &ours);
        }
        let transport = self.dialog_mut(from).peer.transport;
        let ours = Bytes::from(ours.to_string());
        self.core.last_sdp[leg_index(from)] = Some(ours.clone());
        let mut reply = MessageBuilder::response_to(request, 200, "OK", None)
            .header("Contact", self.endpoint.contact(transport));
        for (name, value) in self.core_reinvite_answered(from, request, 200) {
            reply = reply.header(name, value);
        }
        self.endpoint
            .reply(txn, reply.body("application/sdp", ours));
    }

    /// Answers a re-INVITE from `leg` with an error the call decided.
    fn reject_reinvite(
        &mut self,
        leg: Leg,
        msg: &Message,
        txn: ServerTxn,
        status: u16,
        reason: &str,
    ) {
        self.core_reinvite_answered(leg, msg, status);
        let response = MessageBuilder::response_to(msg, status, reason, None);
        self.endpoint.reply(txn, response);
    }

    fn relay_response(&mut self, txn: ServerTxn, request: &Message, response: &Message) {
        let status = response.status().unwrap_or(500);
        let mut reply =
            MessageBuilder::response_to(request, status, response.reason().unwrap_or(""), None);
        if let Some(content_type) = response.content_type() {
            reply = reply.body(content_type, Bytes::copy_from_slice(response.body()));
        }
        self.endpoint.reply(txn, reply);
    }

    /// Sends `method` inside the dialog of `leg` (with `body`), tracked as `pending`.
    pub(super) fn send_in_dialog(
        &mut self,
        leg: Leg,
        method: &Method,
        body: Option<(String, Bytes)>,
        pending: Pending,
    ) {
        self.send_in_dialog_with(leg, method, &[], body, pending);
    }

    /// `send_in_dialog` with extra `headers` (e.g. a NOTIFY's `Event`).
    pub(super) fn send_in_dialog_with(
        &mut self,
        leg: Leg,
        method: &Method,
        headers: &[(&str, &str)],
        body: Option<(String, Bytes)>,
        pending: Pending,
    ) {
        let endpoint = self.endpoint.clone();
        let (mut builder, peer) = in_dialog(&endpoint, self.dialog_mut(leg), method, body);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        self.send(builder, peer, pending);
    }

    /// Sends `method` inside the dialog of fork `index` (answered, not the bridged one).
    pub(super) fn send_on_fork(
        &mut self,
        index: usize,
        method: &Method,
        body: Option<(String, Bytes)>,
        pending: Pending,
    ) {
        let endpoint = self.endpoint.clone();
        let dialog = &mut self.forks[index].dialog;
        let (builder, peer) = in_dialog(&endpoint, dialog, method, body);
        self.send(builder, peer, pending);
    }

    /// The dialog of `leg` (the caller's, or the bridged fork's).
    pub(super) fn dialog_of(&mut self, leg: Leg) -> &Dialog {
        self.dialog_mut(leg)
    }

    fn dialog_mut(&mut self, leg: Leg) -> &mut Dialog {
        match (leg, self.phase) {
            (Leg::B, Phase::Connected { winner }) => &mut self.forks[winner].dialog,
            _ => &mut self.a.dialog,
        }
    }

    fn origin_mut(&mut self, leg: Leg) -> &mut OriginState {
        match leg {
            Leg::A => &mut self.origin_a,
            Leg::B => &mut self.origin_b,
        }
    }
}

/// A request inside `dialog` (with a Contact for INVITE) and where to send it.
fn in_dialog(
    endpoint: &crate::sip::endpoint::Endpoint,
    dialog: &mut Dialog,
    method: &Method,
    body: Option<(String, Bytes)>,
) -> (MessageBuilder, crate::sip::peer::Peer) {
    let transport = dialog.peer.transport;
    let mut builder = dialog.request(method, &endpoint.via(transport));
    if *method == Method::Invite {
        builder = builder.header("Contact", endpoint.contact(transport));
    }
    if let Some((content_type, body)) = body {
        builder = builder.body(&content_type, body);
    }
    (builder, dialog.peer)
}

/// The other leg.
pub(super) fn other(leg: Leg) -> Leg {
    match leg {
        Leg::A => Leg::B,
        Leg::B => Leg::A,
    }
}

/// The media session's side of `leg`.
pub(super) fn side_of(leg: Leg) -> relay::Side {
    match leg {
        Leg::A => relay::Side::A,
        Leg::B => relay::Side::B,
    }
}

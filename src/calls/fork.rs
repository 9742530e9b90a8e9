//! The callee side during set-up: one fork per registered contact (or one toward a trunk),
//! their responses, the answer, CANCEL of the losers, and the best final response when all
//! fail (RFC 3261 16.7, simplified: 6xx, then 486, then the first 4xx, else the first).

use bytes::Bytes;

use super::call::{Call, Pending, Phase, sdp_of};
use super::caller_id::{self, Overrides};
use super::cdr::{Outcome, Side};
use super::codecs;
use super::target::{Target, result_of_status};
use crate::config::Trunk;
use crate::media::relay;
use crate::media::sdp::{SessionDescription, anchored_answer, remote_audio};
use crate::sip::auth::{authorization, parse_challenge};
use crate::sip::dialog::Dialog;
use crate::sip::endpoint::{ALLOW, Endpoint, SERVER};
use crate::sip::message::{Message, MessageBuilder, reason_phrase};
use crate::sip::method::Method;
use crate::sip::peer::{Peer, Transport};

/// Where a fork stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForkState {
    Calling,
    Ringing,
    Answered,
    Failed(u16),
}

/// One outgoing INVITE toward the callee.
pub(super) struct Fork {
    pub dialog: Dialog,
    /// The last INVITE sent (for CANCEL, which copies its Via and CSeq).
    pub invite: Option<Message>,
    pub state: ForkState,
    /// A CANCEL is due as soon as a provisional response arrives (RFC 3261 9.1).
    pub cancel_due: bool,
    /// Digest credentials to answer a trunk's challenge, and whether we already did.
    pub credentials: Option<(String, String)>,
    pub auth_tried: bool,
    /// The SDP offer body, for an authenticated retry.
    pub offer: Bytes,
    /// Extra headers of the INVITE (toward a trunk: `P-Asserted-Identity`, `Privacy`; RFC 4028
    /// `Supported`, `Session-Expires`, `Min-SE`).
    pub headers: Vec<(&'static str, String)>,
}

impl Fork {
    /// The forks a call to `target` starts with.
    pub fn for_target(call: &Call, target: &Target) -> Vec<Fork> {
        Fork::toward(call.endpoint.domain(), &call.caller_name, target)
    }

    /// The forks toward `target` of a call from user `caller` of `domain`: one per registered
    /// contact of an extension, one toward a trunk's proxy, none for a dialplan number.
    pub fn toward(domain: &str, caller: &str, target: &Target) -> Vec<Fork> {
        let local_uri = format!("\"{caller}\" <sip:{caller}@{domain}>");
        match target {
            Target::Extension { number, contacts } => contacts
                .iter()
                .map(|binding| {
                    let dialog = Dialog::uac(
                        new_call_id(),
                        local_uri.clone(),
                        format!("<sip:{number}@{domain}>"),
                        binding.contact.clone(),
                        binding.source,
                    );
                    Fork::new(dialog, None)
                })
                .collect(),
            // The carrier never sees `caller`: see `calls::caller_id`.
            Target::Trunk {
                trunk,
                number,
                overrides,
            } => trunk_fork(trunk, number, overrides).into_iter().collect(),
            Target::Dialplan { .. } => Vec::new(),
        }
    }

    pub fn new(dialog: Dialog, credentials: Option<(String, String)>) -> Fork {
        Fork {
            dialog,
            invite: None,
            state: ForkState::Calling,
            cancel_due: false,
            credentials,
            auth_tried: false,
            offer: Bytes::new(),
            headers: Vec::new(),
        }
    }

    /// Whether the fork has its final answer.
    pub fn is_final(&self) -> bool {
        matches!(self.state, ForkState::Answered | ForkState::Failed(_))
    }

    /// Builds this fork's INVITE with `offer` (and a digest answer), remembering both for a
    /// CANCEL or an authenticated retry; `None` (logged) if we built something unparsable.
    pub fn invite(
        &mut self,
        endpoint: &Endpoint,
        offer: Bytes,
        authorization: Option<(&str, String)>,
    ) -> Option<Message> {
        self.offer = offer.clone();
        let transport = self.dialog.peer.transport;
        let mut builder = self
            .dialog
            .request(&Method::Invite, &endpoint.via(transport))
            .header("Contact", endpoint.contact(transport))
            .header("Allow", ALLOW)
            .header("User-Agent", SERVER);
        if let Some((name, value)) = authorization {
            builder = builder.header(name, value);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let Ok(msg) = builder.body("application/sdp", offer).build_message() else {
            tracing::error!("we built an unparsable INVITE");
            return None;
        };
        self.invite = Some(msg.clone());
        Some(msg)
    }

    /// The digest answer (header name and value) to a 401/407 on this fork's INVITE, once per
    /// fork and only with credentials (trunks); `None` when the failure stands.
    pub fn answer_challenge(&mut self, msg: &Message) -> Option<(&'static str, String)> {
        let (Some((user, password)), false) = (self.credentials.clone(), self.auth_tried) else {
            return None;
        };
        let (challenge_header, answer_header) = if msg.status() == Some(401) {
            ("WWW-Authenticate", "Authorization")
        } else {
            ("Proxy-Authenticate", "Proxy-Authorization")
        };
        let challenge = msg
            .headers(challenge_header)
            .find_map(|v| parse_challenge(v).ok())?;
        self.auth_tried = true;
        let cnonce = format!("{:016x}", rand::random::<u64>());
        let uri = self.dialog.remote_target.clone();
        let value = authorization(&challenge, &user, &password, "INVITE", &uri, &cnonce, 1);
        Some((answer_header, value))
    }

    /// The CANCEL of this fork's INVITE, or `None` when there is nothing to cancel yet (no
    /// provisional response: the CANCEL is then due at the first one, RFC 3261 9.1).
    pub fn cancel(&mut self) -> Option<MessageBuilder> {
        let invite = self.invite.clone()?;
        if self.state == ForkState::Calling {
            self.cancel_due = true;
            return None;
        }
        let (Some(uri), Some(via), Ok(cseq)) =
            (invite.request_uri(), invite.header("Via"), invite.cseq())
        else {
            return None;
        };
        let mut builder = MessageBuilder::request(&Method::Cancel, uri)
            .header("Via", via)
            .header("Max-Forwards", 70);
        for route in invite.headers("Route") {
            builder = builder.header("Route", route);
        }
        Some(
            builder
                .header("From", invite.header("From").unwrap_or_default())
                .header("To", invite.header("To").unwrap_or_default())
                .header("Call-ID", invite.header("Call-ID").unwrap_or_default())
                .header("CSeq", format!("{} CANCEL", cseq.seq)),
        )
    }

    /// ACKs a 2xx of this fork (also a retransmitted one).
    pub fn ack(&self, endpoint: &Endpoint, response: &Message) {
        let Ok(cseq) = response.cseq() else { return };
        let via = endpoint.via(self.dialog.peer.transport);
        match self.dialog.ack(cseq.seq, &via).build_message() {
            Ok(ack) => endpoint.send_stateless(&ack, self.dialog.peer),
            Err(err) => tracing::error!(%err, "we built an unparsable ACK"),
        }
    }
}

/// The fork toward `number` through `trunk` (none without an outbound side), presenting what
/// `overrides` and the trunk choose (`calls::caller_id`).
fn trunk_fork(trunk: &Trunk, number: &str, overrides: &Overrides) -> Option<Fork> {
    let out = trunk.outbound.as_ref()?;
    let host = out.host();
    let shown = caller_id::present(overrides, out);
    let transport = if out.transport == "tcp" {
        Transport::Tcp { conn: None }
    } else {
        Transport::Udp
    };
    let dialog = Dialog::uac(
        new_call_id(),
        shown.from,
        format!("<sip:{number}@{host}>"),
        format!("sip:{number}@{host}"),
        Peer {
            transport,
            addr: out.proxy,
        },
    );
    let credentials = out.username.clone().zip(out.password.clone());
    let mut fork = Fork::new(dialog, credentials);
    fork.headers = shown.headers;
    Some(fork)
}

fn new_call_id() -> String {
    format!(
        "{:016x}{:016x}@centrala",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

impl Call {
    /// Sends (or re-sends with credentials) the INVITE of fork `index`.
    pub fn send_fork_invite(
        &mut self,
        index: usize,
        offer: Bytes,
        authorization: Option<(&str, String)>,
    ) {
        self.send_fork_invite_as(index, offer, authorization, Pending::ForkInvite(index));
    }

    /// `send_fork_invite`, its responses tagged `pending` (e.g. a transfer's consultation).
    pub fn send_fork_invite_as(
        &mut self,
        index: usize,
        offer: Bytes,
        authorization: Option<(&str, String)>,
        pending: Pending,
    ) {
        let endpoint = self.endpoint.clone();
        let fork = &mut self.forks[index];
        let Some(msg) = fork.invite(&endpoint, offer, authorization) else {
            return;
        };
        let peer = fork.dialog.peer;
        endpoint.subscribe(&fork.dialog.call_id, self.events.clone());
        let tag = self.track(pending);
        endpoint.send_request(msg, peer, self.events.clone(), tag);
    }

    /// A response to fork `index`'s INVITE.
    pub fn fork_response(&mut self, tag: u64, index: usize, msg: Message) {
        let status = msg.status().unwrap_or(500);
        if status >= 200 {
            self.pending.remove(&tag);
        }
        match status {
            100 => {}
            101..=199 => self.fork_provisional(index, &msg),
            200..=299 => self.fork_answered(index, &msg),
            401 | 407 if self.retry_with_credentials(index, &msg) => {}
            422 if self.retry_with_interval(index, &msg) => {}
            _ => self.fork_failed(index, status),
        }
    }

    /// The INVITE of fork `index` got no response at all.
    pub fn fork_failed(&mut self, index: usize, status: u16) {
        self.forks[index].state = ForkState::Failed(status);
        let setting_up = matches!(self.phase, Phase::Ringing | Phase::Dialing);
        let current = &self.forks[self.round..];
        if index < self.round || !setting_up || !current.iter().all(Fork::is_final) {
            return;
        }
        let statuses: Vec<u16> = current
            .iter()
            .filter_map(|f| match f.state {
                ForkState::Failed(s) => Some(s),
                _ => None,
            })
            .collect();
        let best = statuses
            .iter()
            .copied()
            .find(|s| *s >= 600)
            .or_else(|| statuses.iter().copied().find(|s| *s == 486))
            .or_else(|| statuses.iter().copied().find(|s| (400..500).contains(s)))
            .or_else(|| statuses.first().copied())
            .unwrap_or(480);
        // A callee that never answered at all looks like "not available" to the caller.
        let best = if best == 408 { 480 } else { best };
        if self.phase == Phase::Dialing {
            return self.dial_failed(&format!("{best} {}", reason_phrase(best)));
        }
        tracing::info!(status = best, "every fork failed");
        self.cdr.end(
            outcome_of(best),
            format!("{best} {}", reason_phrase(best)),
            Side::Callee,
        );
        self.respond_a(best, reason_phrase(best), None);
        self.ending();
    }

    fn fork_provisional(&mut self, index: usize, msg: &Message) {
        let fork = &mut self.forks[index];
        fork.state = ForkState::Ringing;
        if fork.cancel_due {
            fork.cancel_due = false;
            self.cancel_fork(index);
            return;
        }
        if index < self.round || self.phase != Phase::Ringing || self.a.final_sent {
            return;
        }
        if let Some(early) = sdp_of(msg).filter(|_| !self.a.early_media_sent) {
            self.early_media(&early);
        } else if !self.a.ringing_sent && !self.a.early_media_sent {
            self.a.ringing_sent = true;
            self.respond_a(180, "Ringing", None);
        }
    }

    /// A 183 with SDP from a fork: the caller hears the callee's early media (ring-back,
    /// announcements) through our ports; the 2xx answer later repeats the same SDP.
    fn early_media(&mut self, answer: &SessionDescription) {
        let Some(media) = self.media.as_ref() else {
            return;
        };
        let a_answer = anchored_answer(
            answer,
            &self.a.offer,
            media.local(relay::Side::A),
            &mut self.origin_a,
        );
        let (Some(a_answer), Some(remote)) = (a_answer, remote_audio(answer)) else {
            return;
        };
        media.set_remote(relay::Side::B, remote.rtp);
        codecs::apply(media, relay::Side::A, &a_answer);
        codecs::apply(media, relay::Side::B, answer);
        self.a.early_media_sent = true;
        self.respond_a(183, "Session Progress", Some(a_answer.to_string()));
    }

    fn fork_answered(&mut self, index: usize, msg: &Message) {
        let fork = &mut self.forks[index];
        let first_answer = fork.state != ForkState::Answered;
        fork.state = ForkState::Answered;
        if fork.dialog.confirm(msg).is_err() {
            tracing::warn!("unusable 2xx from a fork");
        }
        self.ack_fork(index, msg);
        if !first_answer {
            return;
        }
        let dialing = self.phase == Phase::Dialing && index >= self.round;
        if !dialing && (self.phase != Phase::Ringing || self.a.final_sent) {
            // Answered after another fork won or after a cancel: hang it up.
            self.bye(index);
            return;
        }
        let answer = sdp_of(msg);
        let (Some(answer), Some(media)) = (answer, self.media.as_ref()) else {
            self.bye(index);
            return self.fork_failed(index, 488);
        };
        if dialing {
            // The caller already has our answer: only the callee's side is set up.
            let Some(remote) = remote_audio(&answer) else {
                self.bye(index);
                return self.fork_failed(index, 488);
            };
            media.set_remote(relay::Side::B, remote.rtp);
            codecs::apply(media, relay::Side::B, &answer);
            return self.answer_caller(index, String::new(), msg);
        }
        let a_answer = anchored_answer(
            &answer,
            &self.a.offer,
            media.local(relay::Side::A),
            &mut self.origin_a,
        );
        let (Some(a_answer), Some(remote)) = (a_answer, remote_audio(&answer)) else {
            self.bye(index);
            return self.fork_failed(index, 488);
        };
        media.set_remote(relay::Side::B, remote.rtp);
        codecs::apply(media, relay::Side::A, &a_answer);
        codecs::apply(media, relay::Side::B, &answer);
        self.answer_caller(index, a_answer.to_string(), msg);
    }

    fn answer_caller(&mut self, winner: usize, sdp: String, answer: &Message) {
        for index in 0..self.forks.len() {
            if index != winner && !self.forks[index].is_final() {
                self.cancel_fork(index);
            }
        }
        self.core_bridged(winner, Some(answer));
        if self.phase == Phase::Dialing {
            return self.dial_connected(winner);
        }
        self.send_200(sdp);
        self.phase = Phase::Connected { winner };
        self.no_answer_at = None;
        self.cdr.answered();
        tracing::info!("answered");
    }

    /// RFC 4028 §7.3: after a 422, asks again with the callee's larger `Min-SE`.
    fn retry_with_interval(&mut self, index: usize, msg: &Message) -> bool {
        use super::core::session_timer::{parse_min_se, retry_after_422};
        let fork = &mut self.forks[index];
        let asked = fork
            .headers
            .iter()
            .find(|(name, _)| *name == "Session-Expires")
            .and_then(|(_, value)| value.parse().ok());
        let min_se = msg.header("Min-SE").and_then(parse_min_se);
        let Some(interval) = asked.and_then(|asked| retry_after_422(asked, min_se)) else {
            return false;
        };
        for (name, value) in &mut fork.headers {
            if *name == "Session-Expires" || *name == "Min-SE" {
                *value = interval.to_string();
            }
        }
        let offer = fork.offer.clone();
        self.send_fork_invite(index, offer, None);
        true
    }

    fn retry_with_credentials(&mut self, index: usize, msg: &Message) -> bool {
        let Some(answer) = self.forks[index].answer_challenge(msg) else {
            return false;
        };
        let offer = self.forks[index].offer.clone();
        self.send_fork_invite(index, offer, Some(answer));
        true
    }

    /// CANCELs every fork still ringing (or marks it to cancel at its first provisional).
    pub fn cancel_forks(&mut self) {
        for index in 0..self.forks.len() {
            if !self.forks[index].is_final() {
                self.cancel_fork(index);
            }
        }
    }

    /// CANCELs fork `index` (or marks it to cancel at its first provisional response).
    pub fn cancel_fork(&mut self, index: usize) {
        let fork = &mut self.forks[index];
        let peer = fork.dialog.peer;
        if let Some(cancel) = fork.cancel() {
            self.send(cancel, peer, Pending::Teardown);
        }
    }

    /// ACKs a 2xx of fork `index` (also used for retransmitted 2xx).
    pub fn ack_fork(&mut self, index: usize, response: &Message) {
        self.forks[index].ack(&self.endpoint, response);
    }

    /// Sends BYE on fork `index`.
    pub fn bye(&mut self, index: usize) {
        let dialog = &mut self.forks[index].dialog;
        let via = self.endpoint.via(dialog.peer.transport);
        let builder = dialog.request(&Method::Bye, &via);
        let peer = dialog.peer;
        self.send(builder, peer, Pending::Teardown);
    }

    /// A 2xx that matched no transaction: a retransmission; ACK it again.
    pub fn reack(&mut self, msg: &Message) {
        let call_id = msg.call_id().unwrap_or_default();
        let is_2xx = msg.status().is_some_and(|s| (200..300).contains(&s));
        if let Some(index) = self.forks.iter().position(|f| f.dialog.call_id == call_id)
            && is_2xx
        {
            self.ack_fork(index, msg);
        }
    }
}

fn outcome_of(status: u16) -> Outcome {
    match result_of_status(status) {
        "busy" => Outcome::Busy,
        "unavailable" => Outcome::Unavailable,
        "no_answer" => Outcome::NoAnswer,
        "cancelled" => Outcome::Cancelled,
        _ => Outcome::Failed,
    }
}

//! The call task's side of the sans-IO core (`calls::core`): it feeds the core what happened
//! on each leg and carries out what the core decides.
//!
//! Owns: `CoreLegs` (one `InviteDialog` per leg, the watchdog, our 2xx to the caller and the
//! last SDP sent on each leg for refresh re-INVITEs), the RFC 4028 headers we add, and the
//! translation of `core::Action`s into messages through the endpoint.
//! Must not touch: protocol decisions (when to retransmit, refresh, give up or end: those are
//! the core's). Driven by: `Call` (set-up, answer, in-dialog requests, timers, ending).

use std::time::Instant;

use bytes::Bytes;

use super::call::{Call, Leg, Pending, Phase};
use super::cdr::{Outcome, Side};
use super::core::session_timer::{
    UasDecision, names_timer, negotiate_uac, negotiate_uas, parse_min_se, parse_session_expires,
};
use super::core::{
    Action, EndCause, InviteDialog, Negotiated, Reason, Role, SessionTimerConfig, Timers, Watchdog,
    WatchdogConfig,
};
use crate::config::CallsSection;
use crate::media::relay;
use crate::sip::message::Message;
use crate::sip::method::Method;

/// The core state of a call's legs.
pub(super) struct CoreLegs {
    pub a: InviteDialog,
    pub b: Option<InviteDialog>,
    pub watchdog: Watchdog,
    pub session: SessionTimerConfig,
    /// The session interval agreed with the caller at its INVITE (started at our 2xx).
    pub a_session: Option<Negotiated>,
    /// Our 2xx to the caller's INVITE, for retransmission.
    pub a_2xx: Option<Message>,
    /// The last SDP we sent on each leg (a refresh re-INVITE repeats it).
    pub last_sdp: [Option<Bytes>; 2],
    /// The CSeq of the 2xx being ACKed (`Action::SendAck` after a refresh re-INVITE).
    ack_cseq: Option<u32>,
    timers: Timers,
}

/// What the caller's INVITE asks of session timers: a 422 to send, or the agreed interval.
pub(super) enum CallerTimer {
    TooSmall(u32),
    Agreed,
}

impl CoreLegs {
    pub fn new(limits: &CallsSection, t1: std::time::Duration) -> CoreLegs {
        let timers = Timers::with_t1(t1);
        CoreLegs {
            a: InviteDialog::new(Role::Uas, timers, rand::random()),
            b: None,
            watchdog: Watchdog::new(WatchdogConfig {
                rtp_timeout: limits.rtp_timeout(),
                max_duration: limits.max_duration(),
            }),
            session: SessionTimerConfig {
                enabled: limits.session_timers,
                session_expires: limits.session_expires_secs,
                min_se: limits.min_se_secs,
            },
            a_session: None,
            a_2xx: None,
            last_sdp: [None, None],
            ack_cseq: None,
            timers,
        }
    }

    /// RFC 4028 §9 for the caller's INVITE.
    pub fn caller_timer(&mut self, invite: &Message) -> CallerTimer {
        let requested = invite
            .header("Session-Expires")
            .and_then(parse_session_expires);
        let min_se = invite.header("Min-SE").and_then(parse_min_se);
        let supports = names_timer(invite.headers("Supported"));
        self.a.set_refresh_with_update(allows_update(invite));
        match negotiate_uas(&self.session, requested, min_se, supports) {
            UasDecision::TooSmall { min_se } => CallerTimer::TooSmall(min_se),
            UasDecision::Use(agreed) => {
                self.a_session = Some(agreed);
                CallerTimer::Agreed
            }
            UasDecision::Off => CallerTimer::Agreed,
        }
    }

    /// The headers our 2xx to the caller carries for its session timer.
    pub fn answer_headers(&self) -> Vec<(&'static str, String)> {
        let Some(agreed) = self.a_session else {
            return Vec::new();
        };
        let mut headers = vec![("Session-Expires", agreed.header_value())];
        if agreed.require {
            headers.push(("Require", "timer".to_owned()));
        }
        headers
    }

    /// The core of `leg`, once it exists.
    pub(super) fn leg(&mut self, leg: Leg) -> Option<&mut InviteDialog> {
        match leg {
            Leg::A => Some(&mut self.a),
            Leg::B => self.b.as_mut(),
        }
    }

    /// The earliest deadline of the legs and the watchdog, and why.
    pub fn poll_timeout(&self) -> Option<(Instant, Reason)> {
        [
            self.a.poll_timeout(),
            self.b.as_ref().and_then(InviteDialog::poll_timeout),
            self.watchdog.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| *at)
    }

    /// The call is ending: no leg needs anything from the core any more.
    pub fn stop(&mut self, now: Instant) {
        self.a.hang_up(now);
        if let Some(b) = self.b.as_mut() {
            b.hang_up(now);
        }
        self.watchdog.watch(now, 0, false);
        self.watchdog.watch(now, 1, false);
        self.watchdog = Watchdog::new(WatchdogConfig {
            rtp_timeout: None,
            max_duration: None,
        });
    }
}

/// Whether a message's `Allow` names UPDATE.
fn allows_update(msg: &Message) -> bool {
    msg.headers("Allow")
        .flat_map(|v| v.split(','))
        .any(|m| m.trim().eq_ignore_ascii_case("UPDATE"))
}

impl Call {
    /// Our 2xx to the caller went out: retransmit it until the ACK; the caller's session
    /// timer and the maximum duration start now.
    pub(super) fn core_answered(&mut self, response: Message, sdp: Bytes) {
        let now = Instant::now();
        self.core.a_2xx = Some(response);
        self.core.last_sdp[0] = Some(sdp);
        self.core.a.handle_2xx_sent(now);
        if let Some(agreed) = self.core.a_session {
            self.core.a.set_session_timer(now, agreed);
        }
        self.core.watchdog.handle_answered(now);
    }

    /// The caller and fork `winner` are bridged: the callee's leg joins the core (its session
    /// timer from its 2xx) and both legs' RTP is watched.
    /// Without `answer` (a transfer target re-INVITEd onto the call), no session timer.
    pub(super) fn core_bridged(&mut self, winner: usize, answer: Option<&Message>) {
        let now = Instant::now();
        let mut b = InviteDialog::new(Role::Uac, self.core.timers, rand::random());
        b.handle_2xx_received(now);
        while b.poll_action().is_some() {}
        if let Some(answer) = answer {
            b.set_refresh_with_update(allows_update(answer));
            let in_2xx = answer
                .header("Session-Expires")
                .and_then(parse_session_expires);
            if let Some(agreed) = negotiate_uac(in_2xx).filter(|_| self.core.session.enabled) {
                b.set_session_timer(now, agreed);
            }
        }
        self.core.b = Some(b);
        self.core.last_sdp[1] = Some(self.forks[winner].offer.clone());
        if self.queued.is_none()
            && let Some(user) = super::phone_busy::user_of(&self.forks[winner].dialog.remote_uri)
        {
            let user = user.to_owned();
            self.phones.mark(&user);
        }
        self.core.watchdog.handle_answered(now);
        self.core.watchdog.handle_hold(now, 0, false);
        self.core.watchdog.handle_hold(now, 1, false);
        self.core.watchdog.watch(now, 0, true);
        self.core.watchdog.watch(now, 1, true);
    }

    /// A leg was put on hold or taken off it (API hold, or a re-INVITE's direction).
    pub(super) fn core_hold(&mut self, leg: Leg, held: bool) {
        let index = leg_index(leg);
        self.core.watchdog.handle_hold(Instant::now(), index, held);
    }

    /// Acts on every core deadline due at `now`.
    pub(super) fn core_timer(&mut self, now: Instant) {
        if self.core.watchdog.wants_rtp()
            && let Some(media) = self.media.as_ref()
        {
            let stats = media.stats();
            for (index, side) in [(0, relay::Side::A), (1, relay::Side::B)] {
                let packets = stats.side(side).packets_in;
                self.core.watchdog.handle_rtp_count(now, index, packets);
            }
        }
        if let Some((at, reason)) = self.core.poll_timeout()
            && at <= now
        {
            tracing::debug!(%reason, "call core deadline");
        }
        self.core.a.handle_timeout(now);
        if let Some(b) = self.core.b.as_mut() {
            b.handle_timeout(now);
        }
        if let Some(cause) = self.core.watchdog.handle_timeout(now) {
            self.end_for(cause);
        }
        self.core_drain();
    }

    /// Carries out what the core decided, leg by leg.
    pub(super) fn core_drain(&mut self) {
        for leg in [Leg::A, Leg::B] {
            while let Some(action) = self.core.leg(leg).and_then(InviteDialog::poll_action) {
                self.core_act(leg, action);
            }
        }
    }

    fn core_act(&mut self, leg: Leg, action: Action) {
        match action {
            Action::Retransmit2xx => {
                if let Some(response) = &self.core.a_2xx {
                    self.endpoint.send_stateless(response, self.a.dialog.peer);
                }
            }
            Action::Bye(Some(cause)) => self.end_for(cause),
            Action::Bye(None) => {}
            Action::SendAck => self.core_ack(leg),
            Action::Refresh { update } => self.send_refresh(leg, update),
            Action::RetryReinvite => {}
        }
    }

    /// Ends the call for a reason the core found: BYE to every answered leg.
    pub(super) fn end_for(&mut self, cause: EndCause) {
        if self.phase == Phase::Ending || self.phase == Phase::Done {
            return;
        }
        tracing::warn!(%cause, "ending the call");
        let outcome = if cause == EndCause::NoAck {
            Outcome::Failed
        } else {
            Outcome::Answered
        };
        if matches!(self.phase, Phase::Connected { .. }) {
            self.drop_consultation();
            self.hang_up_both(outcome, cause.as_str());
        } else {
            self.cdr.end(outcome, cause.as_str(), Side::System);
            self.cancel_forks();
            self.hang_up_caller();
        }
    }

    /// A session refresh on `leg`: UPDATE without a body, or a re-INVITE repeating our SDP.
    fn send_refresh(&mut self, leg: Leg, update: bool) {
        let Some(interval) = self
            .core
            .leg(leg)
            .and_then(|d| d.session_timer().map(|t| t.interval_secs()))
        else {
            return;
        };
        let expires = format!("{interval};refresher=uac");
        let headers = [
            ("Session-Expires", expires.as_str()),
            ("Supported", "timer"),
        ];
        let body = if update {
            None
        } else {
            self.core.last_sdp[leg_index(leg)]
                .clone()
                .map(|sdp| ("application/sdp".to_owned(), sdp))
        };
        let method = if update {
            Method::Update
        } else {
            Method::Invite
        };
        tracing::debug!(?leg, %method, "session refresh");
        self.send_in_dialog_with(leg, &method, &headers, body, Pending::Refresh(leg));
    }

    /// The response to a refresh (or a relayed re-INVITE) we sent on `leg`; `cseq` is the
    /// response's, for the ACK of a 2xx.
    pub(super) fn core_reinvite_response(&mut self, leg: Leg, status: Option<u16>) {
        self.core_reinvite_response_to(leg, status, None);
    }

    /// `core_reinvite_response` with the response's CSeq number.
    pub(super) fn core_reinvite_response_to(
        &mut self,
        leg: Leg,
        status: Option<u16>,
        cseq: Option<u32>,
    ) {
        self.core.ack_cseq = cseq;
        if let Some(dialog) = self.core.leg(leg) {
            dialog.handle_reinvite_response(Instant::now(), status);
        }
        self.core_drain();
    }

    /// The ACK of a 2xx to our refresh re-INVITE on `leg`.
    fn core_ack(&mut self, leg: Leg) {
        let dialog = self.dialog_of(leg).clone();
        let via = self.endpoint.via(dialog.peer.transport);
        let cseq = self.core.ack_cseq.take().unwrap_or(dialog.local_seq);
        if let Ok(ack) = dialog.ack(cseq, &via).build_message() {
            self.endpoint.send_stateless(&ack, dialog.peer);
        }
    }
}

/// The watchdog's index of `leg`.
pub(super) fn leg_index(leg: Leg) -> usize {
    match leg {
        Leg::A => 0,
        Leg::B => 1,
    }
}

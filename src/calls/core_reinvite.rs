//! The call task's side of the core for re-INVITEs and UPDATEs inside a dialog: whether one
//! from a leg may be handled now (else 491, 500 or 481), whether one may be relayed onto the
//! other leg, and the RFC 4028 headers of our answers to session refreshes.
//!
//! Owns: nothing of its own (it feeds `CoreLegs` and reads it back). Must not touch: the SDP
//! relay itself (`calls::bridge`). Driven by: `Call::in_dialog_request` and the re-INVITE
//! relay in `calls::bridge`.

use std::time::Instant;

use super::call::{Call, Leg};
use super::core::session_timer::parse_session_expires;
use super::core::{InviteDialog, Purpose};
use crate::sip::message::Message;

impl Call {
    /// A re-INVITE from `leg` may be handled now (else answered 491, 500 or 481 here).
    pub(super) fn core_accepts_reinvite(
        &mut self,
        leg: Leg,
        msg: &Message,
        txn: crate::sip::endpoint::ServerTxn,
    ) -> bool {
        use super::core::ReinviteAnswer;
        use crate::sip::message::MessageBuilder;
        let now = Instant::now();
        let Some(dialog) = self.core.leg(leg) else {
            return true;
        };
        let (status, reason) = match dialog.handle_reinvite(now) {
            ReinviteAnswer::Accept => return true,
            ReinviteAnswer::Glare => (491, "Request Pending"),
            ReinviteAnswer::Pending => (500, "Server Internal Error"),
            ReinviteAnswer::NoDialog => (481, "Call/Transaction Does Not Exist"),
        };
        let mut response = MessageBuilder::response_to(msg, status, reason, None);
        if status == 500 {
            response = response.header("Retry-After", "1");
        }
        self.endpoint.reply(txn, response);
        false
    }

    /// A re-INVITE relayed onto `leg` may go out now (none of ours is in progress there).
    pub(super) fn core_relay_starts(&mut self, leg: Leg) -> bool {
        let now = Instant::now();
        self.core
            .leg(leg)
            .is_none_or(|d| d.start_reinvite(now, Purpose::Relay))
    }

    /// We answered a re-INVITE from `leg` with `status`; the request's `Session-Expires` (if
    /// any) is the new interval. Returns the headers the 2xx carries for the session timer.
    pub(super) fn core_reinvite_answered(
        &mut self,
        leg: Leg,
        request: &Message,
        status: u16,
    ) -> Vec<(&'static str, String)> {
        let interval = request
            .header("Session-Expires")
            .and_then(parse_session_expires)
            .map(|se| se.delta);
        let Some(dialog) = self.core.leg(leg) else {
            return Vec::new();
        };
        dialog.handle_reinvite_answered(Instant::now(), status, interval);
        refresh_answer_headers(dialog, interval)
    }

    /// An UPDATE without a body from `leg`: a session refresh, answered here. Returns the
    /// headers of our 200.
    pub(super) fn core_update_refresh(
        &mut self,
        leg: Leg,
        request: &Message,
    ) -> Vec<(&'static str, String)> {
        let interval = request
            .header("Session-Expires")
            .and_then(parse_session_expires)
            .map(|se| se.delta);
        let Some(dialog) = self.core.leg(leg) else {
            return Vec::new();
        };
        dialog.handle_update_refresh(Instant::now(), interval);
        refresh_answer_headers(dialog, interval)
    }
}

/// The 2xx to a refresh that named an interval repeats it, the sender refreshing.
fn refresh_answer_headers(
    dialog: &InviteDialog,
    interval: Option<u32>,
) -> Vec<(&'static str, String)> {
    match (interval, dialog.session_timer()) {
        (Some(_), Some(timer)) => vec![
            (
                "Session-Expires",
                format!("{};refresher=uac", timer.interval_secs()),
            ),
            ("Require", "timer".to_owned()),
        ],
        _ => Vec::new(),
    }
}

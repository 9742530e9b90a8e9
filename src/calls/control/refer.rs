//! Blind transfer from the agent's phone: a REFER (RFC 3515) on the answered callee's dialog.
//! Centrala answers 202 Accepted, reports the outcome at once with a final NOTIFY (`Event:
//! refer`, `message/sipfrag` body `SIP/2.0 200 OK`, subscription terminated: the PBX carries
//! the transfer out itself) and then does what `POST /api/v1/calls/{id}/transfer` does for a
//! blind transfer: BYE the agent, ring-back to the caller, bridge on answer.
//!
//! Refused: a REFER from the caller's side (501: only the callee's side transfers the
//! caller), one with `Replaces` (attended transfer from the phone; 501), an unreadable
//! `Refer-To` (400), an unknown queue (404), and a target that cannot be reached now or a
//! REFER while a transfer runs (403 with the reason; the same checks as the API's).
//!
//! Owns: the REFER's response and NOTIFY. Driven by: `Call::in_dialog_request` (bridge.rs).

use bytes::Bytes;

use super::ControlError;
use super::rules::{TransferMode, TransferTarget};
use crate::calls::call::{Call, Leg, Pending};
use crate::sip::endpoint::ServerTxn;
use crate::sip::message::{Message, MessageBuilder, NameAddr, unescape};
use crate::sip::method::Method;

impl Call {
    /// A REFER inside the dialog of `leg` while connected.
    pub(in crate::calls) fn refer(&mut self, leg: Leg, msg: Message, txn: ServerTxn) {
        let refuse = |status: u16, reason: &str| (status, reason.to_owned());
        let target = match (leg, refer_target(&msg)) {
            (Leg::A, _) => Err(refuse(501, "Transfer Only From The Callee's Side")),
            (_, Err(refusal)) => Err(refusal),
            (Leg::B, Ok(number)) => {
                let extensions = self.control.as_ref().map(|c| c.services.extensions.clone());
                let is_extension = |n: &str| extensions.as_ref().is_some_and(|e| e.contains(n));
                TransferTarget::parse(&number, is_extension)
                    .map_err(|_| refuse(400, "Bad Refer-To"))
            }
        };
        let target = match target {
            Ok(target) => target,
            Err((status, reason)) => {
                let response = MessageBuilder::response_to(&msg, status, &reason, None);
                return self.endpoint.reply(txn, response);
            }
        };
        let (agent, resolved) = match self.check_transfer(&target, TransferMode::Blind, None) {
            Ok(checked) => checked,
            Err(err) => {
                tracing::info!(%err, "REFER refused");
                let status = match err {
                    ControlError::InvalidTarget(_) => 404,
                    _ => 403,
                };
                let response = MessageBuilder::response_to(&msg, status, &err.to_string(), None);
                return self.endpoint.reply(txn, response);
            }
        };
        tracing::info!(target = %target.describe(), "REFER from the agent's phone");
        self.endpoint.reply(
            txn,
            MessageBuilder::response_to(&msg, 202, "Accepted", None),
        );
        self.notify_refer("SIP/2.0 200 OK\r\n");
        self.blind_transfer(agent, target, resolved);
    }

    /// The final NOTIFY of the implicit refer subscription (RFC 3515 2.4.4): the PBX carries
    /// the transfer out itself, so the transferor is done.
    fn notify_refer(&mut self, sipfrag: &str) {
        let headers = [
            ("Event", "refer"),
            ("Subscription-State", "terminated;reason=noresource"),
        ];
        let body = Some((
            "message/sipfrag;version=2.0".to_owned(),
            Bytes::from(sipfrag.to_owned()),
        ));
        self.send_in_dialog_with(Leg::B, &Method::Notify, &headers, body, Pending::Teardown);
    }
}

/// The user part of a REFER's `Refer-To`, or the refusal (status, reason).
fn refer_target(msg: &Message) -> Result<String, (u16, String)> {
    let bad = || (400, "Bad Refer-To".to_owned());
    let value = msg
        .header("Refer-To")
        .or_else(|| msg.header("r"))
        .ok_or_else(bad)?;
    if value.contains("Replaces") || value.contains("replaces") {
        return Err((
            501,
            "Attended Transfer From The Phone Not Supported".to_owned(),
        ));
    }
    let name_addr = NameAddr::parse(value).map_err(|_| bad())?;
    let uri = name_addr.uri().map_err(|_| bad())?;
    let user = uri.user.ok_or_else(bad)?;
    let user = unescape(user);
    let number = user.split(';').next().unwrap_or_default();
    if number.is_empty() {
        return Err(bad());
    }
    Ok(number.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refer(refer_to: &str) -> Message {
        let text = format!(
            "REFER sip:centrala@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:1002@pbx>;tag=a\r\nTo: <sip:1001@pbx>;tag=b\r\nCall-ID: c1\r\n\
             CSeq: 1 REFER\r\nContact: <sip:1002@127.0.0.1:5070>\r\n{refer_to}Content-Length: 0\r\n\r\n"
        );
        Message::parse(Bytes::from(text), true).expect("a valid REFER")
    }

    #[test]
    fn the_refer_to_user_is_the_target() {
        let target = |header: &str| refer_target(&refer(header));
        assert_eq!(target("Refer-To: <sip:1003@pbx>\r\n"), Ok("1003".into()));
        assert_eq!(target("Refer-To: sip:%2B4822@pbx\r\n"), Ok("+4822".into()));
        assert_eq!(
            target("Refer-To: \"Sales\" <sip:1003;x=1@pbx>\r\n"),
            Ok("1003".into())
        );
        assert_eq!(target("").map_err(|e| e.0), Err(400), "no Refer-To");
        assert_eq!(target("Refer-To: <sip:pbx>\r\n").map_err(|e| e.0), Err(400));
        let replaces = "Refer-To: <sip:1003@pbx?Replaces=abc%3Bto-tag%3Dx>\r\n";
        assert_eq!(target(replaces).map_err(|e| e.0), Err(501));
    }
}

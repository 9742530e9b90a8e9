//! SIP dialogs (RFC 3261 section 12): the state two user agents share after an INVITE, and
//! the construction of requests inside it.
//!
//! Owns: tags, local and remote CSeq, the remote target, the route set, and the peer address
//! requests go to.
//! Must not touch: sockets, clocks, transactions (it builds messages; the owner sends them).
//! Driven by: call tasks in `calls`, which keep one `Dialog` per leg.
//!
//! The peer address is where the other side's messages come from (its REGISTER source for a
//! phone we call, the INVITE source for a caller), not the host in its Contact: phones behind
//! NAT are reachable only there (symmetric signalling, as RFC 3581 does for responses).

use thiserror::Error;

use crate::sip::message::{Message, MessageBuilder};
use crate::sip::method::Method;
use crate::sip::peer::Peer;

/// A message could not start or confirm a dialog.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogError {
    /// A header needed by the dialog is missing or malformed (the peer's fault).
    #[error("cannot form a dialog: {0}")]
    Malformed(&'static str),
}

/// One dialog, seen from our side.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// Their tag (none while an INVITE we sent is unanswered).
    pub remote_tag: Option<String>,
    /// Our URI as it appears in From (UAC) or To (UAS), without the tag.
    pub local_uri: String,
    /// Their URI, without the tag.
    pub remote_uri: String,
    /// CSeq of the last request we sent.
    pub local_seq: u32,
    /// CSeq of the last request they sent.
    pub remote_seq: Option<u32>,
    /// Request-URI for our requests (their Contact).
    pub remote_target: String,
    /// Route header values for our requests, in order.
    pub route_set: Vec<String>,
    /// Where our requests go.
    pub peer: Peer,
}

impl Dialog {
    /// The dialog of an INVITE we received (we are the UAS), with our new `local_tag`.
    pub fn uas(invite: &Message, local_tag: &str, peer: Peer) -> Result<Dialog, DialogError> {
        let from = invite.from().map_err(|_| DialogError::Malformed("From"))?;
        let to = invite.to().map_err(|_| DialogError::Malformed("To"))?;
        let cseq = invite.cseq().map_err(|_| DialogError::Malformed("CSeq"))?;
        let target = first_contact(invite)
            .or_else(|| invite.request_uri().map(str::to_owned))
            .ok_or(DialogError::Malformed("Contact"))?;
        let route_set = invite
            .record_routes()
            .map_err(|_| DialogError::Malformed("Record-Route"))?
            .iter()
            .map(|r| format!("<{}>{}", r.uri, params_suffix(r.params.as_str())))
            .collect();
        Ok(Dialog {
            call_id: invite
                .call_id()
                .map_err(|_| DialogError::Malformed("Call-ID"))?
                .to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag: from.tag().map(str::to_owned),
            local_uri: without_tag(to.display, to.uri, to.params.as_str()),
            remote_uri: without_tag(from.display, from.uri, from.params.as_str()),
            local_seq: 0,
            remote_seq: Some(cseq.seq),
            remote_target: target,
            route_set,
            peer,
        })
    }

    /// A dialog we start by sending an INVITE to `request_uri` (we are the UAC).
    pub fn uac(
        call_id: String,
        local_uri: String,
        remote_uri: String,
        request_uri: String,
        peer: Peer,
    ) -> Dialog {
        Dialog {
            call_id,
            local_tag: crate::sip::endpoint::new_tag(),
            remote_tag: None,
            local_uri,
            remote_uri,
            local_seq: 0,
            remote_seq: None,
            remote_target: request_uri,
            route_set: Vec::new(),
            peer,
        }
    }

    /// Takes the remote tag, target and route set from a response to our INVITE (1xx with a
    /// tag or 2xx). The route set is the Record-Route reversed (RFC 3261 12.1.2).
    pub fn confirm(&mut self, response: &Message) -> Result<(), DialogError> {
        let to = response.to().map_err(|_| DialogError::Malformed("To"))?;
        self.remote_tag = to.tag().map(str::to_owned);
        if let Some(target) = first_contact(response) {
            self.remote_target = target;
        }
        let mut routes: Vec<String> = response
            .record_routes()
            .map_err(|_| DialogError::Malformed("Record-Route"))?
            .iter()
            .map(|r| format!("<{}>{}", r.uri, params_suffix(r.params.as_str())))
            .collect();
        routes.reverse();
        self.route_set = routes;
        Ok(())
    }

    /// Accepts a request from the other side if its CSeq is higher than the last one
    /// (RFC 3261 12.2.2); ACK and CANCEL reuse their INVITE's number and always pass.
    pub fn accept_remote_cseq(&mut self, request: &Message) -> bool {
        let Ok(cseq) = request.cseq() else {
            return false;
        };
        if matches!(cseq.method, Method::Ack | Method::Cancel) {
            return true;
        }
        if self.remote_seq.is_some_and(|last| cseq.seq <= last) {
            return false;
        }
        self.remote_seq = Some(cseq.seq);
        true
    }

    /// A new request in this dialog with the next CSeq and the given top `via`.
    pub fn request(&mut self, method: &Method, via: &str) -> MessageBuilder {
        self.local_seq += 1;
        self.request_with_cseq(method, self.local_seq, via)
    }

    /// The ACK for a 2xx to our INVITE numbered `cseq` (its own transaction-less request).
    pub fn ack(&self, cseq: u32, via: &str) -> MessageBuilder {
        self.request_with_cseq(&Method::Ack, cseq, via)
    }

    /// The From header value of our requests.
    pub fn from_header(&self) -> String {
        format!("{};tag={}", self.local_uri, self.local_tag)
    }

    /// The To header value of our requests.
    pub fn to_header(&self) -> String {
        match &self.remote_tag {
            Some(tag) => format!("{};tag={tag}", self.remote_uri),
            None => self.remote_uri.clone(),
        }
    }

    fn request_with_cseq(&self, method: &Method, cseq: u32, via: &str) -> MessageBuilder {
        let mut builder = MessageBuilder::request(method, &self.remote_target)
            .header("Via", via)
            .header("Max-Forwards", 70);
        for route in &self.route_set {
            builder = builder.header("Route", route);
        }
        builder
            .header("From", self.from_header())
            .header("To", self.to_header())
            .header("Call-ID", &self.call_id)
            .header("CSeq", format!("{cseq} {method}"))
    }
}

fn first_contact(msg: &Message) -> Option<String> {
    match msg.contacts().ok()? {
        crate::sip::message::Contacts::List(list) => list.first().map(|c| c.uri.to_owned()),
        crate::sip::message::Contacts::Star => None,
    }
}

/// `display <uri>;params` minus a `tag` parameter.
fn without_tag(display: Option<&str>, uri: &str, params: &str) -> String {
    let kept: String = params
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.to_ascii_lowercase().starts_with("tag="))
        .map(|p| format!(";{p}"))
        .collect();
    match display {
        Some(name) if !name.is_empty() => format!("{name} <{uri}>{kept}"),
        _ => format!("<{uri}>{kept}"),
    }
}

fn params_suffix(params: &str) -> String {
    let trimmed = params.trim();
    if trimmed.is_empty() || trimmed.starts_with(';') {
        trimmed.to_owned()
    } else {
        format!(";{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn parse(text: &str) -> Message {
        Message::parse(Bytes::from(text.replace('\n', "\r\n")), true).unwrap()
    }

    const INVITE: &str = "INVITE sip:1002@pbx SIP/2.0\n\
Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\n\
Record-Route: <sip:p1;lr>\n\
From: \"Anna\" <sip:1001@pbx>;tag=a1\n\
To: <sip:1002@pbx>\n\
Call-ID: c1@h\n\
CSeq: 5 INVITE\n\
Contact: <sip:1001@10.0.0.1:5062>\n\
Content-Length: 0\n\n";

    #[test]
    fn uas_dialog_takes_the_callers_side() {
        let peer = Peer::udp("10.0.0.1:5062".parse().unwrap());
        let mut dialog = Dialog::uas(&parse(INVITE), "b2", peer).unwrap();
        assert_eq!(dialog.remote_tag.as_deref(), Some("a1"));
        assert_eq!(dialog.remote_target, "sip:1001@10.0.0.1:5062");
        assert_eq!(dialog.route_set, vec!["<sip:p1;lr>".to_string()]);
        let bye = Message::parse(
            dialog
                .request(&Method::Bye, "SIP/2.0/UDP me;branch=z9hG4bKx")
                .build(),
            true,
        )
        .unwrap();
        assert_eq!(bye.request_uri(), Some("sip:1001@10.0.0.1:5062"));
        assert_eq!(bye.from().unwrap().tag(), Some("b2"));
        assert_eq!(bye.to().unwrap().tag(), Some("a1"));
        assert_eq!(bye.cseq().unwrap().seq, 1);
        assert_eq!(bye.routes().unwrap()[0].uri, "sip:p1;lr");
    }

    #[test]
    fn remote_cseq_must_grow() {
        let peer = Peer::udp("10.0.0.1:5062".parse().unwrap());
        let mut dialog = Dialog::uas(&parse(INVITE), "b2", peer).unwrap();
        let bye = parse(
            &INVITE
                .replace("INVITE sip", "BYE sip")
                .replace("5 INVITE", "6 BYE"),
        );
        assert!(dialog.accept_remote_cseq(&bye));
        assert!(!dialog.accept_remote_cseq(&bye));
    }
}

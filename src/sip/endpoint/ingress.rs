//! The front door: every received message is parsed and checked here before a shard sees it.
//! Refusals that need no transaction (malformed requests, 416/420/483, load shedding with 503)
//! are answered statelessly.

use bytes::Bytes;
use tokio::sync::mpsc::error::TrySendError;

use super::shard::ShardInput;
use super::{Endpoint, SERVER, SUPPORTED, new_tag};
use crate::sip::message::{
    Message, MessageBuilder, Rejection, validate_request, via_with_received,
};
use crate::sip::method::Method;
use crate::sip::peer::Peer;

pub(super) fn receive(endpoint: &Endpoint, bytes: Bytes, from: Peer, datagram: bool) {
    let metrics = &endpoint.inner.metrics;
    metrics.sip_message("in");
    let bytes_for_reply = bytes.clone();
    let msg = match Message::parse(bytes, datagram) {
        Ok(msg) => msg,
        Err(err) => {
            metrics.sip_parse_errors.inc();
            tracing::debug!(%err, %from, "unparsable SIP message");
            if let Some(response) = bad_request(&bytes_for_reply, &err.to_string()) {
                metrics.sip_message("out");
                endpoint.inner.transport.send(from, response);
            }
            return;
        }
    };
    let msg = if msg.is_request() {
        stamp_received(msg, from)
    } else {
        msg
    };
    if msg.is_request() {
        if let Err(rejection) = validate_request(&msg, SUPPORTED) {
            metrics.sip_parse_errors.inc();
            tracing::debug!(status = rejection.status, reason = %rejection.reason, %from, "refusing request");
            if msg.method() != Some(&Method::Ack) {
                let response = refusal(&msg, &rejection);
                metrics.sip_message("out");
                endpoint.inner.transport.send(from, response);
            }
            return;
        }
    } else if msg.top_via().is_err() || msg.cseq().is_err() || msg.call_id().is_err() {
        metrics.sip_parse_errors.inc();
        tracing::debug!(%from, "dropping malformed response");
        return;
    }
    let shard = endpoint.shard_of_message(&msg);
    match endpoint.inner.shards[shard].try_send(ShardInput::Incoming { msg, from }) {
        Ok(()) | Err(TrySendError::Closed(_)) => {}
        Err(TrySendError::Full(ShardInput::Incoming { msg, from })) => shed(endpoint, &msg, from),
        Err(TrySendError::Full(_)) => {}
    }
}

/// A shard is overloaded: refuse new requests with 503 and Retry-After so that well-behaved
/// peers back off; responses and ACKs are dropped (their senders retransmit).
fn shed(endpoint: &Endpoint, msg: &Message, from: Peer) {
    endpoint.inner.metrics.sip_load_shed.inc();
    if !msg.is_request() || msg.method() == Some(&Method::Ack) {
        return;
    }
    let response = MessageBuilder::response_to(msg, 503, "Service Unavailable", None)
        .header("Retry-After", 1)
        .build();
    endpoint.inner.transport.send(from, response);
}

/// The response to a request refused by `validate_request`; a 420 lists the option-tags we
/// do not support (RFC 3261 8.2.2.3).
fn refusal(msg: &Message, rejection: &Rejection) -> Bytes {
    let mut builder =
        MessageBuilder::response_to(msg, rejection.status, &rejection.reason, Some(&new_tag()))
            .header("Server", SERVER);
    if !rejection.unsupported.is_empty() {
        builder = builder.header("Unsupported", rejection.unsupported.join(", "));
    }
    builder.build()
}

/// RFC 3581 and RFC 3261 18.2.1: adds `received` (and the `rport` value) to the top Via of a
/// request, so that every response built from it carries them. The top Via is replaced in a
/// copy of the buffer without parsing it again; a folded Via is left alone.
fn stamp_received(msg: Message, from: Peer) -> Message {
    let Some(top) = msg.top_via_text() else {
        return msg;
    };
    let stamped = via_with_received(top, from.addr);
    if stamped == top {
        return msg;
    }
    msg.with_top_via(&stamped).unwrap_or(msg)
}

/// RFC 3261 8.2 for a request the parser refused: when the head still shows a request with
/// Via, From, To, Call-ID and CSeq lines, answer 400 with those copied, so the sender learns
/// why instead of retransmitting into silence. Responses and unreadable heads get nothing.
fn bad_request(bytes: &[u8], why: &str) -> Option<Bytes> {
    let head_end = memchr::memmem::find(bytes, b"\r\n\r\n").unwrap_or(bytes.len());
    let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let start = lines.next()?;
    if start.starts_with("SIP/") || !start.ends_with("SIP/2.0") || start.starts_with("ACK ") {
        return None;
    }
    let mut copied = Vec::new();
    for line in lines {
        // A line without a colon is the damage itself; the lines we copy may still be fine.
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let canonical = match name.trim().to_ascii_lowercase().as_str() {
            "via" | "v" => "Via",
            "from" | "f" => "From",
            "to" | "t" => "To",
            "call-id" | "i" => "Call-ID",
            "cseq" => "CSeq",
            _ => continue,
        };
        copied.push((canonical, value.trim()));
    }
    for needed in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if !copied.iter().any(|(name, _)| *name == needed) {
            return None;
        }
    }
    let reason: String = format!("Bad Request ({why})")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let mut builder = MessageBuilder::response(400, &reason);
    for (name, value) in copied {
        builder = builder.header(name, value);
    }
    Some(builder.header("Server", SERVER).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsable_requests_get_400_with_their_headers() {
        let bytes = b"INVITE sip:1002@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK7\r\n\
From: <sip:1001@pbx>;tag=1\r\nTo: <sip:1002@pbx>\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\n\
Content-Length: 9999\r\n\r\nshort";
        let err = Message::parse(Bytes::from_static(bytes), true).unwrap_err();
        let response = bad_request(bytes, &err.to_string()).expect("a 400");
        let response = Message::parse(response, true).unwrap();
        assert_eq!(response.status(), Some(400));
        assert_eq!(response.top_via().unwrap().branch(), Some("z9hG4bK7"));
        assert_eq!(response.call_id().unwrap(), "x@y");
    }

    #[test]
    fn a_header_line_without_a_colon_still_gets_400() {
        let bytes = b"REGISTER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK8\r\n\
From: <sip:1001@pbx>;tag=1\r\nTo: <sip:1001@pbx>\r\nCall-ID: r@y\r\nCSeq: 2 REGISTER\r\n\
1001[authentication username= password=x]\r\nContent-Length: 0\r\n\r\n";
        let err = Message::parse(Bytes::from_static(bytes), true).unwrap_err();
        let response = bad_request(bytes, &err.to_string()).expect("a 400");
        let response = Message::parse(response, true).unwrap();
        assert_eq!(response.status(), Some(400));
        assert_eq!(response.call_id().unwrap(), "r@y");
    }

    #[test]
    fn responses_and_headless_garbage_get_nothing() {
        assert!(bad_request(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", "x").is_none());
        assert!(bad_request(b"\x00\x01garbage", "x").is_none());
        assert!(bad_request(b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", "x").is_none());
    }
}

//! Printing outgoing messages: `MessageBuilder`, default reason phrases and the ACK for a
//! non-2xx final response (RFC 3261 17.1.1.3).
//!
//! Owns: the wire layout of what we send (start line, headers in insertion order, an always
//! present Content-Length, blank line, body). Must not touch: sockets or transaction state.

use std::fmt::{self, Write as _};

use bytes::Bytes;

use crate::sip::message::header::split_list;
use crate::sip::message::{Message, Method};

/// Builder/printer for outgoing messages.
#[derive(Clone, Debug)]
pub struct MessageBuilder {
    start_line: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Bytes)>,
}

impl MessageBuilder {
    /// A request with the given method and Request-URI.
    pub fn request(method: &Method, uri: &str) -> MessageBuilder {
        MessageBuilder::with_start_line(format!("{method} {uri} SIP/2.0"))
    }

    /// A response with the given status and reason phrase.
    pub fn response(status: u16, reason: &str) -> MessageBuilder {
        MessageBuilder::with_start_line(format!("SIP/2.0 {status} {reason}"))
    }

    /// A response to `req`: copies every Via (in order), From, To, Call-ID and CSeq (RFC 3261
    /// 8.2.6). If `to_tag` is Some and the To has no tag, appends `;tag=...` to To.
    pub fn response_to(
        req: &Message,
        status: u16,
        reason: &str,
        to_tag: Option<&str>,
    ) -> MessageBuilder {
        let mut builder = MessageBuilder::response(status, reason);
        for via in req.headers("Via") {
            builder = builder.header("Via", via);
        }
        if let Some(from) = req.header("From") {
            builder = builder.header("From", from);
        }
        if let Some(to) = req.header("To") {
            let has_tag = req.to().map(|t| t.tag().is_some()).unwrap_or(true);
            builder = match to_tag {
                Some(tag) if !has_tag => builder.header("To", format_args!("{to};tag={tag}")),
                _ => builder.header("To", to),
            };
        }
        for name in ["Call-ID", "CSeq"] {
            if let Some(value) = req.header(name) {
                builder = builder.header(name, value);
            }
        }
        builder
    }

    /// Appends a header (headers are printed in the order they were added).
    pub fn header(mut self, name: &str, value: impl fmt::Display) -> MessageBuilder {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: Bytes) -> MessageBuilder {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    /// Prints start line, headers, Content-Type (with a body), Content-Length (always; 0 when
    /// no body), blank line, body.
    pub fn build(self) -> Bytes {
        let body_len = self.body.as_ref().map_or(0, |(_, b)| b.len());
        let mut head = String::with_capacity(256 + self.headers.len() * 48);
        head.push_str(&self.start_line);
        head.push_str("\r\n");
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if let Some((content_type, _)) = &self.body {
            let _ = write!(head, "Content-Type: {content_type}\r\n");
        }
        let _ = write!(head, "Content-Length: {body_len}\r\n\r\n");
        let mut out = head.into_bytes();
        if let Some((_, body)) = &self.body {
            out.extend_from_slice(body);
        }
        Bytes::from(out)
    }

    fn with_start_line(start_line: String) -> MessageBuilder {
        MessageBuilder {
            start_line,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// Default reason phrase for a status code (RFC 3261 section 21 and common extensions);
/// the class name for unknown codes.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => class_phrase(status),
    }
}

fn class_phrase(status: u16) -> &'static str {
    match status / 100 {
        1 => "Provisional",
        2 => "Success",
        3 => "Redirection",
        4 => "Client Error",
        5 => "Server Error",
        _ => "Global Failure",
    }
}

/// Builds the ACK for a non-2xx final response to `invite` (RFC 3261 17.1.1.3): same
/// Request-URI, Call-ID, From, CSeq number (method ACK), top Via only, To from the response,
/// Route from the INVITE, Max-Forwards 70, Content-Length 0. Returns None if either message
/// does not parse, lacks one of those headers, or the response is not a final non-2xx one.
pub fn build_non2xx_ack(invite: &[u8], response: &[u8]) -> Option<Bytes> {
    let invite = Message::parse(Bytes::copy_from_slice(invite), true).ok()?;
    let response = Message::parse(Bytes::copy_from_slice(response), true).ok()?;
    if response.status()? < 300 {
        return None;
    }
    let top_via = split_list(invite.header("Via")?).next()?.ok()?;
    let seq = invite.cseq().ok()?.seq;
    let mut ack = MessageBuilder::request(&Method::Ack, invite.request_uri()?)
        .header("Via", top_via)
        .header("Max-Forwards", 70)
        .header("From", invite.header("From")?)
        .header("To", response.header("To")?)
        .header("Call-ID", invite.header("Call-ID")?)
        .header("CSeq", format_args!("{seq} ACK"));
    for route in invite.headers("Route") {
        ack = ack.header("Route", route);
    }
    Some(ack.build())
}

#[cfg(test)]
mod tests;

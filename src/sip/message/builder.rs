//! Printing outgoing messages: `MessageBuilder`, default reason phrases and the ACK for a
//! non-2xx final response (RFC 3261 17.1.1.3).
//!
//! Owns: the wire layout of what we send (start line, headers in insertion order, an always
//! present Content-Length, blank line, body). Must not touch: sockets or transaction state.
//!
//! The builder prints as it goes into one buffer and notes where each header name and value
//! lands, so `build_message` hands out the `Message` (the same ranges `Message::parse` would
//! find) without parsing its own output again. Anything the fast path cannot vouch for (a line
//! break inside a value, a name that is not a token, a malformed start line) falls back to
//! `Message::parse` of the printed bytes.

use std::fmt::{self, Write as _};

use bytes::Bytes;

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{HeaderId, HeaderIndex, is_token, is_wsp, split_list, trim_wsp};
use crate::sip::message::{HeaderSpan, Message, Method, Span, StartLine};

/// Builder/printer for outgoing messages.
#[derive(Clone, Debug)]
pub struct MessageBuilder {
    /// The start line and every header line added so far, each ending in CRLF.
    head: String,
    start: StartLine,
    headers: Vec<HeaderSpan>,
    index: HeaderIndex,
    body: Option<(String, Bytes)>,
    /// False once something was printed that `start`/`headers` may not describe exactly as
    /// the parser would; `build_message` then parses the printed bytes.
    exact: bool,
}

impl MessageBuilder {
    /// A request with the given method and Request-URI.
    pub fn request(method: &Method, uri: &str) -> MessageBuilder {
        let mut head = String::with_capacity(HEAD_CAPACITY);
        head.push_str(method.as_str());
        head.push(' ');
        let uri_start = head.len();
        head.push_str(uri);
        let uri_end = head.len();
        head.push_str(" SIP/2.0\r\n");
        let exact = is_token(method.as_str()) && !uri.is_empty() && !has_line_break(uri);
        let start = StartLine::Request {
            // Printed and parsed back, `Other("INVITE")` would read as `Invite`.
            method: Method::from_token(method.as_str()),
            uri: span(uri_start, uri_end),
        };
        MessageBuilder::with_start(head, start, exact)
    }

    /// A response with the given status and reason phrase.
    pub fn response(status: u16, reason: &str) -> MessageBuilder {
        let mut head = String::with_capacity(HEAD_CAPACITY);
        let _ = write!(head, "SIP/2.0 {status} ");
        let reason_start = head.len();
        head.push_str(reason);
        let reason_end = head.len();
        head.push_str("\r\n");
        let exact = (100..=699).contains(&status) && !has_line_break(reason);
        let start = StartLine::Response {
            status,
            reason: span(reason_start, reason_end),
        };
        MessageBuilder::with_start(head, start, exact)
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
        for via in req.values(HeaderId::Via) {
            builder.push_header("Via", via);
        }
        if let Some(from) = req.values(HeaderId::From).next() {
            builder.push_header("From", from);
        }
        if let Some(to) = req.values(HeaderId::To).next() {
            let has_tag = req.to().map(|t| t.tag().is_some()).unwrap_or(true);
            match to_tag {
                Some(tag) if !has_tag => builder.push_header("To", format_args!("{to};tag={tag}")),
                _ => builder.push_header("To", to),
            }
        }
        if let Some(call_id) = req.values(HeaderId::CallId).next() {
            builder.push_header("Call-ID", call_id);
        }
        if let Some(cseq) = req.values(HeaderId::CSeq).next() {
            builder.push_header("CSeq", cseq);
        }
        builder
    }

    /// Appends a header (headers are printed in the order they were added).
    pub fn header(mut self, name: &str, value: impl fmt::Display) -> MessageBuilder {
        self.push_header(name, value);
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
        self.finish().0
    }

    /// Prints the message as `build` does and returns it parsed: the same `Message` that
    /// `Message::parse(builder.build(), true)` gives, without the parse in the common case.
    /// Fails where that parse would (e.g. a status code outside 100..=699).
    pub fn build_message(self) -> Result<Message, ParseError> {
        let (wire, exact) = self.finish();
        let Some(Printed {
            start,
            headers,
            index,
            body,
        }) = exact
        else {
            return Message::parse(wire, true);
        };
        Ok(Message {
            buf: wire,
            unfolded: Bytes::new(),
            start,
            headers,
            index,
            body,
            datagram: true,
        })
    }

    fn with_start(head: String, start: StartLine, exact: bool) -> MessageBuilder {
        MessageBuilder {
            head,
            start,
            headers: Vec::with_capacity(12),
            index: HeaderIndex::default(),
            body: None,
            exact,
        }
    }

    /// Prints `name: value` CRLF and notes the ranges the parser would give them.
    fn push_header(&mut self, name: &str, value: impl fmt::Display) {
        let name_start = self.head.len();
        self.head.push_str(name);
        self.head.push_str(": ");
        let value_start = self.head.len();
        let _ = write!(self.head, "{value}");
        let value_end = self.head.len();
        self.head.push_str("\r\n");
        let id = HeaderId::of(name.as_bytes());
        let written = &self.head[value_start..value_end];
        // A second Content-Length would be checked against ours by the parser.
        if !is_token(name) || has_line_break(written) || id == HeaderId::ContentLength {
            self.exact = false;
        }
        let lead = written.bytes().take_while(|&b| is_wsp(b)).count();
        let value_start = value_start + lead;
        let value_len = trim_wsp(written).len();
        self.index.note(id, self.headers.len());
        self.headers.push(HeaderSpan {
            id,
            name: span(name_start, name_start + name.len()),
            value: span(value_start, value_start + value_len),
            unfolded: false,
        });
    }

    /// The wire bytes, and the parsed layout when it is exact.
    fn finish(mut self) -> (Bytes, Option<Printed>) {
        let body = self.body.take();
        let body_len = body.as_ref().map_or(0, |(_, b)| b.len());
        if let Some((content_type, _)) = &body {
            self.push_header("Content-Type", content_type.as_str());
        }
        let exact = self.exact;
        self.push_header("Content-Length", body_len);
        self.head.push_str("\r\n");
        let body_start = self.head.len();
        let mut out = self.head.into_bytes();
        if let Some((_, body)) = &body {
            out.extend_from_slice(body);
        }
        let printed = exact.then(|| Printed {
            start: self.start,
            headers: self.headers,
            index: self.index,
            body: span(body_start, body_start + body_len),
        });
        (Bytes::from(out), printed)
    }
}

/// Room for a typical head without growing (a response with two Vias, an INVITE without SDP).
const HEAD_CAPACITY: usize = 512;

/// What `build_message` needs besides the bytes.
struct Printed {
    start: StartLine,
    headers: Vec<HeaderSpan>,
    index: HeaderIndex,
    body: Span,
}

fn has_line_break(text: &str) -> bool {
    text.bytes().any(|b| b == b'\r' || b == b'\n')
}

fn span(start: usize, end: usize) -> Span {
    Span {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        end: u32::try_from(end).unwrap_or(u32::MAX),
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

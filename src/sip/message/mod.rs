//! SIP message parser and printer (RFC 3261 sections 7, 20 and 25), zero-copy.
//!
//! `Message::parse` splits one wire buffer into a start line, header ranges and a body framed
//! by Content-Length, without copying: a `Message` is the `Bytes` it came in plus a `Vec` of
//! byte ranges. Typed header values (`Via`, `NameAddr`, `CSeq`, `Uri`, ...) are parsed on
//! demand and borrow from the message. `MessageBuilder` prints outgoing messages, and
//! `validate::validate_request` applies the checks a strict UAS makes before a transaction or
//! TU sees a request (RFC 3261 8.2), each mapped to the status to answer.
//!
//! Why hand-written: the one maintained crate, rsip 0.4, rejects 6 of the 13 valid RFC 4475
//! torture messages, accepts 11 of the 19 invalid ones, ignores Content-Length framing and
//! compact header names, and is 10-20x slower than a zero-copy split
//! (`shared/sip-torture/README.md`). This parser passes all of them (`tests/torture.rs`).
//!
//! Owns: message syntax only. Must not touch: sockets, clocks, transactions, dialogs.
//! Driven by: `sip::transport` (which calls `frame` on streams, then `Message::parse` and
//! `validate_request`) and by every layer above that reads or builds messages.
//!
//! Folding: continuation lines (CRLF + WSP) are rare and deprecated, so the common path keeps
//! every header value as a range of the wire buffer; only a message that folds gets one extra
//! buffer holding its unfolded values.

mod builder;
mod edit;
mod error;
mod header;
mod name_addr;
mod params;
mod parse;
mod typed;
mod uri;
pub mod validate;
mod via;

use std::ops::Range;

use bytes::Bytes;

pub use crate::sip::method::Method;
pub use builder::{MessageBuilder, build_non2xx_ack, reason_phrase};
pub use error::ParseError;
pub use header::{alternate_name, canonical_name};
pub use name_addr::{Contacts, NameAddr};
pub use params::Params;
pub use parse::{frame, skip_keepalive};
pub use typed::CSeq;
pub use uri::{Scheme, Uri, unescape};
pub use validate::{Rejection, validate_request, validate_response};
pub use via::{Via, via_with_received};

use header::{HeaderId, HeaderIndex};

/// A parsed SIP message. Holds the whole wire buffer and byte ranges into it; typed header
/// parsing happens on demand. Cheap to clone (a `Bytes` and a small `Vec` of ranges).
#[derive(Clone, Debug)]
pub struct Message {
    /// The message exactly as received, without leading keep-alive CRLFs or trailing bytes
    /// beyond Content-Length.
    buf: Bytes,
    /// Unfolded values of headers that used continuation lines; empty for most messages.
    unfolded: Bytes,
    start: StartLine,
    headers: Vec<HeaderSpan>,
    /// Where the first header of each known name is in `headers`.
    index: HeaderIndex,
    body: Span,
    datagram: bool,
}

/// A byte range in `Message::buf` (or `Message::unfolded`); `u32` keeps the header table small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Clone, Copy, Debug)]
struct HeaderSpan {
    /// The name classified at parse time, so that lookups compare ids.
    id: HeaderId,
    name: Span,
    value: Span,
    /// The value lives in `Message::unfolded` rather than the wire buffer.
    unfolded: bool,
}

#[derive(Clone, Debug)]
enum StartLine {
    Request { method: Method, uri: Span },
    Response { status: u16, reason: Span },
}

impl Message {
    /// Parses exactly one message from a datagram or a framed stream chunk. The body is
    /// Content-Length bytes (absent Content-Length: the rest of a datagram, nothing on a
    /// stream); extra bytes after it are ignored (RFC 3261 18.3). Leading CRLFs are skipped.
    /// Fails on a bad start line or version, a header line without colon, a head that is not
    /// UTF-8 or not CRLF-terminated, a bad or duplicated Content-Length, or a short body.
    pub fn parse(buf: Bytes, datagram: bool) -> Result<Message, ParseError> {
        parse::parse_message(buf, datagram)
    }

    /// True for requests, false for responses.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method (requests only).
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The raw Request-URI text (requests only).
    pub fn request_uri(&self) -> Option<&str> {
        match self.start {
            StartLine::Request { uri, .. } => Some(self.text(uri)),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code (responses only).
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { status, .. } => Some(status),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase (responses only; may be empty).
    pub fn reason(&self) -> Option<&str> {
        match self.start {
            StartLine::Response { reason, .. } => Some(self.text(reason)),
            StartLine::Request { .. } => None,
        }
    }

    /// The first value of header `name` (case-insensitive; `Via` also finds `v:` and the other
    /// way round), trimmed, with folding turned into one space.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers(name).next()
    }

    /// Every header line named `name`, in order (values as in `header`).
    pub fn headers(&self, name: &str) -> impl Iterator<Item = &str> {
        let id = HeaderId::of(name.as_bytes());
        let from = match id {
            HeaderId::Unknown => 0,
            known => self.index.first(known).unwrap_or(self.headers.len()),
        };
        self.headers
            .get(from..)
            .unwrap_or_default()
            .iter()
            .filter(move |h| {
                h.id == id
                    && (id != HeaderId::Unknown
                        || self.raw(h.name).eq_ignore_ascii_case(name.as_bytes()))
            })
            .map(|h| self.value(h))
    }

    /// Every header as `(name as written, value)`, in order.
    pub fn all_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|h| (self.text(h.name), self.value(h)))
    }

    /// The body (Content-Length bytes).
    pub fn body(&self) -> &[u8] {
        self.raw(self.body)
    }

    /// The wire form, for retransmission or relaying.
    pub fn as_bytes(&self) -> &Bytes {
        &self.buf
    }

    /// True if the message was parsed as a datagram (UDP), false for a stream chunk.
    pub fn from_datagram(&self) -> bool {
        self.datagram
    }

    /// Values of the headers classified as `id` (a known name), in order.
    fn values(&self, id: HeaderId) -> impl Iterator<Item = &str> {
        let from = self.index.first(id).unwrap_or(self.headers.len());
        self.headers
            .get(from..)
            .unwrap_or_default()
            .iter()
            .filter(move |h| h.id == id)
            .map(|h| self.value(h))
    }

    fn raw(&self, span: Span) -> &[u8] {
        self.buf.get(span.range()).unwrap_or_default()
    }

    /// Text of a span of the head, which `parse` checked to be UTF-8 at ASCII boundaries.
    fn text(&self, span: Span) -> &str {
        std::str::from_utf8(self.raw(span)).unwrap_or_default()
    }

    fn value(&self, header: &HeaderSpan) -> &str {
        let bytes = if header.unfolded {
            self.unfolded.get(header.value.range()).unwrap_or_default()
        } else {
            self.raw(header.value)
        };
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl Span {
    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Fuzz entry point: parses `data` both ways and frames it, reads every typed accessor, and
/// checks that printed typed values (Via, name-addr, the stateless reply) parse back to the
/// same thing. Panics only on a round-trip mismatch. Used by `fuzz/` and by the tests.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    let _ = frame(data, 65_535);
    for datagram in [true, false] {
        let Ok(msg) = Message::parse(Bytes::copy_from_slice(data), datagram) else {
            continue;
        };
        let _ = (
            msg.method(),
            msg.request_uri(),
            msg.status(),
            msg.reason(),
            msg.body(),
        );
        let _ = (
            msg.all_headers().count(),
            msg.call_id(),
            msg.cseq(),
            msg.max_forwards(),
        );
        let _ = (
            msg.expires(),
            msg.content_length(),
            msg.content_type(),
            msg.top_via(),
        );
        for via in msg.vias().unwrap_or_default() {
            let _ = (via.branch(), via.received(), via.rport());
            let printed = format!(
                "SIP/2.0/{} {}{}",
                via.transport,
                via.sent_by(),
                via.params.as_str()
            );
            let again = Via::parse(&printed);
            assert_eq!(
                again.as_ref().map(|v| (v.transport, v.host, v.port)),
                Ok((via.transport, via.host, via.port))
            );
            assert!(
                again.is_ok_and(|v| v.params.iter().eq(via.params.iter())),
                "{printed}"
            );
        }
        let mut name_addrs: Vec<NameAddr<'_>> =
            [msg.from(), msg.to()].into_iter().flatten().collect();
        name_addrs.extend(msg.routes().unwrap_or_default());
        name_addrs.extend(msg.record_routes().unwrap_or_default());
        if let Ok(Contacts::List(contacts)) = msg.contacts() {
            name_addrs.extend(contacts);
        }
        for na in name_addrs {
            let _ = (
                na.tag(),
                na.uri().map(|u| unescape(u.user.unwrap_or_default()).len()),
            );
            let printed = format!("<{}>{}", na.uri, na.params.as_str());
            let again = NameAddr::parse(&printed);
            assert!(
                again.is_ok_and(|a| a.uri == na.uri && a.params.iter().eq(na.params.iter())),
                "{printed}"
            );
        }
        if let Some(uri) = msg.request_uri() {
            let _ = Uri::parse(uri);
        }
        let _ = validate_request(&msg, &["100rel", "timer"]);
        if let Some(top) = msg.header("Via") {
            let _ = via_with_received(top, std::net::SocketAddr::from(([192, 0, 2, 1], 5060)));
        }
        if msg.is_request() {
            let reply = MessageBuilder::response_to(&msg, 400, "Bad Request", Some("fz")).build();
            let reply = Message::parse(reply, true);
            assert!(reply.is_ok_and(|r| r.headers("Via").eq(msg.headers("Via"))));
        }
    }
}

#[cfg(test)]
mod tests;

//! Editing a parsed message in place of re-parsing it: the top via-parm rewrite that RFC 3581
//! (`received`/`rport`) asks of every request we receive.
//!
//! Owns: `Message::top_via_text` and `Message::with_top_via`, which copy the wire buffer once
//! with the new text and shift the ranges behind it. Must not touch: what the new Via says
//! (`via::via_with_received` decides that).

use bytes::BytesMut;

use crate::sip::message::header::{HeaderId, find_unquoted, trim_wsp};
use crate::sip::message::{Message, Span};

impl Message {
    /// The top via-parm (the first element of the first Via line) as written, without
    /// trailing LWS; `None` without a Via or when that line was folded.
    pub fn top_via_text(&self) -> Option<&str> {
        let header = self.headers.iter().find(|h| h.id == HeaderId::Via)?;
        if header.unfolded {
            return None;
        }
        let value = self.value(header);
        let len = match find_unquoted(value, b',') {
            Ok(Some(comma)) => comma,
            _ => value.len(),
        };
        Some(trim_wsp(&value[..len]))
    }

    /// This message with its top via-parm (see `top_via_text`) replaced by `via`. Everything
    /// else keeps its bytes; the ranges behind the replaced text move by the length difference,
    /// so nothing is parsed again. `None` when there is no such via-parm or `via` holds a line
    /// break (which would change the message's structure).
    pub fn with_top_via(&self, via: &str) -> Option<Message> {
        if via.bytes().any(|b| b == b'\r' || b == b'\n') {
            return None;
        }
        let top = self.top_via_text()?;
        let start = (top.as_ptr() as usize).checked_sub(self.buf.as_ptr() as usize)?;
        let end = start + top.len();
        if top.is_empty() || end > self.buf.len() {
            return None;
        }
        let new_len = self.buf.len() - top.len() + via.len();
        u32::try_from(new_len).ok()?;
        let mut buf = BytesMut::with_capacity(new_len);
        buf.extend_from_slice(&self.buf[..start]);
        buf.extend_from_slice(via.as_bytes());
        buf.extend_from_slice(&self.buf[end..]);
        // Ranges that start at or after the end of the old text move; the Via value, which
        // starts before and ends at or after it, only stretches. Unfolded values live in
        // their own buffer and stay.
        let old_end = end as u32;
        let moved = |offset: u32| {
            if offset >= old_end {
                offset - old_end + (start + via.len()) as u32
            } else {
                offset
            }
        };
        let shift = |span: Span| Span {
            start: moved(span.start),
            end: moved(span.end),
        };
        let mut msg = self.clone();
        msg.buf = buf.freeze();
        msg.body = shift(msg.body);
        for header in &mut msg.headers {
            header.name = shift(header.name);
            if !header.unfolded {
                header.value = shift(header.value);
            }
        }
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const INVITE: &str = "INVITE sip:b@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport , SIP/2.0/UDP p;branch=z9hG4bKp\r\n\
        Via: SIP/2.0/UDP q;branch=z9hG4bKq\r\n\
        Subject: folded\r\n  over two lines\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
        Call-ID: c@h\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nbody";

    #[test]
    fn replacing_the_top_via_equals_parsing_the_edited_text() {
        let msg = Message::parse(Bytes::from_static(INVITE.as_bytes()), true).unwrap();
        let top = msg.top_via_text().unwrap();
        assert_eq!(top, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport");
        for via in [
            "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport=5060;received=192.0.2.9",
            "x",
        ] {
            let edited = msg.with_top_via(via).unwrap();
            let text = INVITE.replacen(top, via, 1);
            let parsed = Message::parse(Bytes::from(text), true).unwrap();
            assert_eq!(edited.as_bytes(), parsed.as_bytes());
            let headers: Vec<_> = edited.all_headers().collect();
            assert_eq!(headers, parsed.all_headers().collect::<Vec<_>>());
            assert_eq!(edited.request_uri(), parsed.request_uri());
            assert_eq!(edited.body(), b"body");
            assert_eq!(edited.header("Subject"), Some("folded over two lines"));
            assert_eq!(edited.call_id(), Ok("c@h"));
        }
    }

    #[test]
    fn no_edit_without_a_plain_top_via_or_with_a_line_break() {
        let msg = Message::parse(Bytes::from_static(INVITE.as_bytes()), true).unwrap();
        assert!(msg.with_top_via("a\r\nX: y").is_none());
        let folded = INVITE.replacen("Via: SIP/2.0/UDP 10", "Via:\r\n SIP/2.0/UDP 10", 1);
        let folded = Message::parse(Bytes::from(folded), true).unwrap();
        assert_eq!(folded.top_via_text(), None);
        assert!(folded.with_top_via("x").is_none());
        let response = "SIP/2.0 200 OK\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n";
        let response = Message::parse(Bytes::from_static(response.as_bytes()), true).unwrap();
        assert!(response.with_top_via("x").is_none());
    }
}

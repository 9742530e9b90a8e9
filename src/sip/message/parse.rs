//! Framing and splitting: turns wire bytes into a `Message` (start line, header ranges, body).
//!
//! Owns: `Message::parse`'s algorithm, stream framing (`frame`) and keep-alive skipping.
//! One pass over the head with `memchr` per line; the only allocation is the header range
//! `Vec` (plus one buffer when a message uses folding). Must not touch: typed header values.

use bytes::Bytes;
use memchr::{memchr, memchr2, memmem};

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{HeaderId, HeaderIndex, is_token, is_token_byte, is_wsp};
use crate::sip::message::{HeaderSpan, Message, Method, Span, StartLine};

/// Stream (TCP) framing: if `buf` holds one complete message (optionally preceded by
/// keep-alive CRLFs, which count towards the length), returns its length in bytes; `Ok(None)`
/// when more bytes are needed; `Err` when the head is malformed, Content-Length is missing or
/// invalid, or the message would exceed `max_len`. Only the framing is checked here; a buffer
/// of nothing but CRLFs gives `Ok(None)` (drain it with `skip_keepalive`).
pub fn frame(buf: &[u8], max_len: usize) -> Result<Option<usize>, ParseError> {
    let skip = skip_keepalive(buf);
    let data = &buf[skip..];
    let Some(head_end) = memmem::find(data, b"\r\n\r\n") else {
        return if data.len() > max_len {
            Err(ParseError::TooLarge { max: max_len })
        } else {
            Ok(None)
        };
    };
    let body_start = head_end + 4;
    let mut length = None;
    let mut lines = data[..head_end].split(|&b| b == b'\n').skip(1).peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|&b| is_wsp(b)) {
            continue;
        }
        let colon = memchr(b':', line).ok_or(ParseError::HeaderLine)?;
        if HeaderId::of(trim_bytes(&line[..colon])) != HeaderId::ContentLength {
            continue;
        }
        let mut value = line[colon + 1..].to_vec();
        while let Some(next) = lines.next_if(|l| l.first().is_some_and(|&b| is_wsp(b))) {
            value.extend_from_slice(next.strip_suffix(b"\r").unwrap_or(next));
        }
        let parsed = std::str::from_utf8(&value)
            .ok()
            .and_then(parse_content_length);
        match (length, parsed) {
            (_, None) => return Err(ParseError::ContentLength),
            (Some(old), Some(new)) if old != new => return Err(ParseError::ContentLength),
            (_, new) => length = new,
        }
    }
    let length = length.ok_or(ParseError::MissingContentLength)?;
    let total = body_start
        .checked_add(length)
        .ok_or(ParseError::ContentLength)?;
    if total > max_len {
        return Err(ParseError::TooLarge { max: max_len });
    }
    Ok((data.len() >= total).then_some(skip + total))
}

/// The number of leading CR/LF bytes (keep-alives, RFC 5626 `CRLFCRLF` pings).
pub fn skip_keepalive(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

pub(super) fn parse_message(buf: Bytes, datagram: bool) -> Result<Message, ParseError> {
    let skip = skip_keepalive(&buf);
    let data = &buf[skip..];
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
    if u32::try_from(data.len()).is_err() {
        return Err(ParseError::TooLarge {
            max: u32::MAX as usize,
        });
    }
    let (start_end, mut pos) = line_at(data, 0)?;
    let mut headers: Vec<HeaderSpan> = Vec::with_capacity(16);
    let mut index = HeaderIndex::default();
    let mut folded = false;
    let body_start = loop {
        let (end, next) = line_at(data, pos)?;
        if end == pos {
            break next;
        }
        if is_wsp(data[pos]) {
            let last = headers.last_mut().ok_or(ParseError::HeaderLine)?;
            last.value.end = span_u32(end);
            last.unfolded = true;
            folded = true;
        } else {
            let name_end = pos
                + data[pos..end]
                    .iter()
                    .take_while(|&&b| is_token_byte(b))
                    .count();
            let colon = name_end
                + data[name_end..end]
                    .iter()
                    .take_while(|&&b| is_wsp(b))
                    .count();
            if name_end == pos || data.get(colon) != Some(&b':') {
                return Err(ParseError::HeaderLine);
            }
            let name = Span {
                start: span_u32(pos),
                end: span_u32(name_end),
            };
            let value = trim_span(data, colon + 1, end);
            let id = HeaderId::of(&data[name.range()]);
            index.note(id, headers.len());
            headers.push(HeaderSpan {
                id,
                name,
                value,
                unfolded: false,
            });
        }
        pos = next;
    };
    let head = std::str::from_utf8(&data[..body_start]).map_err(|_| ParseError::NotUtf8)?;
    let start = parse_start_line(head, start_end)?;
    let unfolded = if folded {
        unfold(head, &mut headers)
    } else {
        Bytes::new()
    };
    let buf = buf.slice(skip..);
    let mut msg = Message {
        buf,
        unfolded,
        start,
        headers,
        index,
        body: Span::default(),
        datagram,
    };
    let body_len = match declared_length(&msg)? {
        Some(len) => {
            let available = data.len() - body_start;
            if len > available {
                return Err(ParseError::BodyTruncated {
                    expected: len,
                    available,
                });
            }
            len
        }
        None if datagram => data.len() - body_start,
        None => 0,
    };
    let end = body_start + body_len;
    msg.body = Span {
        start: span_u32(body_start),
        end: span_u32(end),
    };
    msg.buf.truncate(end);
    Ok(msg)
}

/// Finds the line starting at `pos`: returns (index of its CR, index after its LF).
fn line_at(data: &[u8], pos: usize) -> Result<(usize, usize), ParseError> {
    let cr = memchr2(b'\r', b'\n', &data[pos..]).ok_or(ParseError::Unterminated)? + pos;
    match data.get(cr..cr + 2) {
        Some(b"\r\n") => Ok((cr, cr + 2)),
        Some(_) => Err(ParseError::LineEnding),
        None if data[cr] == b'\r' => Err(ParseError::Unterminated),
        None => Err(ParseError::LineEnding),
    }
}

fn parse_start_line(head: &str, end: usize) -> Result<StartLine, ParseError> {
    let line = &head[..end];
    if let Some(rest) = line.strip_prefix("SIP/") {
        let (version, rest) = rest.split_once(' ').ok_or(ParseError::StartLine)?;
        if version != "2.0" {
            return Err(ParseError::Version);
        }
        let (code, _) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::Status);
        }
        let status: u16 = code.parse().map_err(|_| ParseError::Status)?;
        if !(100..=699).contains(&status) {
            return Err(ParseError::Status);
        }
        let reason_start = (line.len() - rest.len() + 4).min(end);
        return Ok(StartLine::Response {
            status,
            reason: Span {
                start: span_u32(reason_start),
                end: span_u32(end),
            },
        });
    }
    let (first, last) = (line.find(' '), line.rfind(' '));
    let (Some(first), Some(last)) = (first, last) else {
        return Err(ParseError::StartLine);
    };
    if first + 1 >= last || !is_token(&line[..first]) {
        return Err(ParseError::StartLine);
    }
    let version = &line[last + 1..];
    if version != "SIP/2.0" {
        let sip_like = version
            .get(..4)
            .is_some_and(|v| v.eq_ignore_ascii_case("SIP/"));
        return Err(if sip_like {
            ParseError::Version
        } else {
            ParseError::StartLine
        });
    }
    let method = Method::from_token(&line[..first]);
    Ok(StartLine::Request {
        method,
        uri: Span {
            start: span_u32(first + 1),
            end: span_u32(last),
        },
    })
}

/// Builds the buffer of unfolded values: each continuation line trimmed and joined by one SP.
fn unfold(head: &str, headers: &mut [HeaderSpan]) -> Bytes {
    let mut out = String::new();
    for header in headers.iter_mut().filter(|h| h.unfolded) {
        let raw = &head[header.value.range()];
        let start = out.len();
        for piece in raw
            .split("\r\n")
            .map(|p| p.trim_matches([' ', '\t']))
            .filter(|p| !p.is_empty())
        {
            if out.len() > start {
                out.push(' ');
            }
            out.push_str(piece);
        }
        header.value = Span {
            start: span_u32(start),
            end: span_u32(out.len()),
        };
    }
    Bytes::from(out)
}

/// The Content-Length the headers declare; several lines must agree.
fn declared_length(msg: &Message) -> Result<Option<usize>, ParseError> {
    let mut length = None;
    for value in msg.values(HeaderId::ContentLength) {
        let parsed = parse_content_length(value.as_bytes()).ok_or(ParseError::ContentLength)?;
        if length.is_some_and(|old| old != parsed) {
            return Err(ParseError::ContentLength);
        }
        length = Some(parsed);
    }
    Ok(length)
}

fn parse_content_length(value: impl AsRef<[u8]>) -> Option<usize> {
    let digits = trim_bytes(value.as_ref());
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn trim_bytes(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_wsp(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_wsp(b))
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn trim_span(data: &[u8], start: usize, end: usize) -> Span {
    let slice = &data[start..end];
    let lead = slice
        .iter()
        .position(|&b| !is_wsp(b))
        .unwrap_or(slice.len());
    let trail = slice.iter().rev().position(|&b| !is_wsp(b)).unwrap_or(0);
    Span {
        start: span_u32(start + lead),
        end: span_u32((end - trail).max(start + lead)),
    }
}

/// Offsets fit in `u32`: `parse_message` rejects larger buffers first.
fn span_u32(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;

//! Request validation: the checks a strict UAS makes before any transaction or TU sees a
//! request (RFC 3261 8.2 and 16.3), each mapped to the status to answer.
//!
//! Owns: `Rejection` and the order of the checks (syntax 400s first, then 483, 416, 420).
//! Must not touch: routing decisions, authentication, dialog state. Driven by the transport
//! shell, which sequences `Message::parse` then `validate_request` and answers rejections
//! statelessly.

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{HeaderId, split_list, trim_wsp};
use crate::sip::message::name_addr::Contacts;
use crate::sip::message::typed::parse_number;
use crate::sip::message::uri::{Scheme, Uri};
use crate::sip::message::via::Via;
use crate::sip::message::{Message, Method};

/// Why a request is refused before any transaction/TU sees it, with the status to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The status code to answer with (400, 416, 420 or 483).
    pub status: u16,
    /// Human text, used as the reason phrase.
    pub reason: String,
    /// For 420: the option tags to list in the `Unsupported` header; empty otherwise.
    pub unsupported: Vec<String>,
}

/// Checks a parsed request the way a strict UAS must (RFC 3261 8.2 and 16.3): mandatory headers
/// present and well-formed (Via, From, To, Call-ID, CSeq, Max-Forwards when present, no
/// duplicated singletons), CSeq method equals the request method (400), Max-Forwards 0 (483),
/// Request-URI scheme not sip/sips/tel (416), `Require` with an option not in `supported`
/// (420, listed in `unsupported`), Content-Length missing on a stream (400), malformed
/// Expires/Contact/To on REGISTER (400), a Request-URI with spaces, `<>` or headers (400), a
/// Date not in GMT (400). A response passed here is refused with 400.
pub fn validate_request(msg: &Message, supported: &[&str]) -> Result<(), Rejection> {
    let (Some(method), Some(request_uri)) = (msg.method(), msg.request_uri()) else {
        return Err(bad("Not a request"));
    };
    if request_uri
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b == b'<' || b == b'>')
    {
        return Err(bad("Malformed Request-URI"));
    }
    validate_common(msg)?;
    let cseq = msg.cseq().map_err(|e| bad_header(&e))?;
    if cseq.method != *method {
        return Err(bad("CSeq method does not match the request method"));
    }
    if msg.max_forwards().map_err(|e| bad_header(&e))? == Some(0) {
        return Err(Rejection {
            status: 483,
            reason: "Too Many Hops".into(),
            unsupported: Vec::new(),
        });
    }
    check_request_uri(request_uri)?;
    if !matches!(method, Method::Ack | Method::Cancel) {
        check_require(msg, supported)?;
    }
    if *method == Method::Register {
        check_register(msg)?;
    }
    Ok(())
}

/// Checks a response for the headers every message needs (Via, From, To, Call-ID, CSeq, no
/// duplicated singletons). A rejected response is dropped, never answered; `status` is 400.
pub fn validate_response(msg: &Message) -> Result<(), Rejection> {
    if msg.is_request() {
        return Err(bad("Not a response"));
    }
    validate_common(msg)?;
    msg.cseq().map_err(|e| bad_header(&e))?;
    Ok(())
}

/// Headers that may appear once only (RFC 3261 7.3.1: not defined as comma lists).
const SINGLETONS: [(HeaderId, &str); 8] = [
    (HeaderId::From, "From"),
    (HeaderId::To, "To"),
    (HeaderId::CallId, "Call-ID"),
    (HeaderId::CSeq, "CSeq"),
    (HeaderId::MaxForwards, "Max-Forwards"),
    (HeaderId::ContentType, "Content-Type"),
    (HeaderId::Expires, "Expires"),
    (HeaderId::Date, "Date"),
];

fn validate_common(msg: &Message) -> Result<(), Rejection> {
    // One pass over the header table counts every singleton.
    let mut seen = [0u8; SINGLETONS.len()];
    for header in &msg.headers {
        if let Some(i) = SINGLETONS.iter().position(|(id, _)| *id == header.id) {
            seen[i] = seen[i].saturating_add(1);
        }
    }
    if let Some(((_, name), _)) = SINGLETONS.iter().zip(seen).find(|(_, n)| *n > 1) {
        return Err(bad(&format!("Duplicate {name} header")));
    }
    let mut vias = 0;
    for value in msg.values(HeaderId::Via) {
        for element in split_list(value) {
            let element =
                element.map_err(|why| bad_header(&ParseError::BadHeader { name: "Via", why }))?;
            Via::parse(element).map_err(|e| bad_header(&e.in_header("Via")))?;
            vias += 1;
        }
    }
    if vias == 0 {
        return Err(bad("Missing Via header"));
    }
    msg.from().map_err(|e| bad_header(&e))?;
    msg.to().map_err(|e| bad_header(&e))?;
    msg.call_id().map_err(|e| bad_header(&e))?;
    if !msg.from_datagram() && msg.values(HeaderId::ContentLength).next().is_none() {
        return Err(bad("Missing Content-Length on a stream transport"));
    }
    if msg
        .values(HeaderId::Date)
        .next()
        .is_some_and(|d| !d.ends_with(" GMT"))
    {
        return Err(bad("Date must be in GMT"));
    }
    Ok(())
}

fn check_request_uri(text: &str) -> Result<(), Rejection> {
    let uri = Uri::parse(text).map_err(|_| bad("Malformed Request-URI"))?;
    match uri.scheme {
        Scheme::Other => Err(Rejection {
            status: 416,
            reason: "Unsupported URI Scheme".into(),
            unsupported: Vec::new(),
        }),
        Scheme::Sip | Scheme::Sips if uri.headers.is_some() => {
            Err(bad("Request-URI must not carry headers"))
        }
        _ => Ok(()),
    }
}

fn check_require(msg: &Message, supported: &[&str]) -> Result<(), Rejection> {
    let mut unsupported = Vec::new();
    for value in msg.headers("Require") {
        for tag in split_list(value) {
            let tag = tag.map_err(|_| bad("Malformed Require header"))?;
            if !supported.iter().any(|s| s.eq_ignore_ascii_case(tag)) {
                unsupported.push(tag.to_owned());
            }
        }
    }
    if unsupported.is_empty() {
        return Ok(());
    }
    Err(Rejection {
        status: 420,
        reason: "Bad Extension".into(),
        unsupported,
    })
}

fn check_register(msg: &Message) -> Result<(), Rejection> {
    msg.expires().map_err(|e| bad_header(&e))?;
    let to = msg.to().map_err(|e| bad_header(&e))?;
    if !to.uri().is_ok_and(|u| u.is_sip()) {
        return Err(bad("Address of record must be a SIP or SIPS URI"));
    }
    if let Contacts::List(contacts) = msg.contacts().map_err(|e| bad_header(&e))? {
        for contact in contacts {
            let expires = contact.params.get("expires");
            if expires.is_some_and(|v| v.and_then(|v| parse_number(trim_wsp(v))).is_none()) {
                return Err(bad("Malformed Contact expires parameter"));
            }
        }
    } else if msg.expires().ok().flatten() != Some(0) {
        return Err(bad("Contact * requires Expires: 0"));
    }
    Ok(())
}

fn bad(reason: &str) -> Rejection {
    Rejection {
        status: 400,
        reason: reason.to_owned(),
        unsupported: Vec::new(),
    }
}

fn bad_header(error: &ParseError) -> Rejection {
    let reason = match error {
        ParseError::MissingHeader(name) => format!("Missing {name} header"),
        ParseError::BadHeader { name, .. } => format!("Malformed {name} header"),
        other => format!("Bad Request ({other})"),
    };
    Rejection {
        status: 400,
        reason,
        unsupported: Vec::new(),
    }
}

#[cfg(test)]
mod tests;

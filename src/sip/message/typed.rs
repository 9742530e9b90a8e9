//! Typed header accessors of `Message`, parsed on demand, and the `CSeq` value.
//!
//! Owns: which header feeds which typed value, list flattening across header lines, and the
//! numeric limits (CSeq below 2^31, Max-Forwards up to 255). Must not touch: framing.

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{HeaderId, is_token, is_wsp, split_list, trim_wsp};
use crate::sip::message::name_addr::{Contacts, NameAddr};
use crate::sip::message::via::Via;
use crate::sip::message::{Message, Method};

/// The CSeq header: sequence number and method (RFC 3261 20.16).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number; below 2^31 (RFC 3261 8.1.1.5).
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// Parses `number LWS method`. Fails on a missing part, a number of 2^31 or more, or a
    /// method that is not a token.
    pub fn parse(text: &str) -> Result<CSeq, ParseError> {
        let text = trim_wsp(text);
        let gap = text
            .bytes()
            .position(is_wsp)
            .ok_or(ParseError::Syntax("CSeq needs a number and a method"))?;
        let (number, method) = (&text[..gap], trim_wsp(&text[gap + 1..]));
        if !is_token(method) {
            return Err(ParseError::Syntax("invalid CSeq method"));
        }
        let seq = parse_number(number).filter(|&n| n < 1 << 31);
        let seq = seq.ok_or(ParseError::Syntax("CSeq number not below 2^31"))?;
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

impl Message {
    /// Every via-parm of every Via line, in order.
    pub fn vias(&self) -> Result<Vec<Via<'_>>, ParseError> {
        self.list(HeaderId::Via, "Via", Via::parse)
    }

    /// The first via-parm of the first Via line.
    pub fn top_via(&self) -> Result<Via<'_>, ParseError> {
        let value = self
            .values(HeaderId::Via)
            .next()
            .ok_or(ParseError::MissingHeader("Via"))?;
        let first = split_list(value)
            .next()
            .ok_or(ParseError::MissingHeader("Via"))?;
        let first = first.map_err(|why| ParseError::BadHeader { name: "Via", why })?;
        Via::parse(first).map_err(|e| e.in_header("Via"))
    }

    /// The From header.
    pub fn from(&self) -> Result<NameAddr<'_>, ParseError> {
        self.single_name_addr(HeaderId::From, "From")
    }

    /// The To header.
    pub fn to(&self) -> Result<NameAddr<'_>, ParseError> {
        self.single_name_addr(HeaderId::To, "To")
    }

    /// The Call-ID: non-empty, without whitespace.
    pub fn call_id(&self) -> Result<&str, ParseError> {
        let value = self
            .values(HeaderId::CallId)
            .next()
            .ok_or(ParseError::MissingHeader("Call-ID"))?;
        if value.is_empty() || value.bytes().any(is_wsp) {
            return Err(ParseError::BadHeader {
                name: "Call-ID",
                why: "empty or with whitespace",
            });
        }
        Ok(value)
    }

    /// The CSeq header.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        let value = self
            .values(HeaderId::CSeq)
            .next()
            .ok_or(ParseError::MissingHeader("CSeq"))?;
        CSeq::parse(value).map_err(|e| e.in_header("CSeq"))
    }

    /// The Contact header(s): `Star` for `*`, else every contact in order (an empty list when
    /// the header is absent). `*` mixed with other contacts is an error.
    pub fn contacts(&self) -> Result<Contacts<'_>, ParseError> {
        let mut lines = self.values(HeaderId::Contact);
        if lines.next() == Some("*") {
            return match lines.next() {
                None => Ok(Contacts::Star),
                Some(_) => Err(ParseError::BadHeader {
                    name: "Contact",
                    why: "'*' with other contacts",
                }),
            };
        }
        self.list(HeaderId::Contact, "Contact", NameAddr::parse)
            .map(Contacts::List)
    }

    /// Every Route entry, in order.
    pub fn routes(&self) -> Result<Vec<NameAddr<'_>>, ParseError> {
        self.list(HeaderId::Route, "Route", NameAddr::parse)
    }

    /// Every Record-Route entry, in order.
    pub fn record_routes(&self) -> Result<Vec<NameAddr<'_>>, ParseError> {
        self.list(HeaderId::RecordRoute, "Record-Route", NameAddr::parse)
    }

    /// Max-Forwards (0 to 255), if present.
    pub fn max_forwards(&self) -> Result<Option<u32>, ParseError> {
        self.number(HeaderId::MaxForwards, "Max-Forwards", 255)
    }

    /// Expires in seconds, if present.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.number(HeaderId::Expires, "Expires", u32::MAX)
    }

    /// Content-Length, if present.
    pub fn content_length(&self) -> Result<Option<usize>, ParseError> {
        let Some(value) = self.values(HeaderId::ContentLength).next() else {
            return Ok(None);
        };
        let digits = value.bytes().all(|b| b.is_ascii_digit());
        match value.parse::<usize>() {
            Ok(n) if digits => Ok(Some(n)),
            _ => Err(ParseError::ContentLength),
        }
    }

    /// Content-Type (`c:`), as written.
    pub fn content_type(&self) -> Option<&str> {
        self.values(HeaderId::ContentType).next()
    }

    fn single_name_addr(
        &self,
        id: HeaderId,
        name: &'static str,
    ) -> Result<NameAddr<'_>, ParseError> {
        let value = self
            .values(id)
            .next()
            .ok_or(ParseError::MissingHeader(name))?;
        NameAddr::parse(value).map_err(|e| e.in_header(name))
    }

    /// Flattens the comma lists of every `name` line, parsing each element with `parse`.
    fn list<'s, T>(
        &'s self,
        id: HeaderId,
        name: &'static str,
        parse: impl Fn(&'s str) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        let mut out = Vec::new();
        for value in self.values(id) {
            for element in split_list(value) {
                let element = element.map_err(|why| ParseError::BadHeader { name, why })?;
                out.push(parse(element).map_err(|e| e.in_header(name))?);
            }
        }
        Ok(out)
    }

    fn number(
        &self,
        id: HeaderId,
        name: &'static str,
        max: u32,
    ) -> Result<Option<u32>, ParseError> {
        let Some(value) = self.values(id).next() else {
            return Ok(None);
        };
        let n = parse_number(value).filter(|&n| n <= max);
        n.map(Some).ok_or(ParseError::BadHeader {
            name,
            why: "not a number in range",
        })
    }
}

/// A decimal `1*DIGIT` that fits `u32` (leading zeros allowed).
pub(crate) fn parse_number(text: &str) -> Option<u32> {
    let text = trim_wsp(text);
    if text.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq_parses_and_enforces_limits() {
        assert_eq!(
            CSeq::parse("0009 INVITE").unwrap(),
            CSeq {
                seq: 9,
                method: Method::Invite
            }
        );
        let odd = CSeq::parse("139122385 !interesting-Method0123456789_*+`.%indeed'~").unwrap();
        assert_eq!(
            odd.method.as_str(),
            "!interesting-Method0123456789_*+`.%indeed'~"
        );
        assert_eq!(CSeq::parse("2147483647 ACK").unwrap().seq, (1 << 31) - 1);
        for bad in [
            "2147483648 ACK",
            "36893488147419103232 REGISTER",
            "INVITE",
            "1",
            "-1 BYE",
            "1 B Y E",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_allow_leading_zeros_only_digits() {
        assert_eq!(parse_number(" 0068 "), Some(68));
        assert_eq!(parse_number("4294967295"), Some(u32::MAX));
        for bad in ["", "-1", "1.5", "4294967296", "1 2"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}

//! SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966), parsed zero-copy.
//!
//! Owns: `Uri`, `Scheme` and `unescape`. Other absolute URIs are recognised only by scheme, so
//! that the caller can answer 416. Must not touch: name-addr syntax (see `name_addr`).

use std::borrow::Cow;

use crate::sip::message::error::ParseError;
use crate::sip::message::header::find_byte;
use crate::sip::message::params::Params;

/// The URI scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:` (RFC 3966)
    Tel,
    /// Any other absoluteURI scheme (a Request-URI with it is answered 416).
    Other,
}

/// `sip:`/`sips:` `user:password@host:port;params?headers` (IPv6 references `[::1]`), or
/// `tel:number;params`.
///
/// For `tel:` the number is in `user` and `host` is empty. For `Scheme::Other` `host` holds
/// the whole scheme-specific part and nothing else is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// The user part, still %-escaped (see `unescape`).
    pub user: Option<&'a str>,
    /// The password part (deprecated by RFC 3261, still parsed).
    pub password: Option<&'a str>,
    /// The host, without brackets for IPv6 references.
    pub host: &'a str,
    /// The port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Params<'a>,
    /// The raw header part after `?`, if any.
    pub headers: Option<&'a str>,
}

impl<'a> Uri<'a> {
    /// Parses a URI. Fails on whitespace, angle brackets, an empty host, a bad port or bad
    /// parameters; the scheme is matched case-insensitively.
    pub fn parse(text: &'a str) -> Result<Uri<'a>, ParseError> {
        if text
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b == b'<' || b == b'>' || b < 0x20)
        {
            return Err(ParseError::Uri(
                "whitespace, control character or angle bracket",
            ));
        }
        let colon = find_byte(text, b':').ok_or(ParseError::Uri("no scheme"))?;
        let (scheme_text, rest) = (&text[..colon], &text[colon + 1..]);
        if !is_scheme(scheme_text) {
            return Err(ParseError::Uri("invalid scheme"));
        }
        let scheme = if scheme_text.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_text.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_text.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            Scheme::Other
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => parse_sip(scheme, rest),
            Scheme::Tel => parse_tel(rest),
            Scheme::Other if rest.is_empty() => Err(ParseError::Uri("empty URI")),
            Scheme::Other => Ok(Uri {
                scheme,
                host: rest,
                ..Uri::empty(scheme)
            }),
        }
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    fn empty(scheme: Scheme) -> Uri<'a> {
        Uri {
            scheme,
            user: None,
            password: None,
            host: "",
            port: None,
            params: Params::default(),
            headers: None,
        }
    }
}

/// The user part with `%XX` escapes decoded (e.g. `%75se%72` is `user`). Invalid escapes are
/// kept as written; decoded bytes that are not UTF-8 become U+FFFD.
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex_val(*hi).zip(hex_val(*lo)).map(|(h, l)| (h << 4) | l),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn is_scheme(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

fn parse_sip(scheme: Scheme, rest: &str) -> Result<Uri<'_>, ParseError> {
    // Neither the host, the parameters nor the headers may contain '@', so an '@' always ends
    // the userinfo; the user part itself may contain ';', '?' and ',' (RFC 4475 semiuri).
    let (userinfo, hostpart) = match find_byte(rest, b'@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (Some(user), Some(password)),
            None => (Some(info), None),
        },
        None => (None, None),
    };
    if user == Some("") {
        return Err(ParseError::Uri("empty user part"));
    }
    let (hostport_params, headers) = match hostpart.split_once('?') {
        Some((before, headers)) => (before, Some(headers)),
        None => (hostpart, None),
    };
    let (hostport, params) = match find_byte(hostport_params, b';') {
        Some(semi) => hostport_params.split_at(semi),
        None => (hostport_params, ""),
    };
    let (host, port) = split_hostport(hostport)?;
    let params = Params::parse(params).map_err(|_| ParseError::Uri("bad URI parameters"))?;
    Ok(Uri {
        scheme,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

fn parse_tel(rest: &str) -> Result<Uri<'_>, ParseError> {
    let (number, params) = match find_byte(rest, b';') {
        Some(semi) => rest.split_at(semi),
        None => (rest, ""),
    };
    let valid = |b: u8| b.is_ascii_hexdigit() || b"+-.()*#pw".contains(&b.to_ascii_lowercase());
    if number.is_empty() || !number.bytes().all(valid) {
        return Err(ParseError::Uri("invalid telephone number"));
    }
    let params = Params::parse(params).map_err(|_| ParseError::Uri("bad tel parameters"))?;
    Ok(Uri {
        user: Some(number),
        params,
        ..Uri::empty(Scheme::Tel)
    })
}

/// Splits `host[:port]` (IPv6 references in brackets) and validates both.
pub(crate) fn split_hostport(text: &str) -> Result<(&str, Option<u16>), ParseError> {
    let (host, port_text) = if let Some(v6) = text.strip_prefix('[') {
        let close = v6
            .find(']')
            .ok_or(ParseError::Uri("unterminated IPv6 reference"))?;
        let host = &v6[..close];
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(ParseError::Uri("invalid IPv6 reference"));
        }
        match &v6[close + 1..] {
            "" => (host, None),
            after => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or(ParseError::Uri("junk after host"))?,
                ),
            ),
        }
    } else {
        // One pass: host characters up to the first ':'.
        let bytes = text.as_bytes();
        let end = bytes
            .iter()
            .position(|&b| !HOST_BYTES[usize::from(b)])
            .unwrap_or(bytes.len());
        match bytes.get(end) {
            None => (text, None),
            Some(b':') => (&text[..end], Some(&text[end + 1..])),
            Some(_) => return Err(ParseError::Uri("invalid host")),
        }
    };
    // (IPv6 references were checked above, host names by the scan.)
    if host.is_empty() {
        return Err(ParseError::Uri("invalid host"));
    }
    let port = match port_text {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };
    Ok((host, port))
}

/// Letters, digits, `-` and `.`: what a host name or IPv4 address is made of.
const HOST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
        b += 1;
    }
    table
};

/// `1*DIGIT` up to 65535 (leading zeros allowed).
fn parse_port(text: &str) -> Result<u16, ParseError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Uri("invalid port"));
    }
    let mut port: u32 = 0;
    for digit in text.bytes() {
        port = port * 10 + u32::from(digit - b'0');
        if port > u32::from(u16::MAX) {
            return Err(ParseError::Uri("port out of range"));
        }
    }
    Ok(port as u16)
}

#[cfg(test)]
mod tests;

//! `name-addr` / `addr-spec` header values (RFC 3261 section 20.10 and 25.1): From, To, Contact,
//! Route, Record-Route, Refer-To and friends.
//!
//! Owns: `NameAddr` and `Contacts`. Must not touch: comma lists (the caller splits them with
//! `header::split_list`) or URI internals (see `uri`).

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{find_byte, is_token_byte, is_wsp, quoted_len, trim_wsp};
use crate::sip::message::params::Params;
use crate::sip::message::uri::Uri;

/// `[display-name] <uri>;params` or `uri;params` (addr-spec form: params after the URI belong
/// to the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name: a quoted string without its quotes (backslash escapes kept as
    /// written), or the token sequence; `None` if absent or empty.
    pub display: Option<&'a str>,
    /// The URI text, without angle brackets.
    pub uri: &'a str,
    /// Header parameters (`;tag=...`, `;expires=...`, `;q=...`).
    pub params: Params<'a>,
}

/// The value of the Contact header(s) of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contacts<'a> {
    /// `Contact: *` (REGISTER: remove all bindings).
    Star,
    /// Every contact in order; empty when the header is absent.
    List(Vec<NameAddr<'a>>),
}

impl<'a> NameAddr<'a> {
    /// Parses one name-addr or addr-spec (one element of a comma list). Fails on unbalanced
    /// quotes, a display name that is neither quoted nor tokens, whitespace inside `<...>`, an
    /// addr-spec holding `,`, `?` or `;`-less junk, or a URI without scheme.
    pub fn parse(text: &'a str) -> Result<NameAddr<'a>, ParseError> {
        let text = trim_wsp(text);
        let (display, after_display) = if text.starts_with('"') {
            let len = quoted_len(text).ok_or(ParseError::Syntax("unbalanced quotes"))?;
            let rest = trim_wsp(&text[len..]);
            if !rest.starts_with('<') {
                return Err(ParseError::Syntax("quoted display name without <uri>"));
            }
            (Some(&text[1..len - 1]), rest)
        } else if let Some(lt) = find_byte(text, b'<') {
            let tokens = trim_wsp(&text[..lt]);
            if !tokens.bytes().all(|b| is_token_byte(b) || is_wsp(b)) {
                return Err(ParseError::Syntax("display name must be quoted"));
            }
            (Some(tokens).filter(|t| !t.is_empty()), &text[lt..])
        } else {
            return parse_addr_spec(text);
        };
        let inner = &after_display[1..];
        let gt = find_byte(inner, b'>').ok_or(ParseError::Syntax("missing '>'"))?;
        let uri = &inner[..gt];
        check_uri_shape(uri)?;
        let params = Params::parse(&inner[gt + 1..])?;
        Ok(NameAddr {
            display: display.filter(|d| !d.is_empty()),
            uri,
            params,
        })
    }

    /// The `tag` parameter (From/To).
    pub fn tag(&self) -> Option<&'a str> {
        self.params.get("tag").flatten()
    }

    /// Parses the URI.
    pub fn uri(&self) -> Result<Uri<'a>, ParseError> {
        Uri::parse(self.uri)
    }
}

fn parse_addr_spec(text: &str) -> Result<NameAddr<'_>, ParseError> {
    let (uri, params) = match find_byte(text, b';') {
        Some(semi) => (trim_wsp(&text[..semi]), &text[semi..]),
        None => (text, ""),
    };
    // RFC 3261 20: a URI with a comma, question mark or semicolon must be in angle brackets.
    if uri.bytes().any(|b| matches!(b, b',' | b'?' | b'>' | b'"')) {
        return Err(ParseError::Syntax(
            "addr-spec URI with reserved characters needs <>",
        ));
    }
    check_uri_shape(uri)?;
    Ok(NameAddr {
        display: None,
        uri,
        params: Params::parse(params)?,
    })
}

/// A URI inside a name-addr must be a non-empty `scheme:...` without whitespace; the full
/// check is left to `Uri::parse` so that unknown schemes stay usable. One pass over the bytes.
fn check_uri_shape(uri: &str) -> Result<(), ParseError> {
    const MALFORMED: ParseError = ParseError::Syntax("malformed URI in name-addr");
    let bytes = uri.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(MALFORMED);
    }
    let scheme_len = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .ok_or(MALFORMED)?;
    // The scheme is made of letters, digits and `+-.`, so only the rest can hold bad bytes.
    if bytes[scheme_len] != b':' || bytes[scheme_len..].iter().any(|&b| b <= b' ' || b == b'<') {
        return Err(MALFORMED);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_display_with_escapes_and_commas() {
        let na = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(na.display, Some(r#"J Rosenberg \\\""#));
        assert_eq!(na.uri, "sip:jdrosen@example.com");
        assert_eq!(na.tag(), Some("98asjd8"));
        let na =
            NameAddr::parse(r#""Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423"#).unwrap();
        assert_eq!(na.display, Some("Bell, Alexander"));
    }

    #[test]
    fn token_display_and_no_display() {
        let na = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!((na.display, na.tag()), (Some("caller"), Some("323")));
        let na = NameAddr::parse("token1~` token2'+_ <sip:mundane@example.com>").unwrap();
        assert_eq!(na.display, Some("token1~` token2'+_"));
        let na = NameAddr::parse("<sip:a@b;lr>").unwrap();
        assert_eq!(
            (na.display, na.uri, na.params.is_empty()),
            (None, "sip:a@b;lr", true)
        );
        assert_eq!(NameAddr::parse(r#""" <sip:a@b>"#).unwrap().display, None);
    }

    #[test]
    fn addr_spec_params_belong_to_header() {
        let na = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam;tag=x").unwrap();
        assert_eq!(na.uri, "sip:+19725552222@gw1.example.net");
        assert_eq!(na.params.get("unknownparam"), Some(None));
        assert_eq!(na.tag(), Some("x"));
        let na =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(
            (na.uri, na.tag()),
            ("sip:vivekg@chair-dnrc.example.com", Some("1918181833n"))
        );
        assert_eq!(na.uri().unwrap().host, "chair-dnrc.example.com");
        assert_eq!(
            NameAddr::parse("isbn:2983792873").unwrap().uri,
            "isbn:2983792873"
        );
    }

    #[test]
    fn malformed_name_addrs_are_rejected() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:a@b",
            r#""x" sip:a@b"#,
            "alan@jasomi.com",
            "<sip:a@b>;;;;",
            "<>",
            "",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }
}

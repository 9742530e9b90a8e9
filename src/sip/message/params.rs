//! Semicolon parameters (`;name[=value]`) of URIs, Via and name-addr headers.
//!
//! Owns: `Params`, a validated view of the raw parameter text. Lookups are case-insensitive on
//! the name; values come back as written (quoted values keep their quotes). LWS around `;` and
//! `=` is tolerated, as RFC 3261 allows it in header parameters.

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{is_token, is_token_byte, is_wsp, quoted_len, trim_wsp};

/// Semicolon parameters `;name[=value]`, kept as the raw text, looked up case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Params<'a>(&'a str);

impl<'a> Params<'a> {
    /// Validates `text`, which is empty or starts with `;`. Every parameter needs a token name;
    /// a value, if present, must be non-empty. Fails on `;;` or a bare `;`.
    pub fn parse(text: &'a str) -> Result<Params<'a>, ParseError> {
        let text = trim_wsp(text);
        if text.is_empty() {
            return Ok(Params(""));
        }
        if !text.starts_with(';') {
            return Err(ParseError::Syntax("parameters must start with ';'"));
        }
        if !plainly_valid(&text.as_bytes()[1..]) {
            check_pieces(&text[1..])?;
        }
        Ok(Params(text))
    }

    /// The value of parameter `name`: `None` if absent, `Some(None)` if present without a value.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        let inner = self.0.strip_prefix(';').unwrap_or(self.0);
        if inner.is_empty() {
            return None;
        }
        for piece in Pieces::new(inner) {
            let piece = piece?;
            // `LWS name LWS [= value]`: compare the name in place rather than splitting first.
            let lead = piece.bytes().take_while(|&b| is_wsp(b)).count();
            let Some(key) = piece.get(lead..lead + name.len()) else {
                continue;
            };
            if !key.eq_ignore_ascii_case(name) {
                continue;
            }
            let after = piece[lead + name.len()..].trim_start_matches([' ', '\t']);
            if after.is_empty() {
                return Some(None);
            }
            if let Some(value) = after.strip_prefix('=') {
                return Some(Some(trim_wsp(value)));
            }
        }
        None
    }

    /// Every parameter in order, names and values trimmed.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + use<'a> {
        let inner = self.0.strip_prefix(';').unwrap_or(self.0);
        let pieces = if inner.is_empty() {
            None
        } else {
            Some(Pieces::new(inner))
        };
        pieces
            .into_iter()
            .flatten()
            .map_while(|piece| piece.map(split_piece))
    }

    /// The raw text, starting with `;` (empty when there are no parameters).
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// True if there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The full check of a parameter list (after the first `;`): LWS around names, `=` and values,
/// quoted values.
fn check_pieces(list: &str) -> Result<(), ParseError> {
    for piece in Pieces::new(list) {
        let piece = piece.ok_or(ParseError::Syntax("unterminated quoted parameter"))?;
        let (name, value) = split_piece(piece);
        if !is_token(name) {
            return Err(ParseError::Syntax("empty or invalid parameter name"));
        }
        if value.is_some_and(|v| v.is_empty() || (v.bytes().any(is_wsp) && !v.starts_with('"'))) {
            return Err(ParseError::Syntax("invalid parameter value"));
        }
    }
    Ok(())
}

/// The common case in one pass: `name[=value]` pieces separated by `;`, with token names and
/// values without LWS, quotes or `<`. True means `Params::parse` accepts the list; false
/// means "not this simple", and the full check decides.
fn plainly_valid(list: &[u8]) -> bool {
    let mut i = 0;
    loop {
        let name_start = i;
        while list.get(i).copied().is_some_and(is_token_byte) {
            i += 1;
        }
        if i == name_start {
            return false;
        }
        if list.get(i) == Some(&b'=') {
            i += 1;
            let value_start = i;
            while let Some(&b) = list.get(i) {
                if b == b';' {
                    break;
                }
                if is_wsp(b) || b == b'"' || b == b'<' {
                    return false;
                }
                i += 1;
            }
            if i == value_start {
                return false;
            }
        }
        match list.get(i) {
            None => return true,
            Some(b';') => i += 1,
            Some(_) => return false,
        }
    }
}

/// Splits the parameter list (after the first `;`) at `;` outside quotes and `<...>`. Yields
/// `None` for an unterminated quote, then stops.
struct Pieces<'a> {
    rest: Option<&'a str>,
}

impl<'a> Pieces<'a> {
    fn new(text: &'a str) -> Pieces<'a> {
        Pieces { rest: Some(text) }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Option<&'a str>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.take()?;
        match piece_end(rest) {
            Err(()) => Some(None),
            Ok(Some(at)) => {
                self.rest = Some(&rest[at + 1..]);
                Some(Some(&rest[..at]))
            }
            Ok(None) => Some(Some(rest)),
        }
    }
}

/// `header::find_unquoted(text, b';')` as a plain byte loop: parameters are short, so this
/// beats a vectorised search that has to be set up for every piece.
fn piece_end(text: &str) -> Result<Option<usize>, ()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    loop {
        while bytes
            .get(i)
            .is_some_and(|&b| !PIECE_SPECIAL[usize::from(b)])
        {
            i += 1;
        }
        match bytes.get(i) {
            None => return Ok(None),
            Some(b';') => return Ok(Some(i)),
            Some(b'"') => i += quoted_len(&text[i..]).ok_or(())?,
            Some(_) => match bytes[i..].iter().position(|&b| b == b'>') {
                Some(close) => i += close + 1,
                None => return Ok(None),
            },
        }
    }
}

/// The bytes `piece_end` stops at: `;`, `"` and `<`.
const PIECE_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b';' as usize] = true;
    table[b'"' as usize] = true;
    table[b'<' as usize] = true;
    table
};

fn split_piece(piece: &str) -> (&str, Option<&str>) {
    match piece.bytes().position(|b| b == b'=') {
        Some(eq) => (trim_wsp(&piece[..eq]), Some(trim_wsp(&piece[eq + 1..]))),
        None => (trim_wsp(piece), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_trims() {
        let p = Params::parse(" ;   tag    = 1918181833n ; LR;q=0.5").unwrap();
        assert_eq!(p.get("TAG"), Some(Some("1918181833n")));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get("q"), Some(Some("0.5")));
        assert_eq!(p.get("maddr"), None);
        assert_eq!(p.iter().count(), 3);
        assert_eq!(p.as_str(), ";   tag    = 1918181833n ; LR;q=0.5");
    }

    #[test]
    fn quoted_values_may_hold_semicolons() {
        let p = Params::parse(r#";x="a;b\"c";y"#).unwrap();
        assert_eq!(p.get("x"), Some(Some(r#""a;b\"c""#)));
        assert_eq!(p.get("y"), Some(None));
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_check_accepts_only_what_the_full_check_accepts(
            list in "[a-z0-9=;\" <>\t,:.-]{0,24}"
        ) {
            if plainly_valid(list.as_bytes()) {
                proptest::prop_assert!(check_pieces(&list).is_ok(), "{}", list);
            }
        }
    }

    #[test]
    fn the_one_pass_check_takes_the_usual_lists() {
        for list in [
            "branch=z9hG4bK-1-0;rport",
            "tag=a=b;lr",
            "transport=tcp;maddr=[::1]:5",
        ] {
            assert!(plainly_valid(list.as_bytes()), "{list}");
        }
        for list in ["", "a;", "a=", "a= b", "a=\"x\"", "a=<x>", "a b", ";a"] {
            assert!(!plainly_valid(list.as_bytes()), "{list}");
        }
    }

    #[test]
    fn empty_and_malformed_parameters_are_rejected() {
        for bad in [
            ";;",
            ";",
            ";a;;b",
            "a=b",
            ";=x",
            ";a=",
            r#";a="open"#,
            ";a=b c",
        ] {
            assert!(Params::parse(bad).is_err(), "{bad}");
        }
        assert!(Params::parse("").unwrap().is_empty());
        assert_eq!(Params::default().iter().count(), 0);
    }
}

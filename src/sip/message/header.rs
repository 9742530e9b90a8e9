//! Header names (RFC 3261 section 7.3.3 compact forms) and the lexical helpers shared by the
//! typed header parsers: token characters, LWS trimming, quoted strings and comma lists.
//!
//! Owns: the compact-name table, `HeaderId`, `HeaderIndex` (first line of each known name) and
//! `split_list`. Must not touch: message framing.
//! Used by: `Message` lookups and the typed parsers in this module.

use memchr::{memchr, memchr2, memchr3};

/// Full header names and their compact forms (RFC 3261 7.3.3 and the extensions registered
/// with IANA).
const COMPACT: &[(&str, &str)] = &[
    ("Accept-Contact", "a"),
    ("Referred-By", "b"),
    ("Content-Type", "c"),
    ("Request-Disposition", "d"),
    ("Content-Encoding", "e"),
    ("From", "f"),
    ("Call-ID", "i"),
    ("Reject-Contact", "j"),
    ("Supported", "k"),
    ("Content-Length", "l"),
    ("Contact", "m"),
    ("Event", "o"),
    ("Refer-To", "r"),
    ("Subject", "s"),
    ("To", "t"),
    ("Allow-Events", "u"),
    ("Via", "v"),
    ("Session-Expires", "x"),
    ("Identity", "y"),
];

/// The other spelling of a header name: the compact form of a full name or the full name of a
/// compact form, compared case-insensitively. `None` for names without a compact form.
pub fn alternate_name(name: &str) -> Option<&'static str> {
    COMPACT.iter().find_map(|&(full, compact)| {
        if name.eq_ignore_ascii_case(full) {
            Some(compact)
        } else if name.eq_ignore_ascii_case(compact) {
            Some(full)
        } else {
            None
        }
    })
}

/// The long form of a header name if `name` is a compact form, else `name` itself.
pub fn canonical_name(name: &str) -> &str {
    match alternate_name(name) {
        Some(full) if name.len() == 1 => full,
        _ => name,
    }
}

/// Header names the stack looks up often, classified once at parse time so that lookups
/// compare a byte instead of strings. Compact forms map to the same id as the full name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderId {
    Unknown,
    AcceptContact,
    AllowEvents,
    CallId,
    Contact,
    ContentEncoding,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    Event,
    Expires,
    From,
    Identity,
    MaxForwards,
    RecordRoute,
    ReferTo,
    ReferredBy,
    RejectContact,
    RequestDisposition,
    Require,
    Route,
    SessionExpires,
    Subject,
    Supported,
    To,
    Via,
}

impl HeaderId {
    /// The number of ids (the last variant's discriminant plus one).
    pub(crate) const COUNT: usize = HeaderId::Via as usize + 1;

    /// Classifies a header name (as written, any case, full or compact).
    pub(crate) fn of(name: &[u8]) -> HeaderId {
        use HeaderId::*;
        let (Some(&first), Some(&last)) = (name.first(), name.last()) else {
            return Unknown;
        };
        if name.len() == 1 {
            return HeaderId::of_compact(first);
        }
        // Length, first and last letter pick the one candidate; one comparison confirms it.
        let key = (
            name.len(),
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase(),
        );
        let (full, id) = match key {
            (2, b't', b'o') => ("To", To),
            (3, b'v', b'a') => ("Via", Via),
            (4, b'f', b'm') => ("From", From),
            (4, b'c', b'q') => ("CSeq", CSeq),
            (4, b'd', b'e') => ("Date", Date),
            (5, b'r', b'e') => ("Route", Route),
            (5, b'e', b't') => ("Event", Event),
            (7, b'c', b'd') => ("Call-ID", CallId),
            (7, b'c', b't') => ("Contact", Contact),
            (7, b'e', b's') => ("Expires", Expires),
            (7, b'r', b'e') => ("Require", Require),
            (7, b's', b't') => ("Subject", Subject),
            (8, b'r', b'o') => ("Refer-To", ReferTo),
            (8, b'i', b'y') => ("Identity", Identity),
            (9, b's', b'd') => ("Supported", Supported),
            (11, b'r', b'y') => ("Referred-By", ReferredBy),
            (12, b'c', b'e') => ("Content-Type", ContentType),
            (12, b'm', b's') => ("Max-Forwards", MaxForwards),
            (12, b'r', b'e') => ("Record-Route", RecordRoute),
            (12, b'a', b's') => ("Allow-Events", AllowEvents),
            (14, b'c', b'h') => ("Content-Length", ContentLength),
            (14, b'a', b't') => ("Accept-Contact", AcceptContact),
            (14, b'r', b't') => ("Reject-Contact", RejectContact),
            (15, b's', b's') => ("Session-Expires", SessionExpires),
            (16, b'c', b'g') => ("Content-Encoding", ContentEncoding),
            (19, b'r', b'n') => ("Request-Disposition", RequestDisposition),
            _ => return Unknown,
        };
        // Most peers spell names canonically: try the exact bytes before the case-folding loop.
        if name == full.as_bytes() || name.eq_ignore_ascii_case(full.as_bytes()) {
            id
        } else {
            Unknown
        }
    }

    fn of_compact(letter: u8) -> HeaderId {
        use HeaderId::*;
        match letter.to_ascii_lowercase() {
            b'a' => AcceptContact,
            b'b' => ReferredBy,
            b'c' => ContentType,
            b'd' => RequestDisposition,
            b'e' => ContentEncoding,
            b'f' => From,
            b'i' => CallId,
            b'j' => RejectContact,
            b'k' => Supported,
            b'l' => ContentLength,
            b'm' => Contact,
            b'o' => Event,
            b'r' => ReferTo,
            b's' => Subject,
            b't' => To,
            b'u' => AllowEvents,
            b'v' => Via,
            b'x' => SessionExpires,
            b'y' => Identity,
            _ => Unknown,
        }
    }
}

/// Where the first header of each id sits in a message's header table, noted while the table
/// is built, so that typed accessors start there instead of scanning from the top.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderIndex([u16; HeaderId::COUNT]);

impl Default for HeaderIndex {
    fn default() -> Self {
        HeaderIndex([0; HeaderId::COUNT])
    }
}

impl HeaderIndex {
    /// Notes that header `index` of the table has `id` (a no-op if an earlier one had it).
    pub(crate) fn note(&mut self, id: HeaderId, index: usize) {
        let slot = &mut self.0[id as usize];
        if *slot == 0 {
            // 0 means absent; an index beyond the range makes lookups start from the top.
            *slot = u16::try_from(index + 1).unwrap_or(1);
        }
    }

    /// The table index to start looking for `id` at; `None` when no header has it.
    pub(crate) fn first(&self, id: HeaderId) -> Option<usize> {
        match self.0[id as usize] {
            0 => None,
            n => Some(usize::from(n) - 1),
        }
    }
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES[usize::from(b)]
}

/// Lookup table for `is_token_byte`: alphanumerics and `-.!%*_+`'~`.
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        b += 1;
    }
    table
};

/// True if `text` is a non-empty RFC 3261 `token`.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_token_byte)
}

/// Linear white space inside an (already unfolded) header value.
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims spaces and tabs on both ends.
pub(crate) fn trim_wsp(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_wsp(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_wsp(b))
        .map_or(start, |p| p + 1);
    // Both ends sit next to ASCII bytes, so they are char boundaries.
    text.get(start..end).unwrap_or_default()
}

/// The first position of `byte` in `text`: `memchr` without the UTF-8 encoding of the needle
/// that `str::find(char)` does on every call.
pub(crate) fn find_byte(text: &str, byte: u8) -> Option<usize> {
    memchr(byte, text.as_bytes())
}

/// Given `text` starting with `"`, returns the byte length of the quoted string including both
/// quotes (backslash escapes honoured), or `None` if it is not terminated.
pub(crate) fn quoted_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while let Some(off) = memchr2(b'\\', b'"', bytes.get(i..)?) {
        let at = i + off;
        if bytes[at] == b'"' {
            return Some(at + 1);
        }
        i = at + 2;
    }
    None
}

/// Finds the first `sep` byte outside quoted strings and `<...>`; `Err` on an unterminated quote.
pub(crate) fn find_unquoted(text: &str, sep: u8) -> Result<Option<usize>, ()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr3(sep, b'"', b'<', &bytes[i..]) {
        let at = i + off;
        match bytes[at] {
            b'"' => i = at + quoted_len(&text[at..]).ok_or(())?,
            b'<' => match memchr(b'>', &bytes[at..]) {
                Some(close) => i = at + close + 1,
                None => return Ok(None),
            },
            _ => return Ok(Some(at)),
        }
    }
    Ok(None)
}

/// Splits a comma-separated header value into trimmed elements, respecting quoted strings and
/// angle brackets. An empty element (e.g. `a,,b`) or an unterminated quote is an error.
pub(crate) fn split_list(value: &str) -> SplitList<'_> {
    SplitList { rest: Some(value) }
}

/// Iterator returned by `split_list`.
pub(crate) struct SplitList<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for SplitList<'a> {
    type Item = Result<&'a str, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.take()?;
        let (element, tail) = match find_unquoted(rest, b',') {
            Err(()) => return Some(Err("unterminated quoted string")),
            Ok(Some(at)) => (&rest[..at], Some(&rest[at + 1..])),
            Ok(None) => (rest, None),
        };
        self.rest = tail;
        let element = trim_wsp(element);
        if element.is_empty() {
            return Some(Err("empty list element"));
        }
        Some(Ok(element))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_names_resolve_both_ways() {
        for (full, compact) in [
            ("Call-ID", "i"),
            ("Contact", "m"),
            ("Content-Encoding", "e"),
        ] {
            assert_eq!(alternate_name(full), Some(compact));
            assert_eq!(alternate_name(&compact.to_uppercase()), Some(full));
        }
        for (full, compact) in [("Content-Length", "l"), ("From", "f"), ("To", "t")] {
            assert_eq!(alternate_name(&full.to_lowercase()), Some(compact));
        }
        for (full, compact) in [("Via", "v"), ("Subject", "s"), ("Supported", "k")] {
            assert_eq!(alternate_name(compact), Some(full));
        }
        assert_eq!(alternate_name("Content-Type"), Some("c"));
        assert_eq!(alternate_name("X-Custom"), None);
        assert_eq!(canonical_name("V"), "Via");
        assert_eq!(canonical_name("Max-Forwards"), "Max-Forwards");
    }

    #[test]
    fn header_ids_agree_with_the_compact_table() {
        assert_eq!(HeaderId::of(b"VIA"), HeaderId::Via);
        assert_eq!(HeaderId::of(b"v"), HeaderId::Via);
        assert_eq!(HeaderId::of(b"Vias"), HeaderId::Unknown);
        assert_eq!(HeaderId::of(b"q"), HeaderId::Unknown);
        assert_eq!(HeaderId::of(b""), HeaderId::Unknown);
        for &(full, compact) in COMPACT {
            let id = HeaderId::of(full.as_bytes());
            assert_ne!(id, HeaderId::Unknown, "{full}");
            assert_eq!(HeaderId::of(compact.as_bytes()), id, "{full}");
            assert_eq!(HeaderId::of(full.to_lowercase().as_bytes()), id, "{full}");
        }
        for name in [
            "CSeq",
            "Max-Forwards",
            "Route",
            "Record-Route",
            "Expires",
            "Require",
            "Date",
        ] {
            assert_ne!(HeaderId::of(name.as_bytes()), HeaderId::Unknown, "{name}");
        }
    }

    #[test]
    fn list_split_respects_quotes_and_angles() {
        let items: Vec<_> = split_list(r#""Doe, \"J\"" <sip:a@b;x=1,2>, <sip:c@d> ; q=0.5"#)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            items,
            vec![r#""Doe, \"J\"" <sip:a@b;x=1,2>"#, "<sip:c@d> ; q=0.5"]
        );
        assert!(split_list("a,,b").any(|r| r.is_err()));
        assert!(split_list(r#""open, <sip:a@b>"#).any(|r| r.is_err()));
    }

    #[test]
    fn quoted_len_handles_escapes() {
        assert_eq!(quoted_len(r#""a\"b" rest"#), Some(6));
        assert_eq!(quoted_len(r#""a\""#), None);
        assert_eq!(quoted_len("\"abc\\"), None);
    }
}

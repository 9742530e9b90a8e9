//! Asterisk-style number patterns for routes: `_1XXX`, `_0048.`, `_[1-3]NXX`.
//!
//! Owns: parsing and matching a pattern. No regular expressions: `X` is any digit, `Z` is
//! 1-9, `N` is 2-9, `[1-3a]` is a set, `.` is one or more of anything, `!` zero or more;
//! any other character matches itself. Must not touch: anything else.

/// A compiled number pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    elems: Vec<Elem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    Literal(char),
    Set(Vec<(char, char)>),
    OneOrMore,
    ZeroOrMore,
}

impl Pattern {
    /// Parses a pattern that starts with `_`; the error says what is wrong.
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let Some(body) = source.strip_prefix('_') else {
            return Err(format!("pattern '{source}' must start with '_'"));
        };
        let mut elems = Vec::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            let elem = match c.to_ascii_uppercase() {
                'X' => Elem::Set(vec![('0', '9')]),
                'Z' => Elem::Set(vec![('1', '9')]),
                'N' => Elem::Set(vec![('2', '9')]),
                '.' => Elem::OneOrMore,
                '!' => Elem::ZeroOrMore,
                '[' => Elem::Set(parse_set(&mut chars, source)?),
                _ => Elem::Literal(c),
            };
            if matches!(elem, Elem::OneOrMore | Elem::ZeroOrMore) && chars.clone().next().is_some()
            {
                return Err(format!("in pattern '{source}', '{c}' must be last"));
            }
            elems.push(elem);
        }
        if elems.is_empty() {
            return Err(format!("pattern '{source}' is empty"));
        }
        Ok(Pattern {
            source: source.to_owned(),
            elems,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `number` matches the whole pattern.
    pub fn matches(&self, number: &str) -> bool {
        let mut chars = number.chars();
        for elem in &self.elems {
            match elem {
                Elem::OneOrMore => return chars.next().is_some(),
                Elem::ZeroOrMore => return true,
                Elem::Literal(l) => {
                    if chars.next() != Some(*l) {
                        return false;
                    }
                }
                Elem::Set(ranges) => match chars.next() {
                    Some(c) if ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) => {}
                    _ => return false,
                },
            }
        }
        chars.next().is_none()
    }
}

fn parse_set(chars: &mut std::str::Chars<'_>, source: &str) -> Result<Vec<(char, char)>, String> {
    let mut ranges = Vec::new();
    loop {
        match chars.next() {
            None => return Err(format!("in pattern '{source}', '[' is not closed")),
            Some(']') if !ranges.is_empty() => return Ok(ranges),
            Some(']') => return Err(format!("in pattern '{source}', '[]' is empty")),
            Some(lo) => {
                if chars.clone().next() == Some('-') {
                    chars.next();
                    match chars.next() {
                        Some(hi) if hi != ']' && lo <= hi => ranges.push((lo, hi)),
                        _ => return Err(format!("in pattern '{source}', bad range after '{lo}'")),
                    }
                } else {
                    ranges.push((lo, lo));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_sets_and_tails() {
        let p = Pattern::parse("_1XXX").expect("valid");
        assert!(p.matches("1234"));
        assert!(!p.matches("2234"));
        assert!(!p.matches("123"));
        assert!(!p.matches("12345"));
        let p = Pattern::parse("_[1-3]N").expect("valid");
        assert!(p.matches("32"));
        assert!(!p.matches("41"));
        assert!(!p.matches("11"));
        let p = Pattern::parse("_0048.").expect("valid");
        assert!(p.matches("0048221"));
        assert!(!p.matches("0048"));
        let p = Pattern::parse("_9!").expect("valid");
        assert!(p.matches("9"));
        assert!(p.matches("912"));
    }

    #[test]
    fn malformed_patterns_are_rejected() {
        assert!(Pattern::parse("1XXX").is_err());
        assert!(Pattern::parse("_").is_err());
        assert!(Pattern::parse("_[12").is_err());
        assert!(Pattern::parse("_[]").is_err());
        assert!(Pattern::parse("_[9-1]").is_err());
        assert!(Pattern::parse("_1.2").is_err());
    }
}

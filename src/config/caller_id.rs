//! What Centrala presents to a carrier on calls out through a trunk: the number and display
//! name set on a trunk (`[trunks.outbound] caller_id`, `caller_name`) or a queue
//! (`[[queues]] caller_id`, `caller_name`), and the trunk's identity headers
//! (`p_asserted_identity`, `privacy`).
//!
//! Owns: the value types and their checks. A malformed number, name or privacy value fails
//! while the TOML is read, so the error names the file and line.
//! Must not touch: SIP (the headers are built by `calls::caller_id`), the precedence rule
//! (also `calls::caller_id`).
//! Driven by: `config::sections` (trunks) and `config::routing` (queues); the API checks a
//! click-to-dial request's number with the same types.

use std::fmt;

use serde::Deserialize;

/// A number presented to a carrier: an optional `+` and 2 to 15 digits (E.164 allows at most
/// 15; without the `+` it is in whatever national form the carrier expects).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct CallerNumber(String);

impl CallerNumber {
    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CallerNumber {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let digits = text.strip_prefix('+').unwrap_or(&text);
        let well_formed =
            (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        if well_formed {
            Ok(CallerNumber(text))
        } else {
            Err(format!(
                "caller number {text:?} must be an optional + and 2 to 15 digits (E.164, e.g. \
                 \"+48221234567\")"
            ))
        }
    }
}

impl fmt::Display for CallerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name shown with the number: 1 to 64 characters, none of them a double quote, a
/// backslash or a control character (so it can be written as a SIP quoted string as it is).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let length = text.chars().count();
        let bad = |c: char| c == '"' || c == '\\' || c.is_control();
        if (1..=64).contains(&length) && !text.chars().any(bad) {
            Ok(DisplayName(text))
        } else {
            Err(format!(
                "caller name {text:?} must be 1 to 64 characters without quotes, backslashes \
                 or control characters"
            ))
        }
    }
}

/// A number with its display name: presented together, so a level that sets a number also
/// decides the name (no name from one level with a number from another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// The number.
    pub number: CallerNumber,
    /// The name shown with it, if any.
    pub name: Option<DisplayName>,
}

impl CallerId {
    /// The caller ID of a section's `caller_id` and `caller_name` keys; `Err` names `owner`
    /// when a name comes without a number.
    pub fn of(
        owner: &str,
        number: Option<&CallerNumber>,
        name: Option<&DisplayName>,
    ) -> Result<Option<CallerId>, String> {
        match (number, name) {
            (Some(number), name) => Ok(Some(CallerId {
                number: number.clone(),
                name: name.cloned(),
            })),
            (None, Some(_)) => Err(format!("{owner}: caller_name needs a caller_id")),
            (None, None) => Ok(None),
        }
    }
}

/// `privacy` of a trunk (RFC 3323): whether the carrier is asked to withhold the number from
/// the called party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// The number is shown (no `Privacy` header).
    #[default]
    None,
    /// Withheld: `From` is anonymous and `Privacy: id` asks the carrier to keep the asserted
    /// identity from the called party.
    Id,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_e164_ish() {
        for good in ["+48221234567", "0221234567", "12", "+123456789012345"] {
            assert!(CallerNumber::try_from(good.to_owned()).is_ok(), "{good}");
        }
        for bad in [
            "",
            "+",
            "1",
            "+1234567890123456",
            "1001a",
            "+48 22",
            "sip:1@x",
            "++12",
        ] {
            assert!(CallerNumber::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_cannot_break_out_of_the_quoted_string() {
        assert!(DisplayName::try_from("Sprzedaż Centrala".to_owned()).is_ok());
        for bad in ["", "a\"b", "a\\b", "a\r\nVia: x", &"x".repeat(65)] {
            assert!(DisplayName::try_from(bad.to_owned()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_name_needs_a_number() {
        let number = CallerNumber::try_from("+48221234567".to_owned()).unwrap();
        let name = DisplayName::try_from("Sales".to_owned()).unwrap();
        assert!(CallerId::of("queue sales", None, Some(&name)).is_err());
        assert_eq!(CallerId::of("queue sales", None, None), Ok(None));
        let id = CallerId::of("queue sales", Some(&number), Some(&name)).unwrap();
        assert_eq!(id.map(|id| id.number), Some(number));
    }

    /// `[[trunks]]` "c" with `outbound` keys, as a file.
    fn trunk_file(outbound: &str) -> String {
        format!(
            "[[trunks]]\nname = \"c\"\n[trunks.outbound]\nproxy = \"192.0.2.1:5060\"\n{outbound}"
        )
    }

    #[test]
    fn a_malformed_value_names_its_file_and_line() {
        for bad in [
            "caller_id = \"1001x\"",
            "caller_name = \"a\\\"b\"",
            "privacy = \"all\"",
        ] {
            let err = crate::config::Config::parse(&trunk_file(bad), "c.toml").unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("c.toml:5:"), "{bad}: {text}");
        }
    }

    #[test]
    fn pai_and_names_need_a_number() {
        let cases = [
            (
                trunk_file("p_asserted_identity = true"),
                "p_asserted_identity needs a caller_id",
            ),
            (
                trunk_file("caller_name = \"C\""),
                "trunk c: caller_name needs a caller_id",
            ),
            (
                "[[queues]]\nname = \"q\"\ncaller_name = \"Q\"\n".to_owned(),
                "queue q: caller_name needs a caller_id",
            ),
        ];
        for (text, expected) in cases {
            let config = crate::config::Config::parse(&text, "c.toml").unwrap();
            let err = config.validate().unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let good = trunk_file("caller_id = \"+48221234567\"\np_asserted_identity = true");
        let config = crate::config::Config::parse(&good, "c.toml").unwrap();
        assert_eq!(config.validate(), Ok(()));
    }
}

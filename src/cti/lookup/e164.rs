//! Phone numbers to E.164 (`+48221112233`), so the CRM is asked with one spelling whatever the
//! trunk or phone sent.
//!
//! Owns: the normalisation rules below. Must not touch: anything else; pure functions.
//! Driven by: `LookupService` (the `number` parameter) and the chat/e-mail channels.
//!
//! Rules, in order:
//! 1. Drop spaces, tabs, `-`, `.`, `/`, `(` and `)`.
//! 2. `+digits` is already international. `00digits` becomes `+digits`.
//! 3. A single leading `0` is a national trunk prefix (UK `020…`, DE `030…`): it is dropped and
//!    the default country code is put in front.
//! 4. Other digits-only numbers are national and get the default country code, unless the
//!    national length is configured, the number is longer than it and already starts with the
//!    country code (Polish trunks often send `48221112233`): then it only gets the `+`.
//! 5. Anything else (letters, `anonymous`, an empty string) or a result outside 4..=15 digits
//!    is refused: a lookup for it would be a wasted request.
//!
//! This is not a numbering-plan database (libphonenumber's job); it does not validate that a
//! number exists, only puts a plausible one into canonical form.

use thiserror::Error;

/// How national numbers are completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct E164Rules {
    /// Country calling code without `+`, e.g. `48`.
    pub country_code: String,
    /// Length of a national significant number, when fixed (9 in Poland).
    pub national_digits: Option<usize>,
}

/// A number that cannot be put in E.164 form. The caller's (or the trunk's) data is at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NumberError {
    /// Characters other than digits, separators and a leading `+`.
    #[error("not a phone number")]
    NotANumber,
    /// Fewer than 4 or more than 15 digits after normalisation.
    #[error("a phone number has 4 to 15 digits, this one {0}")]
    BadLength(usize),
}

/// Puts `raw` in E.164 form following the rules in the module docs.
pub fn normalize_e164(raw: &str, rules: &E164Rules) -> Result<String, NumberError> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '-' | '.' | '/' | '(' | ')'))
        .collect();
    let (international, digits) = if let Some(rest) = cleaned.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = cleaned.strip_prefix("00") {
        (true, rest)
    } else {
        (false, cleaned.as_str())
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    let full = if international {
        digits.to_string()
    } else if let Some(national) = digits.strip_prefix('0') {
        format!("{}{national}", rules.country_code)
    } else if rules.national_digits.is_some_and(|n| digits.len() > n)
        && digits.starts_with(&rules.country_code)
    {
        digits.to_string()
    } else {
        format!("{}{digits}", rules.country_code)
    };
    if !(4..=15).contains(&full.len()) {
        return Err(NumberError::BadLength(full.len()));
    }
    Ok(format!("+{full}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poland() -> E164Rules {
        E164Rules {
            country_code: "48".into(),
            national_digits: Some(9),
        }
    }

    #[test]
    fn normalisation_table() {
        let table = [
            ("+48 22 111 22 33", "+48221112233"),
            ("+48-22-111-22-33", "+48221112233"),
            ("0048221112233", "+48221112233"),
            ("221112233", "+48221112233"),
            ("22 111 22 33", "+48221112233"),
            ("48221112233", "+48221112233"),
            ("(22) 111.22.33", "+48221112233"),
            ("0221112233", "+48221112233"),
            ("+4420 7946 0958", "+442079460958"),
            ("00442079460958", "+442079460958"),
            ("481234567", "+48481234567"),
        ];
        for (raw, expected) in table {
            assert_eq!(
                normalize_e164(raw, &poland()).as_deref(),
                Ok(expected),
                "{raw}"
            );
        }
    }

    #[test]
    fn without_national_length_every_bare_number_is_national() {
        let rules = E164Rules {
            country_code: "44".into(),
            national_digits: None,
        };
        assert_eq!(
            normalize_e164("02079460958", &rules).as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            normalize_e164("442079460958", &rules).as_deref(),
            Ok("+44442079460958")
        );
    }

    #[test]
    fn garbage_is_refused() {
        for raw in ["", "anonymous", "+", "12a4", "++48221112233", "*100#"] {
            assert_eq!(
                normalize_e164(raw, &poland()),
                Err(NumberError::NotANumber),
                "{raw}"
            );
        }
        assert_eq!(
            normalize_e164("+1234567890123456", &poland()),
            Err(NumberError::BadLength(16))
        );
        assert_eq!(
            normalize_e164("+12", &poland()),
            Err(NumberError::BadLength(2))
        );
    }
}

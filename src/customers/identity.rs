//! Identities: how a customer is known on each channel, in one canonical spelling so that
//! linking can demand an exact match. Pure functions.

use thiserror::Error;

use crate::cti::lookup::{E164Rules, normalize_e164};

/// What an identity value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityKind {
    /// A phone number in E.164.
    Phone,
    /// An e-mail address, lower case.
    Email,
    /// A web-chat visitor id.
    Chat,
    /// A WhatsApp id (the number, E.164 digits).
    Whatsapp,
    /// A Messenger page-scoped id.
    Messenger,
    /// The CRM's own customer id.
    Crm,
}

impl IdentityKind {
    /// Every kind.
    pub const ALL: [IdentityKind; 6] = [
        IdentityKind::Phone,
        IdentityKind::Email,
        IdentityKind::Chat,
        IdentityKind::Whatsapp,
        IdentityKind::Messenger,
        IdentityKind::Crm,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Phone => "phone",
            IdentityKind::Email => "email",
            IdentityKind::Chat => "chat",
            IdentityKind::Whatsapp => "whatsapp",
            IdentityKind::Messenger => "messenger",
            IdentityKind::Crm => "crm",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<IdentityKind> {
        IdentityKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// An identity value that cannot be used. The contact's (or the API caller's) data is at
/// fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not a phone number.
    #[error("{0:?} is not a phone number: {1}")]
    BadNumber(String, String),
    /// Not an e-mail address.
    #[error("{0:?} is not an e-mail address")]
    BadEmail(String),
    /// Empty, too long, or with control characters.
    #[error("an identity is 1..=256 printable characters")]
    BadValue,
}

/// A canonical identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// Its kind.
    pub kind: IdentityKind,
    /// The canonical value.
    pub value: String,
}

impl Identity {
    /// `raw` in canonical form for `kind`: phone numbers to E.164 by `rules`, e-mail
    /// addresses trimmed and lower-cased (a display name `Anna <a@b>` is reduced to the
    /// address), other kinds trimmed.
    pub fn parse(
        kind: IdentityKind,
        raw: &str,
        rules: &E164Rules,
    ) -> Result<Identity, IdentityError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > 256 || trimmed.chars().any(char::is_control) {
            return Err(IdentityError::BadValue);
        }
        let value = match kind {
            IdentityKind::Phone | IdentityKind::Whatsapp => normalize_e164(trimmed, rules)
                .map_err(|e| IdentityError::BadNumber(trimmed.to_string(), e.to_string()))?,
            IdentityKind::Email => email_address(trimmed)
                .ok_or_else(|| IdentityError::BadEmail(trimmed.to_string()))?,
            _ => trimmed.to_string(),
        };
        Ok(Identity { kind, value })
    }
}

/// The bare address of `raw` (`Anna <A@Example.com>` -> `a@example.com`), or `None` when it
/// is not one local part, one `@` and a dotted domain without spaces.
pub fn email_address(raw: &str) -> Option<String> {
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    let address = inner.trim().to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let valid = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',');
    valid.then_some(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> E164Rules {
        E164Rules {
            country_code: "48".into(),
            national_digits: Some(9),
        }
    }

    #[test]
    fn identities_are_put_in_one_spelling() {
        let cases = [
            (IdentityKind::Phone, "+48 22 111 22 33", Ok("+48221112233")),
            (IdentityKind::Phone, "221112233", Ok("+48221112233")),
            (IdentityKind::Phone, "anonymous", Err(())),
            (
                IdentityKind::Email,
                " Anna.Nowak@Example.COM ",
                Ok("anna.nowak@example.com"),
            ),
            (
                IdentityKind::Email,
                "Anna Nowak <anna@example.com>",
                Ok("anna@example.com"),
            ),
            (IdentityKind::Email, "anna@localhost", Err(())),
            (IdentityKind::Email, "a@b@c.pl", Err(())),
            (IdentityKind::Email, "no at sign", Err(())),
            (IdentityKind::Chat, " v-123 ", Ok("v-123")),
            (IdentityKind::Crm, "", Err(())),
            (IdentityKind::Crm, "a\nb", Err(())),
        ];
        for (kind, raw, want) in cases {
            let got = Identity::parse(kind, raw, &rules())
                .map(|i| i.value)
                .map_err(|_| ());
            assert_eq!(got, want.map(str::to_string), "{kind:?} {raw:?}");
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in IdentityKind::ALL {
            assert_eq!(IdentityKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(IdentityKind::parse("name"), None);
    }
}

//! SIP request methods (RFC 3261 section 7.1 and extensions).
//!
//! Owns: the `Method` type shared by the parser, the transaction layer and the dialogs.
//! Any token is a valid method (RFC 3261 `extension-method`); the well-known ones get a variant
//! so that matching on them is cheap.

use std::fmt;

/// A SIP request method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// Session set-up (RFC 3261).
    Invite,
    /// Acknowledges a final response to an INVITE.
    Ack,
    /// Ends a dialog.
    Bye,
    /// Cancels a pending INVITE.
    Cancel,
    /// Binds a contact to an address of record.
    Register,
    /// Queries capabilities.
    Options,
    /// Mid-session information (RFC 6086), e.g. DTMF.
    Info,
    /// Session update before answer (RFC 3311).
    Update,
    /// Reliable provisional response acknowledgement (RFC 3262).
    Prack,
    /// Event subscription (RFC 6665).
    Subscribe,
    /// Event notification (RFC 6665).
    Notify,
    /// Call transfer (RFC 3515).
    Refer,
    /// Instant message (RFC 3428).
    Message,
    /// Event state publication (RFC 3903).
    Publish,
    /// Any other method token, kept verbatim (methods are case-sensitive).
    Other(Box<str>),
}

impl Method {
    /// Maps a method token to a `Method`. Matching is case-sensitive as RFC 3261 requires.
    pub fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.into()),
        }
    }

    /// The method token as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(token) => token,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_extension_methods_round_trip() {
        for token in [
            "INVITE",
            "ACK",
            "REGISTER",
            "NEWMETHOD",
            "!interesting-Method0123456789_*+`.%indeed'~",
        ] {
            assert_eq!(Method::from_token(token).as_str(), token);
        }
        assert_eq!(Method::from_token("invite"), Method::Other("invite".into()));
    }
}

//! What the carrier sees on a call out through a trunk: the `From` of the INVITE, and the
//! `P-Asserted-Identity` and `Privacy` headers (RFC 3325, RFC 3323) where the trunk wants them.
//!
//! The rule: the call's own caller ID (a click-to-dial request's `caller_id`) wins over its
//! queue's (`[[queues]] caller_id`: a callback's queue, a click-to-dial request's `queue`),
//! which wins over the trunk's (`[trunks.outbound] caller_id`). A level that sets a number
//! brings its own display name. With no number anywhere, `From` is the trunk's account
//! (`<sip:USERNAME@HOST>`, `<sip:HOST>` without a username): never the extension or the
//! caller that placed the call.
//!
//! Owns: the precedence rule and the header values, as pure functions.
//! Must not touch: the INVITE itself (`calls::fork` builds it), configuration checks
//! (`config::caller_id`).
//! Driven by: `calls::fork::trunk_fork`, for every fork toward a trunk (`Target::Trunk` carries
//! the overrides: a click-to-dial request's, filled in by `CallManager::caller_id_overrides`;
//! a callback's queue's, filled in by `originate` once it knows the queue).

use crate::config::{CallerId, Privacy, TrunkOutbound};

/// What a call asks to present, above the trunk's own setting; empty for calls that only
/// present the trunk's (an extension dialling out, a dialplan's or an agent's transfer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The call's own (a click-to-dial request's `caller_id`).
    pub call: Option<CallerId>,
    /// Its queue's (`[[queues]] caller_id`).
    pub queue: Option<CallerId>,
}

/// The identity part of an INVITE toward a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// The `From` name-addr (the dialog adds its tag).
    pub from: String,
    /// `P-Asserted-Identity` and `Privacy`, when the trunk asks for them.
    pub headers: Vec<(&'static str, String)>,
}

/// The caller ID that wins: the call's, else the queue's, else the trunk's.
pub fn choose<'a>(
    call: Option<&'a CallerId>,
    queue: Option<&'a CallerId>,
    trunk: Option<&'a CallerId>,
) -> Option<&'a CallerId> {
    call.or(queue).or(trunk)
}

/// The identity of a call with `overrides` out through `trunk`. See the module docs.
pub fn present(overrides: &Overrides, trunk: &TrunkOutbound) -> Presentation {
    let host = trunk.host();
    let own = trunk.caller_id();
    let chosen = choose(
        overrides.call.as_ref(),
        overrides.queue.as_ref(),
        own.as_ref(),
    );
    let identity = match (chosen, &trunk.username) {
        (Some(id), _) => name_addr(id, &host),
        (None, Some(user)) => format!("<sip:{user}@{host}>"),
        (None, None) => format!("<sip:{host}>"),
    };
    let mut headers = Vec::new();
    if let (true, Some(_)) = (trunk.p_asserted_identity, chosen) {
        headers.push(("P-Asserted-Identity", identity.clone()));
    }
    let from = match trunk.privacy {
        Privacy::None => identity,
        Privacy::Id => {
            headers.push(("Privacy", "id".to_owned()));
            "\"Anonymous\" <sip:anonymous@anonymous.invalid>".to_owned()
        }
    };
    Presentation { from, headers }
}

/// `"Name" <sip:NUMBER@HOST>` (no display name when there is none).
fn name_addr(id: &CallerId, host: &str) -> String {
    let uri = format!("<sip:{}@{host}>", id.number);
    match &id.name {
        // A `DisplayName` holds no quote or backslash: it is a quoted string as it stands.
        Some(name) => format!("\"{}\" {uri}", name.as_str()),
        None => uri,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CallerNumber, DisplayName};

    fn id(number: &str, name: Option<&str>) -> CallerId {
        CallerId {
            number: CallerNumber::try_from(number.to_owned()).unwrap(),
            name: name.map(|n| DisplayName::try_from(n.to_owned()).unwrap()),
        }
    }

    /// `[trunks.outbound]` of a carrier at 192.0.2.1:5060 with `extra` keys.
    fn trunk(extra: &str) -> TrunkOutbound {
        let text = format!("proxy = \"192.0.2.1:5060\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn the_call_beats_the_queue_which_beats_the_trunk() {
        let (call, queue, own) = (id("+481", None), id("+482", None), id("+483", None));
        let cases = [
            ((Some(&call), Some(&queue), Some(&own)), Some(&call)),
            ((Some(&call), None, Some(&own)), Some(&call)),
            ((None, Some(&queue), Some(&own)), Some(&queue)),
            ((None, None, Some(&own)), Some(&own)),
            ((Some(&call), Some(&queue), None), Some(&call)),
            ((None, None, None), None),
        ];
        for ((c, q, t), expected) in cases {
            assert_eq!(choose(c, q, t), expected, "{c:?} {q:?} {t:?}");
        }
    }

    #[test]
    fn a_winning_level_brings_its_own_name() {
        let trunk = trunk("caller_id = \"+48221234567\"\ncaller_name = \"Centrala\"");
        let overrides = Overrides {
            call: None,
            queue: Some(id("+48221234500", None)),
        };
        let shown = present(&overrides, &trunk);
        assert_eq!(shown.from, "<sip:+48221234500@192.0.2.1:5060>");
        let shown = present(&Overrides::default(), &trunk);
        assert_eq!(shown.from, "\"Centrala\" <sip:+48221234567@192.0.2.1:5060>");
        assert!(shown.headers.is_empty(), "{:?}", shown.headers);
    }

    #[test]
    fn pai_carries_the_presented_identity_where_the_trunk_wants_it() {
        let trunk = trunk(
            "caller_id = \"+48221234567\"\np_asserted_identity = true\ndomain = \"sip.example\"",
        );
        let overrides = Overrides {
            call: Some(id("+48225550000", Some("Anna"))),
            queue: Some(id("+48221234500", Some("Sales"))),
        };
        let shown = present(&overrides, &trunk);
        let expected = "\"Anna\" <sip:+48225550000@sip.example>";
        assert_eq!(shown.from, expected);
        assert_eq!(
            shown.headers,
            [("P-Asserted-Identity", expected.to_owned())]
        );
    }

    #[test]
    fn no_number_anywhere_presents_the_trunk_account() {
        let shown = present(&Overrides::default(), &trunk("username = \"acct\""));
        assert_eq!(shown.from, "<sip:acct@192.0.2.1:5060>");
        let shown = present(&Overrides::default(), &trunk(""));
        assert_eq!(shown.from, "<sip:192.0.2.1:5060>");
        assert!(shown.headers.is_empty());
    }

    #[test]
    fn privacy_id_withholds_the_number_but_still_asserts_it() {
        let trunk =
            trunk("caller_id = \"+48221234567\"\np_asserted_identity = true\nprivacy = \"id\"");
        let shown = present(&Overrides::default(), &trunk);
        assert_eq!(
            shown.from,
            "\"Anonymous\" <sip:anonymous@anonymous.invalid>"
        );
        assert_eq!(
            shown.headers,
            [
                (
                    "P-Asserted-Identity",
                    "<sip:+48221234567@192.0.2.1:5060>".to_owned()
                ),
                ("Privacy", "id".to_owned())
            ]
        );
    }
}

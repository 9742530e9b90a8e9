//! Which conversation an inbound message from a known peer joins: a pure decision over the
//! newest conversation with that peer on that channel.
//!
//! - open: the message joins it;
//! - closed within the channel's reopen window: it is reopened;
//! - closed longer ago: a new conversation starts, linked to the old one;
//! - none: a new conversation.

/// What the decision needs to know of the newest conversation with the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest<'a> {
    /// Its id.
    pub id: &'a str,
    /// `open` or `closed`.
    pub state: &'a str,
    /// When it was closed (unix ms), if it was.
    pub closed_at_ms: Option<i64>,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threading {
    /// Add the message to this open conversation.
    Join(String),
    /// Reopen this closed conversation and add the message.
    Reopen(String),
    /// Start a new conversation, linked to an earlier one when there was one.
    New {
        /// The earlier conversation.
        linked_to: Option<String>,
    },
}

/// Decides per the module docs; `reopen_ms` is the channel's window.
pub fn thread(latest: Option<Latest<'_>>, now_ms: i64, reopen_ms: i64) -> Threading {
    let Some(latest) = latest else {
        return Threading::New { linked_to: None };
    };
    if latest.state != "closed" {
        return Threading::Join(latest.id.to_string());
    }
    match latest.closed_at_ms {
        Some(closed) if now_ms - closed <= reopen_ms => Threading::Reopen(latest.id.to_string()),
        _ => Threading::New {
            linked_to: Some(latest.id.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_joins_reopens_or_starts_a_linked_conversation() {
        let open = Latest {
            id: "c1",
            state: "open",
            closed_at_ms: None,
        };
        let closed = |at| Latest {
            id: "c1",
            state: "closed",
            closed_at_ms: Some(at),
        };
        let new = |linked: Option<&str>| Threading::New {
            linked_to: linked.map(str::to_string),
        };
        let cases = [
            (None, new(None)),
            (Some(open), Threading::Join("c1".into())),
            (Some(closed(10_000)), Threading::Reopen("c1".into())),
            (Some(closed(9_000)), Threading::Reopen("c1".into())),
            (Some(closed(8_999)), new(Some("c1"))),
            (
                Some(Latest {
                    id: "c1",
                    state: "closed",
                    closed_at_ms: None,
                }),
                new(Some("c1")),
            ),
        ];
        for (latest, want) in cases {
            assert_eq!(thread(latest.clone(), 10_000, 1_000), want, "{latest:?}");
        }
    }
}

//! Which conversation a received e-mail continues: the clues in the order they are trusted.
//! Pure; the shell looks each clue up and takes the first that names a known conversation.
//!
//! 1. `In-Reply-To`, then `References` newest first: Message-IDs of messages we stored or
//!    sent;
//! 2. a subject tag `[#<conversation id>]` (our replies carry one);
//! 3. a plus-address `support+<conversation id>@…` among the recipients.
//!
//! No clue, or none known: a new conversation (a mail with a new subject is a new matter,
//! even from a known sender).

/// One clue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clue {
    /// A Message-ID to look up.
    MessageId(String),
    /// A conversation id named by a tag or a plus-address.
    Conversation(String),
}

/// The clues of a message, most trusted first.
pub fn clues(
    in_reply_to: &[String],
    references: &[String],
    subject: Option<&str>,
    recipients: &[String],
) -> Vec<Clue> {
    let mut out: Vec<Clue> = in_reply_to
        .iter()
        .map(|id| Clue::MessageId(id.clone()))
        .collect();
    for id in references.iter().rev() {
        let clue = Clue::MessageId(id.clone());
        if !out.contains(&clue) {
            out.push(clue);
        }
    }
    if let Some(tag) = subject.and_then(subject_tag) {
        out.push(Clue::Conversation(tag));
    }
    for rcpt in recipients {
        if let Some(tag) = plus_tag(rcpt) {
            out.push(Clue::Conversation(tag));
        }
    }
    out
}

/// `[#id]` in a subject (the last one).
pub fn subject_tag(subject: &str) -> Option<String> {
    let start = subject.rfind("[#")? + 2;
    let end = start + subject[start..].find(']')?;
    let tag = subject[start..end].trim();
    valid(tag).then(|| tag.to_string())
}

/// The `+tag` of `local+tag@domain`.
pub fn plus_tag(address: &str) -> Option<String> {
    let (local, _) = address.split_once('@')?;
    let (_, tag) = local.split_once('+')?;
    valid(tag).then(|| tag.to_string())
}

/// The mailbox of an address without its plus-tag, lower case.
pub fn base_address(address: &str) -> String {
    let address = address.trim().to_lowercase();
    match address.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.split('+').next().unwrap_or(local)),
        None => address,
    }
}

fn valid(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 64
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// In-Reply-To, References, subject, recipients, the clues wanted.
    type Case = (
        &'static [&'static str],
        &'static [&'static str],
        Option<&'static str>,
        &'static [&'static str],
        Vec<Clue>,
    );

    #[test]
    fn clues_come_in_the_order_they_are_trusted() {
        use Clue::*;
        let cases: [Case; 6] = [
            (&[], &[], None, &["support@c.test"], vec![]),
            (
                &["b@x"],
                &["a@x", "b@x"],
                None,
                &[],
                vec![MessageId("b@x".into()), MessageId("a@x".into())],
            ),
            (
                &[],
                &[],
                Some("Re: order [#cnv_12ab]"),
                &[],
                vec![Conversation("cnv_12ab".into())],
            ),
            (
                &[],
                &[],
                Some("[#1234] help"),
                &[],
                vec![Conversation("1234".into())],
            ),
            (
                &[],
                &[],
                Some("broken [#no spaces allowed]"),
                &["support+cnv_9@c.test"],
                vec![Conversation("cnv_9".into())],
            ),
            (
                &["m@x"],
                &[],
                Some("[#cnv_1]"),
                &["support+cnv_2@c.test"],
                vec![
                    MessageId("m@x".into()),
                    Conversation("cnv_1".into()),
                    Conversation("cnv_2".into()),
                ],
            ),
        ];
        for (reply_to, references, subject, rcpt, want) in cases {
            assert_eq!(
                clues(&s(reply_to), &s(references), subject, &s(rcpt)),
                want,
                "{subject:?}"
            );
        }
    }

    #[test]
    fn plus_addresses_reduce_to_their_mailbox() {
        assert_eq!(
            base_address("Support+cnv_1@Centrala.test"),
            "support@centrala.test"
        );
        assert_eq!(base_address("sales@centrala.test"), "sales@centrala.test");
    }
}

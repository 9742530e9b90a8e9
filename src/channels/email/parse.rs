//! One received e-mail, reduced to what the channel needs: who, to whom, the subject, the
//! threading headers, the text (HTML reduced to plain text by `mail-parser`; the original is
//! kept on disk, never rendered), the attachments' names and sizes, and whether the message
//! is automatic (RFC 3834 `Auto-Submitted`, `Precedence: bulk/list/junk`, a `List-Id`, a
//! delivery status notification, or our own loop marker). Pure.

use mail_parser::{MessageParser, MimeHeaders};
use thiserror::Error;

/// The header Centrala puts on every message it sends; one coming back is a loop.
pub const LOOP_HEADER: &str = "X-Centrala-Loop";

/// Why a message cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Not a MIME message, or without a usable From address (554).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// An attachment is larger than the limit (552).
    #[error("attachment {name:?} is {size} bytes, more than the limit of {limit}")]
    AttachmentTooLarge {
        /// The attachment's name.
        name: String,
        /// Its decoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// A parsed e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    /// The sender's address (lower case).
    pub from: String,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To ids.
    pub in_reply_to: Vec<String>,
    /// References ids, oldest first.
    pub references: Vec<String>,
    /// The text for display (plain text, or HTML reduced to text).
    pub text: String,
    /// `name (size bytes)` of each attachment.
    pub attachments: Vec<(String, usize)>,
    /// Why it is automatic, if it is: not routed as a new contact.
    pub automatic: Option<&'static str>,
}

/// Parses `raw`, refusing attachments over `max_attachment`.
pub fn parse(raw: &[u8], max_attachment: usize) -> Result<ParsedEmail, EmailError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| EmailError::Malformed("no RFC 5322 headers".into()))?;
    let sender = message
        .from()
        .and_then(|a| a.first())
        .ok_or_else(|| EmailError::Malformed("no From address".into()))?;
    let from = sender
        .address()
        .and_then(crate::customers::email_address)
        .ok_or_else(|| EmailError::Malformed("the From address is not an e-mail address".into()))?;
    let ids = |value: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        match value {
            mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
            mail_parser::HeaderValue::TextList(list) => {
                list.iter().map(|t| t.to_string()).collect()
            }
            _ => Vec::new(),
        }
    };
    let mut attachments = Vec::new();
    for part in message.attachments() {
        let name = part.attachment_name().unwrap_or("unnamed").to_string();
        let size = part.contents().len();
        if size > max_attachment {
            return Err(EmailError::AttachmentTooLarge {
                name,
                size,
                limit: max_attachment,
            });
        }
        attachments.push((name, size));
    }
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let automatic = automatic_reason(
        header("Auto-Submitted").as_deref(),
        header("Precedence").as_deref(),
        message.header_raw("List-Id").is_some(),
        report || from.starts_with("mailer-daemon@") || from.starts_with("postmaster@"),
        message.header_raw(LOOP_HEADER).is_some(),
    );
    Ok(ParsedEmail {
        from,
        from_name: sender.name().map(str::to_string),
        subject: message.subject().map(str::to_string),
        message_id: message.message_id().map(str::to_string),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        text: message
            .body_text(0)
            .map(|t| t.trim().to_string())
            .unwrap_or_default(),
        attachments,
        automatic,
    })
}

/// Whether a message is automatic, and why (checked in this order).
pub fn automatic_reason(
    auto_submitted: Option<&str>,
    precedence: Option<&str>,
    list: bool,
    delivery_report: bool,
    our_loop: bool,
) -> Option<&'static str> {
    if our_loop {
        Some("loop")
    } else if delivery_report {
        Some("bounce")
    } else if auto_submitted.is_some_and(|v| v != "no") {
        Some("auto-submitted")
    } else if precedence.is_some_and(|p| matches!(p, "bulk" | "list" | "junk")) {
        Some("bulk")
    } else if list {
        Some("list")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_messages_are_recognised() {
        let cases = [
            ((None, None, false, false, false), None),
            ((Some("no"), None, false, false, false), None),
            (
                (Some("auto-replied"), None, false, false, false),
                Some("auto-submitted"),
            ),
            (
                (Some("auto-generated"), None, false, false, false),
                Some("auto-submitted"),
            ),
            ((None, Some("bulk"), false, false, false), Some("bulk")),
            ((None, Some("list"), false, false, false), Some("bulk")),
            ((None, Some("first-class"), false, false, false), None),
            ((None, None, true, false, false), Some("list")),
            ((None, None, false, true, false), Some("bounce")),
            ((Some("no"), None, false, false, true), Some("loop")),
        ];
        for ((auto, precedence, list, report, own), want) in cases {
            assert_eq!(automatic_reason(auto, precedence, list, report, own), want);
        }
    }

    #[test]
    fn a_message_gives_its_sender_threading_headers_and_text() {
        let raw = "From: Anna Nowak <Anna.Nowak@Example.com>\r\nTo: support@centrala.test\r\n\
                   Subject: Re: order [#cnv_1]\r\nMessage-ID: <a1@example.com>\r\n\
                   In-Reply-To: <r1@centrala.test>\r\nReferences: <r0@centrala.test> <r1@centrala.test>\r\n\
                   Content-Type: text/html\r\n\r\n<p>Hello <b>there</b></p><script>x()</script>\r\n";
        let email = parse(raw.as_bytes(), 1000).unwrap();
        assert_eq!(email.from, "anna.nowak@example.com");
        assert_eq!(email.from_name.as_deref(), Some("Anna Nowak"));
        assert_eq!(email.message_id.as_deref(), Some("a1@example.com"));
        assert_eq!(email.in_reply_to, ["r1@centrala.test"]);
        assert_eq!(email.references, ["r0@centrala.test", "r1@centrala.test"]);
        assert!(email.text.contains("Hello there"), "{:?}", email.text);
        assert!(!email.text.contains('<'), "{:?}", email.text);
        assert_eq!(email.automatic, None);
    }

    #[test]
    fn garbage_and_oversized_attachments_are_refused() {
        assert!(matches!(
            parse(b"\x00\x01 not mail", 10),
            Err(EmailError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"Subject: no sender\r\n\r\nhi", 10),
            Err(EmailError::Malformed(_))
        ));
        let raw = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                   --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n\
                   Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\n\r\n\
                   0123456789012345678901234567890123456789\r\n--b--\r\n";
        match parse(raw.as_bytes(), 10) {
            Err(EmailError::AttachmentTooLarge { name, .. }) => assert_eq!(name, "big.bin"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(raw.as_bytes(), 1000).unwrap().attachments[0].0,
            "big.bin"
        );
    }
}

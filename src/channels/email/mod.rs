//! E-mail: Centrala's own SMTP listener (`smtp`), parsing (`parse`, with `mail-parser`),
//! threading (`threading`), and agents' replies written as RFC 5322 files (`reply`).
//!
//! A received message is parsed (a malformed one is refused with 554, an oversized
//! attachment with 552), its original is written to `[email] inbox_dir` and synced, and it is
//! stored through the `Intake` before the 250. The recipient mailbox names the queue.
//! Automatic mail (auto-replies, bounces, lists, our own loop marker) is recorded on its
//! conversation but not routed. Replies carry Message-ID, In-Reply-To, References, a
//! `[#conversation]` subject tag, the agent's name and signature, and the quoted message; with
//! no outgoing SMTP server configured (the demo) they are written to `[email] outbox_dir`.

pub mod parse;
mod reply;
pub mod smtp;
pub mod threading;

use std::path::Path;

pub use reply::EmailSender;

use super::{Inbound, Intake, new_id};
use crate::config::EmailConfig;
use crate::customers::IdentityKind;
use crate::routing::Channel;
use crate::store::{EmailRow, Store};
use parse::EmailError;
use threading::{Clue, base_address, clues};

/// The inbound side (see the module docs).
#[derive(Debug)]
pub struct EmailChannel {
    config: EmailConfig,
    intake: Intake,
    store: Store,
}

impl EmailChannel {
    /// The channel per `config`.
    pub fn new(config: &EmailConfig, intake: Intake, store: Store) -> EmailChannel {
        EmailChannel {
            config: config.clone(),
            intake,
            store,
        }
    }

    /// Our mail domain.
    pub fn domain(&self) -> &str {
        &self.config.domain
    }

    /// The size limit of a message.
    pub fn max_message_bytes(&self) -> usize {
        self.config.max_message_bytes
    }

    /// The queue of a recipient address (plus-tags ignored), if it is one of our mailboxes.
    pub fn queue_of(&self, rcpt: &str) -> Option<&str> {
        let base = base_address(rcpt);
        self.config
            .mailboxes
            .iter()
            .find(|m| m.address.eq_ignore_ascii_case(&base))
            .map(|m| m.queue.as_str())
    }

    /// Takes one message from the SMTP envelope; returns the SMTP reply line.
    pub async fn accept(&self, _envelope_from: &str, to: &[String], data: &[u8]) -> String {
        match self.take(to, data).await {
            Ok(id) => format!("250 2.0.0 stored as {id}"),
            Err(Refusal::Permanent(code, why)) => format!("{code} {why}"),
            Err(Refusal::Temporary(why)) => {
                tracing::error!(%why, "cannot store a received e-mail");
                format!("451 4.3.0 cannot store the message now: {why}")
            }
        }
    }

    async fn take(&self, to: &[String], data: &[u8]) -> Result<String, Refusal> {
        let email = parse::parse(data, self.config.max_attachment_bytes).map_err(|e| match e {
            EmailError::AttachmentTooLarge { .. } => Refusal::Permanent("552 5.3.4", e.to_string()),
            _ => Refusal::Permanent("554 5.6.0", e.to_string()),
        })?;
        let (mailbox, queue) = to
            .iter()
            .find_map(|r| self.queue_of(r).map(|q| (base_address(r), q.to_string())))
            .ok_or_else(|| Refusal::Permanent("550 5.1.1", "no mailbox of ours".into()))?;
        let from = self
            .intake
            .customers
            .identity(IdentityKind::Email, &email.from)
            .map_err(|e| Refusal::Permanent("554 5.1.7", e.to_string()))?;
        let ours = self
            .config
            .mailboxes
            .iter()
            .any(|m| m.address.eq_ignore_ascii_case(&email.from));
        let automatic = email.automatic.or(ours.then_some("loop"));
        let thread = self.thread(&email, to).await.map_err(Refusal::temporary)?;
        let id = new_id("msg");
        let raw_path = self.config.inbox_dir.join(format!("{id}.eml"));
        keep_original(&raw_path, data)
            .await
            .map_err(Refusal::temporary)?;
        let mut body = email.text.clone();
        for (name, size) in &email.attachments {
            body.push_str(&format!("\n[attachment: {name}, {size} bytes]"));
        }
        let inbound = Inbound {
            channel: Channel::Email,
            from,
            to: Some(mailbox),
            external_id: email.message_id.clone(),
            body,
            subject: email.subject.clone(),
            queue,
            reopen_ms: i64::try_from(self.config.reopen_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            route: automatic.is_none(),
            id: Some(id.clone()),
            thread,
            by_peer: false,
            email: Some(EmailRow {
                message_id: id.clone(),
                rfc_message_id: email.message_id.clone(),
                references: email.references.join(" "),
                subject: email.subject.clone(),
                raw_path: raw_path.display().to_string(),
                attachments: email
                    .attachments
                    .iter()
                    .map(|(n, s)| format!("{n} ({s} bytes)"))
                    .collect::<Vec<_>>()
                    .join("; "),
                automatic: automatic.map(str::to_string),
                from_name: email.from_name.clone(),
            }),
        };
        let now = crate::cti::webhook::WallClock::now_ms(&crate::cti::webhook::SystemClock);
        let accepted = self
            .intake
            .receive(inbound, now)
            .await
            .map_err(Refusal::temporary)?;
        Ok(accepted.message_id)
    }

    /// The conversation the first known clue names.
    async fn thread(
        &self,
        email: &parse::ParsedEmail,
        to: &[String],
    ) -> Result<Option<String>, crate::store::StoreError> {
        for clue in clues(
            &email.in_reply_to,
            &email.references,
            email.subject.as_deref(),
            to,
        ) {
            let found = match clue {
                Clue::MessageId(id) => self.store.conversation_of_external("email", &id).await?,
                Clue::Conversation(id) => self
                    .store
                    .conversation(&id)
                    .await?
                    .filter(|c| c.channel == "email")
                    .map(|c| c.id),
            };
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

enum Refusal {
    Permanent(&'static str, String),
    Temporary(String),
}

impl Refusal {
    fn temporary(err: impl std::fmt::Display) -> Refusal {
        Refusal::Temporary(err.to_string())
    }
}

/// Writes and syncs the original before anything is acknowledged.
async fn keep_original(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut file = tokio::fs::File::create(path).await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, data).await?;
    file.sync_all().await
}

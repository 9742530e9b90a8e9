//! `EmailSender`: an agent's reply as an RFC 5322 message, threaded under the customer's
//! last message (In-Reply-To, References), tagged `[#<conversation>]`, signed with the
//! agent's name and the configured signature, quoting the customer's text, and marked with
//! `X-Centrala-Loop` so that a copy coming back is never routed. With no outgoing SMTP
//! server configured it is written to `[email] outbox_dir` as `<message id>.eml` (synced);
//! the Message-ID is the provider id stored on the message.

use std::path::PathBuf;

use super::parse::LOOP_HEADER;
use crate::channels::{Outgoing, SendError, Sender, Sending};
use crate::config::EmailConfig;
use crate::store::Store;

/// See the module docs.
#[derive(Debug)]
pub struct EmailSender {
    store: Store,
    domain: String,
    outbox: PathBuf,
    signature: Option<String>,
}

impl EmailSender {
    /// A sender per `config`.
    pub fn new(config: &EmailConfig, store: Store) -> EmailSender {
        EmailSender {
            store,
            domain: config.domain.clone(),
            outbox: config.outbox_dir.clone(),
            signature: config.signature.clone(),
        }
    }

    async fn write(&self, out: &Outgoing) -> Result<String, SendError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| SendError(format!("{what}: {e}"));
        let conversation = self
            .store
            .conversation(&out.conversation_id)
            .await
            .map_err(|e| fail("reading the conversation", &e))?
            .ok_or_else(|| SendError("the conversation is gone".into()))?;
        let last = self
            .store
            .last_inbound_email(&conversation.id)
            .await
            .map_err(|e| fail("reading the customer's last e-mail", &e))?;
        let message_id = format!("{}@{}", out.message_id, self.domain);
        let subject = conversation
            .subject
            .clone()
            .unwrap_or_else(|| "Your message".into());
        let subject = if subject.to_ascii_lowercase().starts_with("re:") {
            subject
        } else {
            format!("Re: {subject}")
        };
        let tag = format!("[#{}]", conversation.id);
        let subject = if subject.contains(&tag) {
            subject
        } else {
            format!("{subject} {tag}")
        };
        let agent = out
            .agent
            .clone()
            .unwrap_or_else(|| "Customer service".into());
        let from = out
            .from
            .clone()
            .unwrap_or_else(|| format!("support@{}", self.domain));
        let mut headers = vec![
            format!("Message-ID: <{message_id}>"),
            format!(
                "Date: {}",
                httpdate::fmt_http_date(std::time::SystemTime::now())
            ),
            format!(
                "From: {} <{from}>",
                encode_word(&format!("{agent} ({})", self.domain))
            ),
            format!("To: <{}>", out.to),
            format!("Subject: {}", encode_word(&subject)),
        ];
        let mut body = out.text.trim_end().to_string();
        body.push_str(&format!("\n\n-- \n{agent}\n"));
        if let Some(signature) = &self.signature {
            body.push_str(signature.trim_end());
            body.push('\n');
        }
        if let Some((message, email)) = &last {
            if let Some(parent) = &email.rfc_message_id {
                headers.push(format!("In-Reply-To: <{parent}>"));
                let mut refs: Vec<String> = email
                    .references
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                refs.push(parent.clone());
                let refs: Vec<String> = refs.iter().map(|r| format!("<{r}>")).collect();
                headers.push(format!("References: {}", refs.join(" ")));
            }
            let who = email
                .from_name
                .clone()
                .unwrap_or_else(|| conversation.peer.clone());
            body.push_str(&format!("\n{who} wrote:\n"));
            for line in message.body.lines() {
                body.push_str(&format!("> {line}\n"));
            }
        }
        headers.extend([
            format!("{LOOP_HEADER}: {}", self.domain),
            "MIME-Version: 1.0".into(),
            "Content-Type: text/plain; charset=utf-8".into(),
            "Content-Transfer-Encoding: 8bit".into(),
        ]);
        let text = format!(
            "{}\r\n\r\n{}",
            headers.join("\r\n"),
            body.replace('\n', "\r\n")
        );
        tokio::fs::create_dir_all(&self.outbox)
            .await
            .map_err(|e| fail("creating the outbox", &e))?;
        let path = self.outbox.join(format!("{}.eml", out.message_id));
        let tmp = path.with_extension("tmp");
        let mut file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| fail("writing the reply", &e))?;
        tokio::io::AsyncWriteExt::write_all(&mut file, text.as_bytes())
            .await
            .map_err(|e| fail("writing the reply", &e))?;
        file.sync_all()
            .await
            .map_err(|e| fail("writing the reply", &e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| fail("writing the reply", &e))?;
        Ok(message_id)
    }
}

impl Sender for EmailSender {
    fn send<'a>(&'a self, out: &'a Outgoing) -> Sending<'a> {
        Box::pin(self.write(out))
    }
}

/// A header value safe to print: line breaks removed, non-ASCII as an RFC 2047 encoded word.
fn encode_word(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.is_ascii() {
        flat
    } else {
        format!("=?utf-8?B?{}?=", base64(flat.as_bytes()))
    }
}

/// Standard base64 with padding (a few lines; not worth a dependency for one header).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_flattened_and_encoded() {
        assert_eq!(encode_word("Re: order\r\nBcc: x"), "Re: order  Bcc: x");
        assert_eq!(encode_word("Zażółć"), "=?utf-8?B?WmHFvMOzxYLEhw==?=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}

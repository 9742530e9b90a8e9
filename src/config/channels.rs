//! `[customers]` and the digital channels' sections (`[sms.generic]`).
//!
//! Demo defaults: customers are linked through the demo CRM (`customer_by_phone` for
//! numbers, `customer_email` for addresses); the generic SMS channel takes posts signed with
//! `demo-sms-secret` into the support queue, and with no provider configured its replies are
//! recorded as failed ("no SMS provider configured").

use serde::Deserialize;

/// `[customers]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomersConfig {
    /// The CRM lookup (in `[[cti.lookups]]`) asked with `number` for a new phone number;
    /// absent or not configured: no CRM linking by phone.
    pub phone_lookup: Option<String>,
    /// The CRM lookup asked with `email` for a new e-mail address.
    pub email_lookup: Option<String>,
}

impl Default for CustomersConfig {
    fn default() -> Self {
        CustomersConfig {
            phone_lookup: Some("customer_by_phone".into()),
            email_lookup: Some("customer_email".into()),
        }
    }
}

/// `[sms]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// The generic JSON channel at `POST /channels/v1/sms/generic`.
    pub generic: SmsGenericConfig,
}

/// `[sms.generic]`: inbound `{"id","from","to","text"}` signed with
/// `X-Centrala-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsGenericConfig {
    /// Whether the endpoint is served.
    pub enabled: bool,
    /// The shared secret of the signatures (both directions).
    pub secret: String,
    /// Seconds a signature's timestamp may be off.
    pub tolerance_secs: i64,
    /// The queue inbound messages go to.
    pub queue: String,
    /// Seconds within which a reply reopens a closed conversation (later: a new, linked one).
    pub reopen_secs: u64,
    /// The provider's API base URL; replies are POSTed to `<base>/messages`. Absent: replies
    /// are recorded as failed.
    pub provider_url: Option<String>,
    /// Seconds the provider has to answer a send.
    pub provider_timeout_secs: u64,
}

impl Default for SmsGenericConfig {
    fn default() -> Self {
        SmsGenericConfig {
            enabled: true,
            secret: "demo-sms-secret".into(),
            tolerance_secs: 300,
            queue: "support".into(),
            reopen_secs: 7 * 24 * 3600,
            provider_url: None,
            provider_timeout_secs: 10,
        }
    }
}

impl SmsGenericConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.enabled && self.secret.is_empty() {
            return Err("[sms.generic] secret must not be empty".into());
        }
        if let Some(url) = &self.provider_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "[sms.generic] provider_url {url:?} is not an http(s) URL"
            ));
        }
        Ok(())
    }
}

/// `[email]`: Centrala's own SMTP listener for inbound mail, and where replies go.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// Whether the listener runs.
    pub enabled: bool,
    /// Where the SMTP listener binds (the demo: 127.0.0.1:2525).
    pub listen: std::net::SocketAddr,
    /// Our mail domain (Message-IDs, the greeting).
    pub domain: String,
    /// Which address goes to which queue; mail to other addresses is refused at RCPT.
    pub mailboxes: Vec<MailboxConfig>,
    /// The largest message accepted (bytes); larger ones are refused with 552.
    pub max_message_bytes: usize,
    /// The largest single attachment accepted (bytes); 552 above it.
    pub max_attachment_bytes: usize,
    /// Seconds within which a reply reopens a closed conversation (later: a new, linked one).
    pub reopen_secs: u64,
    /// Where received originals are kept (`<message id>.eml`).
    pub inbox_dir: std::path::PathBuf,
    /// Where replies are written as `.eml` files (no outgoing SMTP server is configured).
    pub outbox_dir: std::path::PathBuf,
    /// Appended to every agent's reply.
    pub signature: Option<String>,
}

/// One `[[email.mailboxes]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// The address, e.g. `support@centrala.test`.
    pub address: String,
    /// The queue its mail goes to.
    pub queue: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        let mailbox = |address: &str, queue: &str| MailboxConfig {
            address: address.into(),
            queue: queue.into(),
        };
        EmailConfig {
            enabled: true,
            listen: ([127, 0, 0, 1], 2525).into(),
            domain: "centrala.test".into(),
            mailboxes: vec![
                mailbox("support@centrala.test", "support"),
                mailbox("sales@centrala.test", "sales"),
            ],
            max_message_bytes: 10 * 1024 * 1024,
            max_attachment_bytes: 5 * 1024 * 1024,
            reopen_secs: 7 * 24 * 3600,
            inbox_dir: "data/mail-in".into(),
            outbox_dir: "data/mail-out".into(),
            signature: None,
        }
    }
}

//! `[cti]`: CRM lookup endpoints, their circuit breaker, phone-number normalisation and the
//! static webhook subscriptions.
//!
//! ```toml
//! [cti]
//! default_country_code = "48"     # national numbers get +48
//! national_number_digits = 9      # 9 digits = national; longer and starting 48 = international
//! screen_pop_deadline_ms = 300    # longest an agent's phone waits for their screen pop
//! ca_file = "/etc/centrala/crm-ca.pem"  # extra trusted CA (PEM) for https:// CRMs and webhooks
//! allow_private_webhooks = false  # webhooks to loopback/private/link-local addresses
//!
//! [cti.breaker]
//! failures_to_open = 5            # consecutive failures that open the circuit
//! open_secs = 30                  # how long it stays open before one probe is let through
//!
//! [[cti.lookups]]
//! name = "customer_by_phone"
//! url = "http://127.0.0.1:8090/customers/by-phone/{number}"
//! method = "GET"                  # or POST: the parameters go as a JSON object in the body
//! timeout_ms = 1000
//! cache_ttl_secs = 60             # 0 = no cache
//! headers = { "X-Tenant" = "demo" }
//! auth = { type = "bearer", token = "s3cret" }   # or { type = "basic", username, password }
//! [cti.lookups.mapping]           # variable = JSON pointer into the answer; empty = all of it
//! name = "/name"
//! debt = "/debt"
//!
//! [[cti.webhooks]]
//! name = "crm"
//! url = "https://crm.example/hooks/centrala"
//! secret = "whsec-…"
//! events = ["call.ended", "task.completed"]   # empty = every event
//! ```

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

/// The event kinds a webhook may subscribe to (see `cti::webhook::EventKind`).
pub const EVENT_KINDS: [&str; 18] = [
    "call.ringing",
    "call.answered",
    "call.ended",
    "task.queued",
    "task.offered",
    "task.accepted",
    "task.completed",
    "task.sla_breached",
    "task.abandoned",
    "agent.state_changed",
    "recording.ready",
    "callback.attempted",
    "conversation.created",
    "message.received",
    "message.sent",
    "message.failed",
    "customer.merged",
    "followup.scheduled",
];

/// `[cti]`: CRM integration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CtiConfig {
    /// Country calling code (digits, no `+`) given to national numbers, e.g. `48`.
    pub default_country_code: String,
    /// Length of a national significant number, when the country has a fixed one (9 in
    /// Poland). A digits-only number longer than this that starts with the country code is
    /// taken as already international. `None`: every digits-only number is national.
    pub national_number_digits: Option<usize>,
    /// Circuit breaker applied to each lookup endpoint separately.
    pub breaker: BreakerConfig,
    /// Named lookup endpoints.
    pub lookups: Vec<LookupConfig>,
    /// Static webhook subscriptions (more can be added through the API).
    pub webhooks: Vec<WebhookConfig>,
    /// How webhook deliveries are attempted.
    pub delivery: DeliveryConfig,
    /// The longest an offered agent's phone waits for their desktop's screen pop (the CRM
    /// record and history are given four fifths of it); only agents with a desktop open wait.
    pub screen_pop_deadline_ms: u64,
    /// A PEM file of CA certificates trusted for `https://` lookups and webhooks, on top of
    /// the system's roots (or `SSL_CERT_FILE`'s). Certificates are always verified.
    pub ca_file: Option<std::path::PathBuf>,
    /// Allow webhook URLs on loopback, private or link-local addresses (config and API);
    /// refused by default, so an API user cannot make the PBX call into its own network.
    pub allow_private_webhooks: bool,
}

impl Default for CtiConfig {
    fn default() -> Self {
        CtiConfig {
            default_country_code: "48".into(),
            national_number_digits: Some(9),
            breaker: BreakerConfig::default(),
            lookups: vec![demo_lookup(), demo_email_lookup()],
            webhooks: Vec::new(),
            delivery: DeliveryConfig::default(),
            screen_pop_deadline_ms: 300,
            ca_file: None,
            allow_private_webhooks: false,
        }
    }
}

/// `[cti.breaker]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failures (timeouts, transport errors, 5xx, bad JSON) that open the circuit.
    pub failures_to_open: u32,
    /// Seconds the circuit stays open before a single probe request is allowed.
    pub open_secs: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures_to_open: 5,
            open_secs: 30,
        }
    }
}

/// HTTP method of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LookupMethod {
    /// Parameters only in the URL.
    Get,
    /// Parameters also sent as a JSON object body.
    Post,
}

/// Credentials sent with a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LookupAuth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `Authorization: Basic …`.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
}

/// `[[cti.lookups]]`: one CRM endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupConfig {
    /// Name the dialplan's `lookup` step uses.
    pub name: String,
    /// URL template; `{number}`, `{email}` and any `{param}` are replaced by the
    /// percent-encoded parameter (`number` normalised to E.164 first).
    pub url: String,
    /// GET or POST.
    #[serde(default = "default_method")]
    pub method: LookupMethod,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Credentials.
    #[serde(default)]
    pub auth: Option<LookupAuth>,
    /// Whole-request deadline; past it the caller takes the fallback branch.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long a successful answer is reused for the same request (0 = never).
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_secs: u64,
    /// Output variable -> JSON pointer (RFC 6901) into the answer; a pointer that finds
    /// nothing (or null) leaves its variable out. Empty: the whole answer.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
}

/// `[[cti.webhooks]]`: a subscription that lives in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Unique name; the stored subscription id is `config:<name>`.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// HMAC-SHA256 key for the signature header.
    pub secret: String,
    /// Event kinds delivered; empty means all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// `[cti.delivery]`: webhook delivery attempts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Deadline of one POST.
    pub timeout_ms: u64,
    /// Wait after the first failure; doubles with each further failure.
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts.
    pub max_backoff_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            timeout_ms: 5000,
            initial_backoff_ms: 1000,
            max_backoff_secs: 300,
        }
    }
}

impl CtiConfig {
    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        let cc = &self.default_country_code;
        if cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "cti.default_country_code {cc:?} must be 1-3 digits"
            ));
        }
        if self.breaker.failures_to_open == 0 || self.breaker.open_secs == 0 {
            return Err("cti.breaker.failures_to_open and open_secs must be positive".into());
        }
        if self.delivery.timeout_ms == 0 || self.delivery.initial_backoff_ms == 0 {
            return Err("cti.delivery.timeout_ms and initial_backoff_ms must be positive".into());
        }
        if self.screen_pop_deadline_ms > 10_000 {
            return Err(format!(
                "cti.screen_pop_deadline_ms {} holds the agent's phone too long (at most 10000)",
                self.screen_pop_deadline_ms
            ));
        }
        let mut names = HashSet::new();
        for lookup in &self.lookups {
            if !names.insert(lookup.name.as_str()) {
                return Err(format!("duplicate cti lookup {:?}", lookup.name));
            }
            lookup.validate()?;
        }
        let mut names = HashSet::new();
        for hook in &self.webhooks {
            if !names.insert(hook.name.as_str()) {
                return Err(format!("duplicate cti webhook {:?}", hook.name));
            }
            hook.validate()?;
            let inside = crate::security::destination::private_destination(&hook.url);
            if let Some(class) = inside.filter(|_| !self.allow_private_webhooks) {
                return Err(format!(
                    "cti webhook {:?}: {} points at a {class} address; set \
                     cti.allow_private_webhooks = true to allow it",
                    hook.name, hook.url
                ));
            }
        }
        Ok(())
    }
}

impl LookupConfig {
    fn validate(&self) -> Result<(), String> {
        let at = format!("cti lookup {:?}", self.name);
        if self.name.is_empty() {
            return Err("cti lookup with an empty name".into());
        }
        if !is_http_url(&self.url) {
            return Err(format!("{at}: url must start with http:// or https://"));
        }
        check_placeholders(&self.url).map_err(|e| format!("{at}: {e}"))?;
        if self.timeout_ms == 0 {
            return Err(format!("{at}: timeout_ms must be positive"));
        }
        for (var, pointer) in &self.mapping {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                return Err(format!(
                    "{at}: mapping {var:?} = {pointer:?} is not a JSON pointer (starts with /)"
                ));
            }
        }
        Ok(())
    }

    /// The placeholder names in the URL template, in order.
    pub fn placeholders(&self) -> Vec<&str> {
        placeholder_names(&self.url)
    }
}

impl WebhookConfig {
    fn validate(&self) -> Result<(), String> {
        let at = format!("cti webhook {:?}", self.name);
        if self.name.is_empty() {
            return Err("cti webhook with an empty name".into());
        }
        if !is_http_url(&self.url) {
            return Err(format!("{at}: url must start with http:// or https://"));
        }
        if self.secret.is_empty() {
            return Err(format!("{at}: secret must not be empty"));
        }
        match self
            .events
            .iter()
            .find(|e| !EVENT_KINDS.contains(&e.as_str()))
        {
            Some(bad) => Err(format!("{at}: unknown event {bad:?}")),
            None => Ok(()),
        }
    }
}

fn demo_lookup() -> LookupConfig {
    let mapping = [
        ("name", "/name"),
        ("debt", "/debt"),
        ("last_order", "/last_order"),
        ("vip", "/vip"),
        ("crm_id", "/id"),
        ("phones", "/phones"),
        ("emails", "/emails"),
    ];
    LookupConfig {
        name: "customer_by_phone".into(),
        url: "http://127.0.0.1:8090/customers/by-phone/{number}".into(),
        method: LookupMethod::Get,
        headers: BTreeMap::new(),
        auth: None,
        timeout_ms: default_timeout_ms(),
        cache_ttl_secs: default_cache_ttl(),
        mapping: mapping
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The demo CRM by e-mail address (customer linking for e-mail contacts); sorts after
/// `customer_by_phone`, which stays the default lookup.
fn demo_email_lookup() -> LookupConfig {
    let mut lookup = demo_lookup();
    lookup.name = "customer_email".into();
    lookup.url = "http://127.0.0.1:8090/customers/by-email/{email}".into();
    lookup
}

fn default_method() -> LookupMethod {
    LookupMethod::Get
}

fn default_timeout_ms() -> u64 {
    1000
}

fn default_cache_ttl() -> u64 {
    60
}

fn is_http_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

fn placeholder_names(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        names.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    names
}

fn check_placeholders(template: &str) -> Result<(), String> {
    if template.matches('{').count() != template.matches('}').count() {
        return Err("unbalanced braces in url".into());
    }
    for name in placeholder_names(template) {
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(format!("bad placeholder {{{name}}} in url"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> CtiConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn default_is_the_demo_lookup() {
        let config = CtiConfig::default();
        assert_eq!(config.lookups.len(), 2);
        assert_eq!(config.lookups[1].name, "customer_email");
        assert_eq!(config.lookups[1].placeholders(), ["email"]);
        let lookup = &config.lookups[0];
        assert_eq!(lookup.name, "customer_by_phone");
        assert_eq!(lookup.placeholders(), ["number"]);
        assert_eq!(lookup.timeout_ms, 1000);
        assert!(config.webhooks.is_empty());
        assert!(config.validate().is_ok());
    }

    #[test]
    fn full_section_parses() {
        let config = parse(
            r#"
            default_country_code = "44"
            [breaker]
            failures_to_open = 3
            open_secs = 10
            [[lookups]]
            name = "by_email"
            url = "http://crm/c?email={email}&t={tenant}"
            method = "POST"
            cache_ttl_secs = 0
            headers = { "X-Tenant" = "t1" }
            auth = { type = "basic", username = "u", password = "p" }
            mapping = { name = "/name", city = "/address/city" }
            [[webhooks]]
            name = "crm"
            url = "http://crm/hook"
            secret = "k"
            events = ["call.ended", "task.sla_breached"]
            "#,
        );
        assert!(config.validate().is_ok());
        let lookup = &config.lookups[0];
        assert_eq!(lookup.method, LookupMethod::Post);
        assert_eq!(lookup.placeholders(), ["email", "tenant"]);
        assert_eq!(
            lookup.auth,
            Some(LookupAuth::Basic {
                username: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(config.breaker.failures_to_open, 3);
        assert_eq!(config.webhooks[0].events.len(), 2);
    }

    #[test]
    fn validation_names_the_problem() {
        let cases = [
            ("default_country_code = \"+48\"", "default_country_code"),
            (
                "[[lookups]]\nname = \"a\"\nurl = \"ftp://x\"",
                "must start with http",
            ),
            (
                "[[lookups]]\nname = \"a\"\nurl = \"http://x/{a-b}\"",
                "bad placeholder",
            ),
            (
                "[[lookups]]\nname = \"a\"\nurl = \"http://x\"\nmapping = { v = \"debt\" }",
                "not a JSON pointer",
            ),
            (
                "[[lookups]]\nname = \"a\"\nurl = \"http://x\"\n[[lookups]]\nname = \"a\"\nurl = \"http://y\"",
                "duplicate cti lookup",
            ),
            (
                "[[webhooks]]\nname = \"h\"\nurl = \"http://x\"\nsecret = \"s\"\nevents = [\"call.exploded\"]",
                "unknown event",
            ),
            (
                "[[webhooks]]\nname = \"h\"\nurl = \"http://x\"\nsecret = \"\"",
                "secret",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).validate().unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}

//! Configuration: the TOML file, its defaults (the built-in demo), environment overrides and
//! validation.
//!
//! Owns: `Config` and its sections, loading and checking them.
//! Must not touch: sockets, the database, running subsystems (they receive the parts they need).
//! Driven by: `main` (`serve` and `check`), and the tests, which write their own TOML.
//!
//! Every setting has a default, so no file is the demo: SIP on UDP+TCP 5060,
//! HTTP on 8080, RTP 10000-20000, SQLite in `./data`, extensions 1001-1003 (agents with skills)
//! and 2001 (supervisor), queues sales, support and collections. A file (even an empty one)
//! gets the same settings but none of the demo's credentials: no extensions (demo passwords)
//! and no API tokens unless it lists its own. Environment variables override
//! the few settings deployments set: `DATABASE_URL`, `CENTRALA_SIP_LISTEN`,
//! `CENTRALA_HTTP_LISTEN`, `CENTRALA_PUBLIC_IP`.

mod caller_id;
mod calls;
mod channels;
mod cti;
pub mod demo_assets;
mod routing;
mod sections;

use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

pub use caller_id::{CallerId, CallerNumber, DisplayName, Privacy};
pub use calls::CallsSection;
pub use channels::{CustomersConfig, EmailConfig, MailboxConfig, SmsConfig, SmsGenericConfig};
pub use cti::{
    BreakerConfig, CtiConfig, DeliveryConfig, EVENT_KINDS, LookupAuth, LookupConfig, LookupMethod,
    WebhookConfig,
};
pub use routing::{
    BullseyeSection, CalendarSection, CallbackSection, FeaturesSection, OverflowSection,
    QueueSection, SlaBoostSection,
};
pub use sections::{
    BanConfig, DatabaseConfig, DialplanConfig, Extension, HttpConfig, MediaConfig, RecordPolicy,
    Role, SipConfig, TokenConfig, Trunk, TrunkOutbound,
};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// SIP signalling.
    pub sip: SipConfig,
    /// HTTP API, metrics and pages. A file without `[http]` gets no demo token.
    #[serde(default = "HttpConfig::without_demo")]
    pub http: HttpConfig,
    /// RTP media anchoring.
    pub media: MediaConfig,
    /// Where the store lives.
    pub database: DatabaseConfig,
    /// IVR flows.
    pub dialplan: DialplanConfig,
    /// Users who register phones: agents, supervisors and plain extensions. The demo's
    /// (with their demo passwords) exist only in the run without a file; a file without
    /// `[[extensions]]` has none.
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// Carrier trunks for calls from and to the outside world.
    pub trunks: Vec<Trunk>,
    /// CRM lookups and webhooks.
    pub cti: CtiConfig,
    /// Routing queues (absent: the demo's sales, support and collections).
    pub queues: Vec<QueueSection>,
    /// Agent feature codes.
    pub features: FeaturesSection,
    /// Call limits (RTP inactivity, session timers, maximum duration).
    pub calls: CallsSection,
    /// Customer linking (`[customers]`).
    pub customers: CustomersConfig,
    /// SMS channels (`[sms.generic]`).
    pub sms: SmsConfig,
    /// E-mail (`[email]`).
    pub email: EmailConfig,
    /// Toll-fraud policy for calls out through trunks (`[outbound]`).
    pub outbound: crate::security::outbound::OutboundConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sip: SipConfig::default(),
            http: HttpConfig::default(),
            media: MediaConfig::default(),
            database: DatabaseConfig::default(),
            dialplan: DialplanConfig::default(),
            extensions: sections::demo_extensions(),
            trunks: Vec::new(),
            cti: CtiConfig::default(),
            queues: routing::demo_queues(),
            features: FeaturesSection::default(),
            calls: CallsSection::default(),
            customers: CustomersConfig::default(),
            sms: SmsConfig::default(),
            email: EmailConfig::default(),
            outbound: Default::default(),
        }
    }
}

/// A configuration problem, with the place it was found.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or a value has the wrong type.
    #[error("{path}:{line}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line of the error.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The values parse but do not make sense together.
    #[error("{path}: {message}")]
    Invalid {
        /// The file (or "built-in defaults").
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Loads `path` (or the built-in demo when `None`), applies the environment overrides,
    /// validates the result and settles the dialplan and prompt directories (a configured one
    /// must exist; an absent default is the embedded demo, see [`demo_assets`]).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (mut config, origin, text) = match path {
            Some(path) => {
                let origin = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: origin.clone(),
                    source,
                })?;
                (Config::parse(&text, &origin)?, origin, Some(text))
            }
            None => (Config::default(), "built-in defaults".to_string(), None),
        };
        config.apply_env(|name| std::env::var(name).ok());
        config.validate().map_err(|message| ConfigError::Invalid {
            path: origin.clone(),
            message,
        })?;
        demo_assets::resolve(&mut config, &origin, text.as_deref())?;
        Ok(config)
    }

    /// Parses TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|err| ConfigError::Syntax {
            path: origin.to_string(),
            line: err
                .span()
                .map(|span| line_of(text, span.start))
                .unwrap_or(1),
            message: err.message().to_string(),
        })
    }

    /// Applies the deployment overrides; `lookup` reads an environment variable.
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if let Some(url) = lookup("DATABASE_URL") {
            self.database.url = url;
        }
        if let Some(addr) = lookup("CENTRALA_SIP_LISTEN").and_then(|v| v.parse().ok()) {
            self.sip.listen = addr;
        }
        if let Some(addr) = lookup("CENTRALA_HTTP_LISTEN").and_then(|v| v.parse().ok()) {
            self.http.listen = addr;
        }
        if let Some(ip) = lookup("CENTRALA_PUBLIC_IP").and_then(|v| v.parse().ok()) {
            self.media.advertised_ip = Some(ip);
            self.sip.advertised_ip = Some(ip);
        }
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), String> {
        self.media.validate()?;
        self.sip.validate()?;
        self.calls.validate()?;
        sections::validate_extensions(&self.extensions)?;
        sections::validate_trunks(&self.trunks)?;
        self.cti.validate()?;
        self.sms.generic.validate()?;
        routing::validate(&self.features, &self.queues, &self.extensions)
    }

    /// What the routing shell runs with: queues, agents (with skills) and skill names.
    pub fn routing_setup(&self) -> Result<crate::routing::RoutingSetup, String> {
        routing::routing_setup(&self.queues, &self.extensions)
    }

    /// The extension with this number, if configured.
    pub fn extension(&self, number: &str) -> Option<&Extension> {
        self.extensions.iter().find(|ext| ext.number == number)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_demo_without_its_credentials() {
        let config = Config::parse("", "x.toml").unwrap();
        assert!(config.extensions.is_empty() && config.http.tokens.is_empty());
        assert_eq!(config.http.api_token, "");
        assert!(config.validate().is_ok());
        let config = Config::default();
        assert_eq!(config.sip.listen.port(), 5060);
        assert_eq!(config.http.listen.port(), 8080);
        assert_eq!(
            (config.media.rtp_port_min, config.media.rtp_port_max),
            (10000, 20000)
        );
        let numbers: Vec<_> = config
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .collect();
        assert_eq!(numbers, ["1001", "1002", "1003", "2001"]);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err =
            Config::parse("[sip]\nlisten = \"127.0.0.1:5060\"\nbogus = 1\n", "c.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("c.toml:3:"), "{text}");
    }

    #[test]
    fn environment_overrides_database_and_ports() {
        let mut config = Config::default();
        config.apply_env(|name| match name {
            "DATABASE_URL" => Some("postgres://127.0.0.1/test".into()),
            "CENTRALA_SIP_LISTEN" => Some("127.0.0.1:5070".into()),
            "CENTRALA_PUBLIC_IP" => Some("192.0.2.7".into()),
            _ => None,
        });
        assert_eq!(config.database.url, "postgres://127.0.0.1/test");
        assert_eq!(config.sip.listen.port(), 5070);
        assert_eq!(
            config.media.advertised_ip,
            Some("192.0.2.7".parse().unwrap())
        );
    }

    #[test]
    fn duplicate_extensions_are_rejected() {
        let text = "[[extensions]]\nnumber = \"1\"\npassword = \"a\"\n\
                    [[extensions]]\nnumber = \"1\"\npassword = \"b\"\n";
        let config = Config::parse(text, "c.toml").unwrap();
        assert!(
            config
                .validate()
                .unwrap_err()
                .contains("duplicate extension 1")
        );
    }
}

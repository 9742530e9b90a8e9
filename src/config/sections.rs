//! The sections of the configuration file and their defaults.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::Deserialize;

use super::caller_id::{CallerId, CallerNumber, DisplayName, Privacy};

/// `[sip]`: signalling.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    /// Address for both UDP and TCP.
    pub listen: SocketAddr,
    /// The address put in Via, Contact and Record-Route when `listen` is a wildcard.
    pub advertised_ip: Option<IpAddr>,
    /// Our SIP domain and digest realm.
    pub domain: String,
    /// RFC 3261 T1 (round-trip estimate), milliseconds.
    pub t1_ms: u64,
    /// Largest message accepted on a stream (bytes); larger ones close the connection.
    pub max_message_size: usize,
    /// Number of transaction shards (0 = one per CPU core).
    pub shards: usize,
    /// Inbox size of each shard; a full inbox sheds new requests with 503.
    pub shard_queue: usize,
    /// How long an extension may ring before the caller gets 480.
    pub no_answer_timeout_secs: u64,
    /// REGISTER: shortest accepted expiry (423 below it).
    pub min_expires: u32,
    /// REGISTER: longest granted expiry.
    pub max_expires: u32,
    /// REGISTER: expiry when the request names none.
    pub default_expires: u32,
    /// Digest nonces older than this are stale.
    pub nonce_ttl_secs: u64,
    /// Digest algorithms offered, one challenge each, most preferred first (`MD5`,
    /// `SHA-256`). Both are always accepted; only the offer is configured. The default offers
    /// MD5 alone: SIPp 3.6 answers only the first challenge and knows only MD5, and baresip
    /// 1.0 (libre) gives up on the whole response when any challenge uses an algorithm it
    /// lacks. Offer `["SHA-256", "MD5"]` (RFC 8760 order) when every phone copes.
    pub digest_algorithms: Vec<String>,
    /// Failed-authentication ban.
    pub ban: BanConfig,
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5060),
            advertised_ip: None,
            domain: "centrala".to_string(),
            t1_ms: 500,
            max_message_size: 65_535,
            shards: 0,
            shard_queue: 4096,
            no_answer_timeout_secs: 30,
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            nonce_ttl_secs: 300,
            digest_algorithms: vec!["MD5".into()],
            ban: BanConfig::default(),
        }
    }
}

impl SipConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.min_expires > self.max_expires {
            return Err("sip.min_expires is larger than sip.max_expires".into());
        }
        for token in &self.digest_algorithms {
            if crate::sip::auth::Algorithm::from_token(token).is_err() {
                return Err(format!(
                    "sip.digest_algorithms: unknown algorithm {token:?}"
                ));
            }
        }
        if self.t1_ms == 0 || self.shard_queue == 0 {
            return Err("sip.t1_ms and sip.shard_queue must be positive".into());
        }
        Ok(())
    }
}

/// `[sip.ban]`: after `max_failures` failed authentications within `window_secs`, a source
/// address gets 403 for `ban_secs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BanConfig {
    /// Failures that trigger a ban.
    pub max_failures: u32,
    /// Window in which the failures are counted.
    pub window_secs: u64,
    /// How long the ban lasts.
    pub ban_secs: u64,
}

impl Default for BanConfig {
    fn default() -> Self {
        BanConfig {
            max_failures: 5,
            window_secs: 60,
            ban_secs: 600,
        }
    }
}

/// `[http]`: API, metrics, health and pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Listening address.
    pub listen: SocketAddr,
    /// Bearer token with the admin role for `/api/v1`. Empty (the default in a config file):
    /// no admin token. The demo's `demo-admin-token` exists only in the run without a file.
    #[serde(default)]
    pub api_token: String,
    /// More API tokens (`[[http.tokens]]`), stored hashed at start-up; tokens can also be
    /// made and revoked through `/api/v1/tokens`. The demo's exist only without a file.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Bearer token `/metrics` requires; `None`: `/metrics` is open (`check` warns).
    #[serde(default)]
    pub metrics_token: Option<String>,
    /// Failed authentications a client IP may make within `auth_window_secs`; the next ones
    /// get 429 for `auth_block_secs`.
    pub auth_max_failures: u32,
    /// The window over which failures are counted.
    pub auth_window_secs: u64,
    /// How long a client IP that failed too often is refused.
    pub auth_block_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let demo = |name: &str, role: &str, agent: Option<&str>| TokenConfig {
            name: name.to_string(),
            token: format!("demo-{name}-token"),
            role: role.to_string(),
            agent: agent.map(str::to_string),
        };
        HttpConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080),
            api_token: "demo-admin-token".to_string(),
            tokens: vec![
                demo("agent-1001", "agent", Some("1001")),
                demo("agent-1002", "agent", Some("1002")),
                demo("agent-1003", "agent", Some("1003")),
                demo("supervisor", "supervisor", None),
                demo("integration", "integration", None),
            ],
            auth_max_failures: 10,
            auth_window_secs: 60,
            auth_block_secs: 60,
            metrics_token: None,
        }
    }
}

impl HttpConfig {
    /// The defaults of a config file: the demo's without any of its tokens.
    pub fn without_demo() -> HttpConfig {
        HttpConfig {
            api_token: String::new(),
            tokens: Vec::new(),
            ..HttpConfig::default()
        }
    }
}

/// `[[http.tokens]]`: one API token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Unique label (the stored id is `config:<name>`).
    pub name: String,
    /// The secret clients send as `Authorization: Bearer <token>`.
    pub token: String,
    /// `agent`, `supervisor`, `admin` or `integration`.
    pub role: String,
    /// For `agent` tokens: the agent's extension number.
    #[serde(default)]
    pub agent: Option<String>,
}

/// `[media]`: where anchored RTP flows.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Address the RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Address written into SDP (defaults to `bind_ip`, or the SIP address when that is a
    /// wildcard).
    pub advertised_ip: Option<IpAddr>,
    /// First RTP port (even).
    pub rtp_port_min: u16,
    /// Last RTP port.
    pub rtp_port_max: u16,
    /// Prompts: `<sounds_dir>/<lang>/<name>.wav`.
    pub sounds_dir: std::path::PathBuf,
    /// Call recordings (stereo WAV, caller left, callee right).
    pub recordings_dir: std::path::PathBuf,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            advertised_ip: None,
            rtp_port_min: 10000,
            rtp_port_max: 20000,
            sounds_dir: "sounds".into(),
            recordings_dir: "data/recordings".into(),
        }
    }
}

impl MediaConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.rtp_port_min >= self.rtp_port_max || self.rtp_port_max - self.rtp_port_min < 4 {
            return Err("media.rtp_port_min..rtp_port_max must hold at least 4 ports".into());
        }
        Ok(())
    }
}

/// `[dialplan]`: the IVR flows.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialplanConfig {
    /// Directory of `*.yaml` flow files (absent: no IVR, only extensions).
    pub dir: std::path::PathBuf,
}

impl Default for DialplanConfig {
    fn default() -> Self {
        DialplanConfig {
            dir: "dialplans".into(),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` (created if missing) or `postgres://...`.
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/centrala.db".to_string(),
        }
    }
}

/// What a user does in the contact centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Takes contacts from the queues.
    Agent,
    /// Monitors agents and queues.
    Supervisor,
    /// A plain extension.
    #[default]
    User,
}

/// `[[extensions]]`: a user who registers phones under `number`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// The extension number, also the SIP user name.
    pub number: String,
    /// Digest password.
    pub password: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Role.
    #[serde(default)]
    pub role: Role,
    /// Whether this user's calls are recorded.
    #[serde(default)]
    pub record: RecordPolicy,
    /// Routing skills with levels (1-255), e.g. `{ sales = 5 }`.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// Proficiency per channel (`voice`, `chat`, `email`, ...; higher is preferred).
    #[serde(default)]
    pub proficiency: BTreeMap<String, u8>,
    /// The password for the pages' sign-in, as an argon2 PHC string (`centrala
    /// hash-password` makes one). Without it the account signs in with its SIP `password`.
    #[serde(default)]
    pub web_password: Option<String>,
}

/// Recording policy of an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RecordPolicy {
    /// Every answered call is recorded.
    Always,
    /// Never recorded.
    #[default]
    Never,
    /// Recorded when asked (API or feature code; arrives with call control).
    OnDemand,
}

/// `[[trunks]]`: a carrier connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    /// Name used in logs, CDRs and dialplans.
    pub name: String,
    /// Source addresses whose INVITEs are accepted without digest authentication.
    #[serde(default)]
    pub inbound_ips: Vec<IpAddr>,
    /// How to send calls to the carrier.
    #[serde(default)]
    pub outbound: Option<TrunkOutbound>,
}

/// `[trunks.outbound]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkOutbound {
    /// The carrier's SIP address, `host:port`.
    pub proxy: SocketAddr,
    /// `udp` (default) or `tcp`.
    #[serde(default = "default_transport")]
    pub transport: String,
    /// Digest user name, when the carrier challenges.
    #[serde(default)]
    pub username: Option<String>,
    /// Digest password.
    #[serde(default)]
    pub password: Option<String>,
    /// Keep a registration with the carrier.
    #[serde(default)]
    pub register: bool,
    /// Domain for request URIs and From (defaults to the proxy address).
    #[serde(default)]
    pub domain: Option<String>,
    /// Numbers starting with this prefix are sent to this trunk (the prefix is stripped).
    #[serde(default)]
    pub dial_prefix: Option<String>,
    /// The number presented on calls out through this trunk, unless the call or its queue
    /// sets one (`calls::caller_id`). Absent everywhere: `From` is the trunk's account
    /// (`<sip:USERNAME@DOMAIN>`, or `<sip:DOMAIN>` without a username), never an extension.
    #[serde(default)]
    pub caller_id: Option<CallerNumber>,
    /// The display name presented with `caller_id`.
    #[serde(default)]
    pub caller_name: Option<DisplayName>,
    /// Also send the presented identity as `P-Asserted-Identity` (RFC 3325), for carriers
    /// that trust us to assert it. Needs `caller_id`.
    #[serde(default)]
    pub p_asserted_identity: bool,
    /// `id`: withhold the number from the called party (anonymous `From`, `Privacy: id`).
    #[serde(default)]
    pub privacy: Privacy,
}

impl TrunkOutbound {
    /// The host of request URIs and `From`: `domain`, else the proxy's address.
    pub fn host(&self) -> String {
        self.domain
            .clone()
            .unwrap_or_else(|| self.proxy.to_string())
    }

    /// The trunk's own caller ID (`caller_id` with `caller_name`), if it sets a number.
    pub fn caller_id(&self) -> Option<CallerId> {
        let number = self.caller_id.clone()?;
        Some(CallerId {
            number,
            name: self.caller_name.clone(),
        })
    }
}

fn default_transport() -> String {
    "udp".to_string()
}

pub(super) fn demo_extensions() -> Vec<Extension> {
    let user = |number: &str, name: &str, role, skills: &[&str]| Extension {
        number: number.to_string(),
        password: format!("demo{number}"),
        name: name.to_string(),
        role,
        record: RecordPolicy::Never,
        skills: skills.iter().map(|s| (s.to_string(), 5)).collect(),
        proficiency: BTreeMap::new(),
        web_password: None,
    };
    vec![
        user("1001", "Agent Anna", Role::Agent, &["sales", "support"]),
        user(
            "1002",
            "Agent Bartek",
            Role::Agent,
            &["support", "collections"],
        ),
        user(
            "1003",
            "Agent Celina",
            Role::Agent,
            &["sales", "collections"],
        ),
        user("2001", "Supervisor Dorota", Role::Supervisor, &[]),
    ]
}

pub(super) fn validate_extensions(extensions: &[Extension]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for ext in extensions {
        if ext.number.is_empty() || !ext.number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "extension number {:?} must be letters or digits",
                ext.number
            ));
        }
        if ext.password.is_empty() {
            return Err(format!("extension {} has an empty password", ext.number));
        }
        if !seen.insert(ext.number.as_str()) {
            return Err(format!("duplicate extension {}", ext.number));
        }
        if let Some(hash) = &ext.web_password
            && argon2::PasswordHash::new(hash).is_err()
        {
            return Err(format!(
                "extension {}: web_password must be an argon2 hash (make one with \
                 `centrala hash-password`)",
                ext.number
            ));
        }
    }
    Ok(())
}

pub(super) fn validate_trunks(trunks: &[Trunk]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for trunk in trunks {
        if !seen.insert(trunk.name.as_str()) {
            return Err(format!("duplicate trunk {}", trunk.name));
        }
        if let Some(out) = &trunk.outbound {
            if out.transport != "udp" && out.transport != "tcp" {
                return Err(format!(
                    "trunk {}: transport must be udp or tcp",
                    trunk.name
                ));
            }
            if out.register && (out.username.is_none() || out.password.is_none()) {
                return Err(format!(
                    "trunk {}: register needs username and password",
                    trunk.name
                ));
            }
            let owner = format!("trunk {}", trunk.name);
            let caller_id = CallerId::of(&owner, out.caller_id.as_ref(), out.caller_name.as_ref())?;
            if out.p_asserted_identity && caller_id.is_none() {
                return Err(format!("{owner}: p_asserted_identity needs a caller_id"));
            }
        }
    }
    Ok(())
}

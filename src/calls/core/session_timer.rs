//! RFC 4028 session timers: what the headers say, what we agree to, and when a refresh or the
//! end of the session is due.
//!
//! Owns: parsing `Session-Expires` / `Min-SE` / `Supported: timer`, the negotiation as UAS
//! (including the 422 answer) and as UAC, and `SessionTimer`, the deadlines of one agreed
//! session interval. Must not touch: messages (the shell passes header values in), clocks.
//! Driven by: `InviteDialog`, which owns one `SessionTimer` per leg once negotiated.

use std::time::{Duration, Instant};

use super::Reason;

/// The `[calls.session_timer]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// Use session timers at all.
    pub enabled: bool,
    /// The session interval we ask for and the largest we accept (seconds; RFC 4028
    /// recommends 1800).
    pub session_expires: u32,
    /// The smallest session interval we accept (seconds; at least 90, RFC 4028 §4).
    pub min_se: u32,
}

impl Default for SessionTimerConfig {
    fn default() -> Self {
        SessionTimerConfig {
            enabled: true,
            session_expires: 1800,
            min_se: 90,
        }
    }
}

/// Who refreshes, by the role in the INVITE transaction that set the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// The sender of that INVITE.
    Uac,
    /// Its receiver.
    Uas,
}

impl Refresher {
    fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// A parsed `Session-Expires` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpires {
    /// The interval, in seconds.
    pub delta: u32,
    /// The `refresher` parameter, when present.
    pub refresher: Option<Refresher>,
}

/// The agreed session interval and refresher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Seconds.
    pub interval: u32,
    /// Who refreshes (relative to the initial INVITE).
    pub refresher: Refresher,
    /// The 2xx carries `Require: timer` (the UAC supports the extension).
    pub require: bool,
}

impl Negotiated {
    /// The `Session-Expires` value to send (`1800;refresher=uac`).
    pub fn header_value(&self) -> String {
        format!("{};refresher={}", self.interval, self.refresher.as_str())
    }
}

/// What to do with an INVITE as its UAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UasDecision {
    /// Answer 422 Session Interval Too Small with this `Min-SE`.
    TooSmall {
        /// Our smallest accepted interval, for the 422's `Min-SE`.
        min_se: u32,
    },
    /// Answer with this session interval.
    Use(Negotiated),
    /// No session timer on this leg.
    Off,
}

/// Parses a `Session-Expires` value: `1800`, `1800;refresher=uac`.
pub fn parse_session_expires(value: &str) -> Option<SessionExpires> {
    let mut parts = value.split(';');
    let delta = parts.next()?.trim().parse().ok()?;
    let refresher = parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("refresher") {
            return None;
        }
        match value.trim().to_ascii_lowercase().as_str() {
            "uac" => Some(Refresher::Uac),
            "uas" => Some(Refresher::Uas),
            _ => None,
        }
    });
    Some(SessionExpires { delta, refresher })
}

/// Parses a `Min-SE` value (parameters ignored).
pub fn parse_min_se(value: &str) -> Option<u32> {
    value.split(';').next()?.trim().parse().ok()
}

/// Whether `Supported` (or `Require`) values name the `timer` option tag.
pub fn names_timer<'a>(values: impl IntoIterator<Item = &'a str>) -> bool {
    values
        .into_iter()
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().eq_ignore_ascii_case("timer"))
}

/// RFC 4028 §9: the UAS's answer to an INVITE with these headers.
pub fn negotiate_uas(
    config: &SessionTimerConfig,
    requested: Option<SessionExpires>,
    their_min_se: Option<u32>,
    uac_supports: bool,
) -> UasDecision {
    if !config.enabled {
        return UasDecision::Off;
    }
    let floor = config.min_se.max(their_min_se.unwrap_or(90));
    let (interval, refresher) = match requested {
        Some(se) if se.delta < config.min_se => {
            return UasDecision::TooSmall {
                min_se: config.min_se,
            };
        }
        Some(se) => (
            se.delta.min(config.session_expires).max(floor),
            se.refresher.unwrap_or(Refresher::Uac),
        ),
        None => (config.session_expires.max(floor), Refresher::Uac),
    };
    // A UAC without the extension cannot refresh on purpose: we do (RFC 4028 §9).
    let refresher = if uac_supports {
        refresher
    } else {
        Refresher::Uas
    };
    UasDecision::Use(Negotiated {
        interval,
        refresher,
        require: uac_supports,
    })
}

/// The headers of an INVITE we send with session timers on (`Supported`, `Session-Expires`,
/// `Min-SE`), or none when they are off.
pub fn uac_headers(config: &SessionTimerConfig) -> Vec<(&'static str, String)> {
    if !config.enabled {
        return Vec::new();
    }
    vec![
        ("Supported", "timer".to_owned()),
        ("Session-Expires", config.session_expires.to_string()),
        ("Min-SE", config.min_se.to_string()),
    ]
}

/// RFC 4028 §7.2: the interval in the 2xx to our INVITE, or none (the UAS does not do
/// session timers and we do not impose one).
pub fn negotiate_uac(in_2xx: Option<SessionExpires>) -> Option<Negotiated> {
    let se = in_2xx?;
    Some(Negotiated {
        interval: se.delta,
        refresher: se.refresher.unwrap_or(Refresher::Uac),
        require: true,
    })
}

/// RFC 4028 §7.3: after a 422, the interval to retry with, or none when the retry would not
/// help (the peer's `Min-SE` is missing or not larger than what we asked).
pub fn retry_after_422(asked: u32, their_min_se: Option<u32>) -> Option<u32> {
    their_min_se.filter(|&min| min > asked)
}

/// One agreed session interval on a leg: when we refresh, or when the session is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    interval: Duration,
    we_refresh: bool,
    refreshed_at: Instant,
}

impl SessionTimer {
    /// Starts the interval at `now`; `we_refresh` when the refresher is our side.
    pub fn new(now: Instant, interval_secs: u32, we_refresh: bool) -> SessionTimer {
        SessionTimer {
            interval: Duration::from_secs(u64::from(interval_secs.max(1))),
            we_refresh,
            refreshed_at: now,
        }
    }

    /// A refresh succeeded at `now`, optionally with a new interval.
    pub fn refreshed(&mut self, now: Instant, interval_secs: Option<u32>) {
        self.refreshed_at = now;
        if let Some(secs) = interval_secs {
            self.interval = Duration::from_secs(u64::from(secs.max(1)));
        }
    }

    /// The session interval in seconds.
    pub fn interval_secs(&self) -> u64 {
        self.interval.as_secs()
    }

    /// Whether our side sends the refreshes.
    pub fn we_refresh(&self) -> bool {
        self.we_refresh
    }

    /// When we send the refresh (half the interval), if we are the refresher.
    pub fn refresh_at(&self) -> Option<Instant> {
        self.we_refresh
            .then(|| self.refreshed_at + self.interval / 2)
    }

    /// When the session is over without a refresh: the refresher gives up at the full
    /// interval; the other side sends BYE `min(32 s, interval/3)` before it (RFC 4028 §10).
    pub fn expires_at(&self) -> Instant {
        if self.we_refresh {
            self.refreshed_at + self.interval
        } else {
            let margin = (self.interval / 3).min(Duration::from_secs(32));
            self.refreshed_at + self.interval - margin
        }
    }

    /// The next deadline and why.
    pub fn next(&self, refreshing: bool) -> (Instant, Reason) {
        match self.refresh_at() {
            Some(at) if !refreshing => (at, Reason::SessionRefresh),
            _ => (self.expires_at(), Reason::SessionExpiry),
        }
    }
}

//! `[calls]`: the limits that end a call nobody ends (RTP inactivity, RFC 4028 session timers,
//! a maximum duration) and the drain time of a graceful shutdown.

use std::time::Duration;

use serde::Deserialize;

/// `[calls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallsSection {
    /// End a bridged call when a leg sends no RTP for this many seconds (0: never). Not
    /// applied while a leg is held.
    pub rtp_timeout_secs: u64,
    /// End an answered call after this many seconds (0: no limit).
    pub max_duration_secs: u64,
    /// Use RFC 4028 session timers on both legs.
    pub session_timers: bool,
    /// The session interval asked for and the largest accepted (seconds).
    pub session_expires_secs: u32,
    /// The smallest session interval accepted (seconds, at least 90); below it, 422.
    pub min_se_secs: u32,
    /// On SIGTERM or Ctrl-C, how long live calls may go on before they are ended (seconds).
    pub drain_secs: u64,
    /// After a click-to-dial call the agent wraps up this long before the next offer
    /// (seconds; 0: none), as after a queue call.
    pub click_to_dial_wrap_up_secs: u64,
}

impl Default for CallsSection {
    fn default() -> Self {
        CallsSection {
            rtp_timeout_secs: 60,
            max_duration_secs: 0,
            session_timers: true,
            session_expires_secs: 1800,
            min_se_secs: 90,
            drain_secs: 30,
            click_to_dial_wrap_up_secs: 10,
        }
    }
}

impl CallsSection {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.min_se_secs < 90 {
            return Err("calls.min_se_secs must be at least 90 (RFC 4028)".into());
        }
        if self.session_expires_secs < self.min_se_secs {
            return Err("calls.session_expires_secs is smaller than calls.min_se_secs".into());
        }
        Ok(())
    }

    /// The RTP inactivity limit, if any.
    pub fn rtp_timeout(&self) -> Option<Duration> {
        (self.rtp_timeout_secs > 0).then(|| Duration::from_secs(self.rtp_timeout_secs))
    }

    /// The agent's after-call work following a click-to-dial call.
    pub fn click_to_dial_wrap_up(&self) -> Duration {
        Duration::from_secs(self.click_to_dial_wrap_up_secs)
    }

    /// The maximum call duration, if any.
    pub fn max_duration(&self) -> Option<Duration> {
        (self.max_duration_secs > 0).then(|| Duration::from_secs(self.max_duration_secs))
    }
}

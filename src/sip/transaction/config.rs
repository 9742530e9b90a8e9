//! Timer values of RFC 3261 17 (table 4) and the ACK builder hook.
//!
//! Owns: [`TimerConfig`] and [`AckBuilder`]; nothing here has state.

use std::time::Duration;

use bytes::Bytes;

/// Builds the ACK for a non-2xx final response to an INVITE (RFC 3261 17.1.1.3) from the INVITE
/// as sent and the response as received; `None` when either cannot be parsed. Provided by the
/// message parser module.
pub type AckBuilder = fn(invite: &[u8], response: &[u8]) -> Option<Bytes>;

/// The transaction timers' base values. Every timer of RFC 3261 17 derives from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate: the first retransmission interval (default 500 ms).
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// Maximum time a message stays in the network; Timers I and K (5 s).
    pub t4: Duration,
    /// Timer D: how long an INVITE client waits for response retransmissions over an unreliable
    /// transport (at least 32 s).
    pub timer_d: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
        }
    }
}

impl TimerConfig {
    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_rfc_values() {
        let config = TimerConfig::default();
        assert_eq!(config.t1x64(), Duration::from_secs(32));
        assert_eq!(config.t2, Duration::from_secs(4));
        assert_eq!(config.t4, Duration::from_secs(5));
        assert!(config.timer_d >= Duration::from_secs(32));
    }
}

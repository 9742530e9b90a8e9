//! The sans-IO call core: the protocol decisions of a call, taken out of the tokio task.
//!
//! Owns: the INVITE dialog rules of one leg (`InviteDialog`: 2xx retransmission until ACK,
//! CANCEL crossing a 200, re-INVITE/UPDATE glare with the RFC 3261 §14.1 back-off, BYE
//! crossing a re-INVITE), RFC 4028 session timers (`session_timer`), and the call-level
//! watchdog that ends a call nobody ends (`Watchdog`: RTP inactivity, maximum duration).
//! Must not touch: sockets, clocks, tokio, SIP message building, the media session, the
//! database. Every input carries `now`; every output is a value the shell acts on.
//! Driven by: the call task (`calls::call`), which feeds SIP and media events in, drains
//! `poll_action` after every input, and sleeps until the earliest `poll_timeout`.
//!
//! Polling order, after every `handle_*` call: drain `poll_action` until `None`, then ask
//! `poll_timeout` for the next wake-up and its `Reason` (logged, so a stuck call says why it
//! is waiting). Handling a timeout that is not yet due does nothing.

mod glare;
mod invite;
pub mod session_timer;
mod watchdog;

#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

pub use invite::{Action, CancelAnswer, InviteDialog, Purpose, ReinviteAnswer, Role};
pub use session_timer::{Negotiated, Refresher, SessionTimerConfig};
pub use watchdog::{Watchdog, WatchdogConfig};

/// RFC 3261 timer values for one leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// Round-trip estimate (500 ms by default).
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and 2xx responses (4 s).
    pub t2: Duration,
}

impl Timers {
    /// The timers for `t1` with RFC 3261's T2 of 4 s.
    pub fn with_t1(t1: Duration) -> Timers {
        Timers {
            t1,
            t2: Duration::from_secs(4),
        }
    }
}

/// Why a call or a leg ends on its own (the CDR's hangup cause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// Our 2xx was never acknowledged within 64*T1.
    NoAck,
    /// No session refresh arrived before the session expired (RFC 4028 §10).
    SessionExpired,
    /// Our session refresh was answered 408 or 481, or timed out (RFC 4028 §10).
    RefreshFailed,
    /// No RTP arrived from a leg for the configured time.
    RtpTimeout,
    /// The call reached its maximum duration.
    MaxDuration,
    /// A re-INVITE was answered 408 or 481: the peer has lost the dialog (RFC 3261 §14.1).
    DialogGone,
}

impl EndCause {
    /// The CDR cause text.
    pub fn as_str(self) -> &'static str {
        match self {
            EndCause::NoAck => "no_ack",
            EndCause::SessionExpired => "session_expired",
            EndCause::RefreshFailed => "session_refresh_failed",
            EndCause::RtpTimeout => "rtp_timeout",
            EndCause::MaxDuration => "max_duration",
            EndCause::DialogGone => "dialog_gone",
        }
    }
}

impl fmt::Display for EndCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the next wake-up of a core is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Retransmit our 2xx (RFC 3261 13.3.1.4).
    Retransmit2xx,
    /// Give up waiting for the ACK of our 2xx (64*T1).
    AckTimeout,
    /// Send a session refresh (half the session interval, RFC 4028 §10).
    SessionRefresh,
    /// The session expires unless refreshed (RFC 4028 §10).
    SessionExpiry,
    /// Retry a re-INVITE that met a 491 (RFC 3261 §14.1).
    GlareRetry,
    /// Look at the legs' RTP counters.
    RtpCheck,
    /// The call's maximum duration.
    MaxDuration,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Retransmit2xx => "2xx retransmission",
            Reason::AckTimeout => "ACK timeout (64*T1)",
            Reason::SessionRefresh => "session refresh due",
            Reason::SessionExpiry => "session expiry",
            Reason::GlareRetry => "re-INVITE retry after 491",
            Reason::RtpCheck => "RTP inactivity check",
            Reason::MaxDuration => "maximum call duration",
        })
    }
}

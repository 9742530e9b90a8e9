//! `Watchdog`: ends a call that nobody ends — no RTP from a leg for too long, or the call has
//! lasted its maximum duration.
//!
//! Owns: the per-leg RTP activity (the last packet count seen and when it last changed), the
//! held flags, the answer time. Must not touch: the media session (the shell reads its
//! counters and feeds them in at each `Reason::RtpCheck`), clocks.
//! Driven by: the call task.
//!
//! RTP inactivity is not judged while any leg is on hold (a held phone may stop sending, and
//! music on hold does not come from the peer), nor before the leg is watched; being taken off
//! hold starts the quiet period afresh.

use std::time::{Duration, Instant};

use super::{EndCause, Reason};

/// The `[calls]` watchdog settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchdogConfig {
    /// End the call when a watched leg sends no RTP for this long (`None`: never).
    pub rtp_timeout: Option<Duration>,
    /// End the call this long after it was answered (`None`: never).
    pub max_duration: Option<Duration>,
}

/// The most legs a call watches (caller and agent; more later).
const LEGS: usize = 2;

#[derive(Debug, Clone, Copy, Default)]
struct LegActivity {
    watched: bool,
    held: bool,
    packets: u64,
    since: Option<Instant>,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Watchdog {
    config: WatchdogConfig,
    answered_at: Option<Instant>,
    legs: [LegActivity; LEGS],
    next_check: Option<Instant>,
    fired: bool,
}

impl Watchdog {
    /// A watchdog with nothing answered or watched yet.
    pub fn new(config: WatchdogConfig) -> Watchdog {
        Watchdog {
            config,
            answered_at: None,
            legs: [LegActivity::default(); LEGS],
            next_check: None,
            fired: false,
        }
    }

    /// The call was answered at `now`: the maximum duration counts from here.
    pub fn handle_answered(&mut self, now: Instant) {
        self.answered_at.get_or_insert(now);
    }

    /// Starts (or stops) judging the RTP of `leg` (0: caller, 1: callee), quiet from `now`.
    pub fn watch(&mut self, now: Instant, leg: usize, on: bool) {
        if let Some(activity) = self.legs.get_mut(leg) {
            activity.watched = on;
            activity.since = Some(now);
        }
        self.next_check = match self.step() {
            Some(step) if self.legs.iter().any(|l| l.watched) => {
                Some(self.next_check.unwrap_or(now + step))
            }
            _ => None,
        };
    }

    /// `leg` was put on hold or taken off it.
    pub fn handle_hold(&mut self, now: Instant, leg: usize, held: bool) {
        if let Some(activity) = self.legs.get_mut(leg) {
            if activity.held && !held {
                activity.since = Some(now);
            }
            activity.held = held;
        }
    }

    /// The RTP packets received from `leg` so far, read at `now`.
    pub fn handle_rtp_count(&mut self, now: Instant, leg: usize, packets: u64) {
        if let Some(activity) = self.legs.get_mut(leg)
            && (packets != activity.packets || activity.since.is_none())
        {
            activity.packets = packets;
            activity.since = Some(now);
        }
    }

    fn any_held(&self) -> bool {
        self.legs.iter().any(|l| l.held)
    }

    /// Whether the RTP counters are to be read at the next `RtpCheck`.
    pub fn wants_rtp(&self) -> bool {
        self.config.rtp_timeout.is_some() && self.legs.iter().any(|l| l.watched)
    }

    /// The cause to end the call for, once, when a limit is reached at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<EndCause> {
        if self.fired {
            return None;
        }
        if let (Some(at), Some(step)) = (self.next_check, self.step())
            && at <= now
        {
            self.next_check = Some(now + step);
        }
        let cause = if self.max_duration_at().is_some_and(|at| at <= now) {
            Some(EndCause::MaxDuration)
        } else if self.silent_since(now) {
            Some(EndCause::RtpTimeout)
        } else {
            None
        };
        self.fired = cause.is_some();
        cause
    }

    fn silent_since(&self, now: Instant) -> bool {
        let Some(limit) = self.config.rtp_timeout else {
            return false;
        };
        !self.any_held()
            && self.legs.iter().any(|l| {
                l.watched
                    && l.since
                        .is_some_and(|since| now.saturating_duration_since(since) >= limit)
            })
    }

    fn max_duration_at(&self) -> Option<Instant> {
        Some(self.answered_at? + self.config.max_duration?)
    }

    /// The next deadline and why: the maximum duration, or the next RTP check (every quarter
    /// of the timeout, between 250 ms and 5 s, so a silent leg is caught within the timeout
    /// plus one check).
    pub fn poll_timeout(&self) -> Option<(Instant, Reason)> {
        if self.fired {
            return None;
        }
        let max = self.max_duration_at().map(|at| (at, Reason::MaxDuration));
        let rtp = self.next_check.map(|at| (at, Reason::RtpCheck));
        [max, rtp].into_iter().flatten().min_by_key(|(at, _)| *at)
    }

    fn step(&self) -> Option<Duration> {
        let limit = self.config.rtp_timeout?;
        Some((limit / 4).clamp(Duration::from_millis(250), Duration::from_secs(5)))
    }
}

//! Circuit breaker core: decides whether a request to a CRM endpoint may be sent now.
//!
//! Owns: the closed / open / half-open state of one endpoint and its consecutive-failure count.
//! Must not touch: clocks, sockets, tokio. `now` is passed in with every input.
//! Driven by: `LookupService`, which asks `try_acquire` before a request and reports the
//! outcome with `handle_success` / `handle_failure`.
//!
//! Closed: requests flow; `failures_to_open` consecutive failures open the circuit. Open: every
//! request is refused at once (the caller takes the fallback branch, no waiting) until
//! `open_for` has passed. Half-open: one probe is let through; its success closes the circuit,
//! its failure opens it again for another `open_for`. A probe whose outcome never arrives (its
//! future was dropped) stops blocking further probes after `open_for`.

use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow; the count of consecutive failures so far.
    Closed {
        /// Consecutive failures since the last success.
        failures: u32,
    },
    /// Requests are refused until `until`.
    Open {
        /// When a probe becomes allowed.
        until: Instant,
    },
    /// One probe may run; `probe_since` is set while it does.
    HalfOpen {
        /// When the running probe was let through.
        probe_since: Option<Instant>,
    },
}

/// What `try_acquire` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send the request (circuit closed).
    Allowed,
    /// Send the request as the half-open probe.
    Probe,
    /// Do not send; the circuit is open until `retry_at`.
    Rejected {
        /// When the next probe may be tried.
        retry_at: Instant,
    },
}

/// The breaker of one endpoint.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    failures_to_open: u32,
    open_for: Duration,
    state: BreakerState,
}

impl CircuitBreaker {
    /// A closed breaker that opens after `failures_to_open` consecutive failures (at least 1)
    /// and stays open for `open_for`.
    pub fn new(failures_to_open: u32, open_for: Duration) -> Self {
        CircuitBreaker {
            failures_to_open: failures_to_open.max(1),
            open_for,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    /// The current state, as of the last input.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a request may be sent at `now`. `Probe` marks the probe as running.
    pub fn try_acquire(&mut self, now: Instant) -> Admission {
        match self.state {
            BreakerState::Closed { .. } => Admission::Allowed,
            BreakerState::Open { until } if now < until => Admission::Rejected { retry_at: until },
            BreakerState::Open { .. } => self.start_probe(now),
            BreakerState::HalfOpen { probe_since: None } => self.start_probe(now),
            BreakerState::HalfOpen {
                probe_since: Some(since),
            } => {
                let stale_at = since + self.open_for;
                if now >= stale_at {
                    self.start_probe(now)
                } else {
                    Admission::Rejected { retry_at: stale_at }
                }
            }
        }
    }

    /// A request succeeded: the circuit closes and the failure count resets.
    pub fn handle_success(&mut self, _now: Instant) {
        self.state = BreakerState::Closed { failures: 0 };
    }

    /// A request failed. Returns true when this failure opened the circuit.
    pub fn handle_failure(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed { failures } if failures + 1 < self.failures_to_open => {
                self.state = BreakerState::Closed {
                    failures: failures + 1,
                };
                false
            }
            BreakerState::Closed { .. } | BreakerState::HalfOpen { .. } => {
                self.state = BreakerState::Open {
                    until: now + self.open_for,
                };
                true
            }
            // A late outcome of a request sent before the circuit opened: keep the deadline.
            BreakerState::Open { .. } => false,
        }
    }

    /// When the state changes by itself (an open circuit admits a probe), if it will.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            BreakerState::Open { until } => Some(until),
            _ => None,
        }
    }

    fn start_probe(&mut self, now: Instant) -> Admission {
        self.state = BreakerState::HalfOpen {
            probe_since: Some(now),
        };
        Admission::Probe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Duration = Duration::from_secs(30);

    #[test]
    fn opens_after_consecutive_failures_only() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(3, OPEN);
        assert!(!breaker.handle_failure(t0));
        assert!(!breaker.handle_failure(t0));
        breaker.handle_success(t0);
        assert!(!breaker.handle_failure(t0));
        assert!(!breaker.handle_failure(t0));
        assert_eq!(breaker.try_acquire(t0), Admission::Allowed);
        assert!(breaker.handle_failure(t0));
        assert_eq!(
            breaker.try_acquire(t0 + Duration::from_secs(1)),
            Admission::Rejected {
                retry_at: t0 + OPEN
            }
        );
        assert_eq!(breaker.poll_timeout(), Some(t0 + OPEN));
    }

    #[test]
    fn half_open_probe_success_closes() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(1, OPEN);
        breaker.handle_failure(t0);
        let t1 = breaker.poll_timeout().unwrap();
        assert_eq!(breaker.try_acquire(t1), Admission::Probe);
        // Only one probe at a time.
        assert_eq!(
            breaker.try_acquire(t1),
            Admission::Rejected {
                retry_at: t1 + OPEN
            }
        );
        breaker.handle_success(t1);
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
        assert_eq!(breaker.try_acquire(t1), Admission::Allowed);
    }

    #[test]
    fn half_open_probe_failure_reopens_for_another_period() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(2, OPEN);
        breaker.handle_failure(t0);
        breaker.handle_failure(t0);
        let t1 = t0 + OPEN;
        assert_eq!(breaker.try_acquire(t1), Admission::Probe);
        assert!(breaker.handle_failure(t1 + Duration::from_millis(500)));
        assert_eq!(
            breaker.state(),
            BreakerState::Open {
                until: t1 + Duration::from_millis(500) + OPEN
            }
        );
    }

    #[test]
    fn lost_probe_stops_blocking_after_open_period() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(1, OPEN);
        breaker.handle_failure(t0);
        assert_eq!(breaker.try_acquire(t0 + OPEN), Admission::Probe);
        // Its outcome never arrives.
        assert!(matches!(
            breaker.try_acquire(t0 + OPEN + OPEN / 2),
            Admission::Rejected { .. }
        ));
        assert_eq!(breaker.try_acquire(t0 + OPEN * 2), Admission::Probe);
    }

    #[test]
    fn late_failure_while_open_keeps_deadline() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(1, OPEN);
        breaker.handle_failure(t0);
        assert!(!breaker.handle_failure(t0 + Duration::from_secs(5)));
        assert_eq!(breaker.poll_timeout(), Some(t0 + OPEN));
    }
}

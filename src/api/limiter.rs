//! Rate limit of failed authentications per key: a client IP for API tokens, an account for
//! the pages' sign-in (core: no clock, no I/O).
//!
//! Owns: `FailureLimiter`, the count of recent failures per key and the blocks they earn.
//! Must not touch: HTTP, tokens; `api::auth` asks it after a presented token turned out not
//! to be valid (the pages' sign-in after a wrong password), and tells it about each failure,
//! passing the current time.
//!
//! A client that fails `max_failures` times within `window` has its failing requests refused
//! for `block` (429 with `Retry-After`, and not counted further); a right token is still
//! admitted, so a broken client behind a shared NAT address cannot lock out the others. Successful
//! requests are not counted. Memory is bounded: entries older than the window are dropped
//! when the table grows past `MAX_TRACKED`.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// IPs tracked before stale entries are swept.
const MAX_TRACKED: usize = 10_000;

/// The policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitPolicy {
    /// Failures allowed within `window`.
    pub max_failures: u32,
    /// The counting window.
    pub window: Duration,
    /// How long a client is refused once over the limit.
    pub block: Duration,
}

/// Failed authentications per key (by default a client IP).
#[derive(Debug)]
pub struct FailureLimiter<K = IpAddr> {
    policy: LimitPolicy,
    clients: HashMap<K, Client>,
}

#[derive(Debug, Clone, Copy)]
struct Client {
    window_start: Instant,
    failures: u32,
    blocked_until: Option<Instant>,
}

impl<K: Eq + Hash> FailureLimiter<K> {
    /// An empty limiter.
    pub fn new(policy: LimitPolicy) -> FailureLimiter<K> {
        FailureLimiter {
            policy,
            clients: HashMap::new(),
        }
    }

    /// How long `key` must still wait, if it is blocked at `now`.
    pub fn blocked_for(&self, now: Instant, key: &K) -> Option<Duration> {
        let until = self.clients.get(key)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a failure of `key` at `now`; returns the block it earned, if any.
    pub fn handle_failure(&mut self, now: Instant, key: K) -> Option<Duration> {
        if self.clients.len() >= MAX_TRACKED {
            self.sweep(now);
        }
        let policy = self.policy;
        let client = self.clients.entry(key).or_insert(Client {
            window_start: now,
            failures: 0,
            blocked_until: None,
        });
        if now.saturating_duration_since(client.window_start) > policy.window {
            client.window_start = now;
            client.failures = 0;
        }
        client.failures = client.failures.saturating_add(1);
        if client.failures > policy.max_failures {
            client.blocked_until = Some(now + policy.block);
            client.failures = 0;
            client.window_start = now;
            return Some(policy.block);
        }
        None
    }

    fn sweep(&mut self, now: Instant) {
        let window = self.policy.window;
        self.clients.retain(|_, c| {
            c.blocked_until.is_some_and(|until| until > now)
                || now.saturating_duration_since(c.window_start) <= window
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: LimitPolicy = LimitPolicy {
        max_failures: 3,
        window: Duration::from_secs(60),
        block: Duration::from_secs(30),
    };

    #[test]
    fn a_client_over_the_limit_is_blocked_then_released() {
        let mut limiter: FailureLimiter = FailureLimiter::new(POLICY);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let t0 = Instant::now();
        for n in 0..3 {
            assert_eq!(
                limiter.handle_failure(t0 + Duration::from_secs(n), ip),
                None
            );
        }
        assert_eq!(limiter.blocked_for(t0, &ip), None);
        let fourth = t0 + Duration::from_secs(4);
        assert_eq!(limiter.handle_failure(fourth, ip), Some(POLICY.block));
        assert_eq!(
            limiter.blocked_for(fourth + Duration::from_secs(10), &ip),
            Some(Duration::from_secs(20))
        );
        assert_eq!(limiter.blocked_for(fourth, &other), None, "per IP");
        assert_eq!(limiter.blocked_for(fourth + POLICY.block, &ip), None);
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let mut limiter: FailureLimiter = FailureLimiter::new(POLICY);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        for n in 0..3 {
            limiter.handle_failure(t0 + Duration::from_secs(n), ip);
        }
        let later = t0 + Duration::from_secs(120);
        assert_eq!(limiter.handle_failure(later, ip), None);
        assert_eq!(limiter.blocked_for(later, &ip), None);
    }
}

//! When to try a failed delivery again: exponential backoff, pure.
//!
//! Owns: the backoff schedule. Must not touch: clocks, the store, HTTP.
//! Driven by: the delivery worker after each failed attempt.

use std::time::Duration;

use crate::config::DeliveryConfig;

/// Exponential backoff: `initial` after the first failure, doubling, never above `max`.
/// There is no jitter: one worker per database sends each subscription's line in order, so
/// there is no herd of retries to spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failed attempt.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl RetryPolicy {
    /// From `[cti.delivery]` (default 1 s doubling to 5 min).
    pub fn from_config(config: &DeliveryConfig) -> RetryPolicy {
        RetryPolicy {
            initial: Duration::from_millis(config.initial_backoff_ms),
            max: Duration::from_secs(config.max_backoff_secs),
        }
    }

    /// Wait before the next attempt after `failures` failed attempts (1 for the first).
    pub fn delay_after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial.saturating_mul(1u32 << doublings).min(self.max)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::from_config(&DeliveryConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes() {
        let policy = RetryPolicy::default();
        let secs: Vec<u64> = (1..=11).map(|n| policy.delay_after(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(policy.delay_after(0).as_secs(), 1);
        assert_eq!(policy.delay_after(u32::MAX).as_secs(), 300);
    }
}

//! Nonce-count tracking (RFC 7616 section 3.4 and 5.12, RFC 8760): each `nc` of a nonce is
//! accepted once, so a captured `Authorization` or `Proxy-Authorization` header cannot be
//! sent again.
//!
//! Owns: per nonce, the highest `nc` accepted and a 64-bit window of the ones below it (like
//! the IPsec anti-replay window: a client that sends two requests on one nonce and has them
//! arrive out of order is not refused), bounded to [`NonceCounts::MAX_NONCES`] nonces.
//! Must not touch: clocks (`unix_secs` is passed in), nonce signing and verification (the
//! `DigestServer` does it first: only credentials with a right response and a fresh nonce
//! reach this, so a forger cannot burn a client's counts).
//! Driven by: `AuthGuard::check` after a successful verification.
//!
//! Forgetting must never re-open a nonce: a nonce leaves the table only when it is stale
//! anyway, or when the table is full; then the *floor* moves to its issue time and every
//! nonce issued at or before it that is not in the table is refused (the client is challenged
//! again with `stale=true` and answers on a fresh nonce).

use std::collections::{HashMap, VecDeque};

/// Bits of the window below the highest `nc`.
const WINDOW: u32 = 64;

/// Which nonce-counts each nonce has used.
#[derive(Debug, Clone)]
pub struct NonceCounts {
    /// Seconds a nonce stays usable after its issue (TTL plus clock skew).
    lifetime_secs: u64,
    entries: HashMap<String, Entry>,
    /// Nonces in insertion order with their issue time (roughly issue order).
    order: VecDeque<(u64, String)>,
    /// Nonces issued at or before this (unix seconds) and not tracked are refused.
    floor: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The highest `nc` accepted.
    highest: u32,
    /// Bit `i` set: `highest - 1 - i` was accepted.
    below: u64,
}

impl NonceCounts {
    /// The most nonces tracked at once (about 100 bytes each).
    pub const MAX_NONCES: usize = 200_000;

    /// A tracker for nonces usable `lifetime_secs` after their issue.
    pub fn new(lifetime_secs: u64) -> NonceCounts {
        NonceCounts {
            lifetime_secs,
            entries: HashMap::new(),
            order: VecDeque::new(),
            floor: None,
        }
    }

    /// Accepts `nc` (the 8 hex digits of the credentials) for `nonce`, issued at `issued`,
    /// unless that count was used already, is zero or unparsable, or the nonce was forgotten.
    pub fn accept(&mut self, unix_secs: u64, nonce: &str, issued: u64, nc: &str) -> bool {
        self.expire(unix_secs);
        let Ok(nc) = u32::from_str_radix(nc, 16) else {
            return false;
        };
        if nc == 0 {
            return false;
        }
        if let Some(entry) = self.entries.get_mut(nonce) {
            return entry.accept(nc);
        }
        if self.floor.is_some_and(|floor| issued <= floor) {
            return false;
        }
        if self.entries.len() >= Self::MAX_NONCES {
            self.evict_oldest();
        }
        self.entries.insert(
            nonce.to_string(),
            Entry {
                highest: nc,
                below: 0,
            },
        );
        self.order.push_back((issued, nonce.to_string()));
        true
    }

    /// Nonces tracked now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no nonce is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops nonces past their lifetime (they are stale for the `DigestServer` anyway).
    fn expire(&mut self, unix_secs: u64) {
        while let Some((issued, _)) = self.order.front() {
            if issued.saturating_add(self.lifetime_secs) >= unix_secs {
                break;
            }
            if let Some((_, nonce)) = self.order.pop_front() {
                self.entries.remove(&nonce);
            }
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((issued, nonce)) = self.order.pop_front() {
            self.entries.remove(&nonce);
            self.floor = Some(self.floor.map_or(issued, |f| f.max(issued)));
        }
    }
}

impl Entry {
    fn accept(&mut self, nc: u32) -> bool {
        if nc > self.highest {
            let shift = nc - self.highest;
            self.below = if shift > WINDOW {
                0
            } else {
                // The old highest becomes bit `shift - 1`.
                ((self.below << (shift - 1)) << 1) | (1 << (shift - 1))
            };
            self.highest = nc;
            return true;
        }
        let back = self.highest - nc;
        if back == 0 || back > WINDOW {
            return false;
        }
        let bit = 1u64 << (back - 1);
        if self.below & bit != 0 {
            return false;
        }
        self.below |= bit;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "abc";

    #[test]
    fn each_count_of_a_nonce_is_accepted_once() {
        let mut counts = NonceCounts::new(330);
        assert!(counts.accept(100, N, 100, "00000001"));
        assert!(!counts.accept(100, N, 100, "00000001"), "a replay");
        assert!(counts.accept(101, N, 100, "00000002"));
        assert!(!counts.accept(101, N, 100, "00000002"));
        assert!(!counts.accept(101, N, 100, "00000001"));
    }

    #[test]
    fn counts_that_arrive_out_of_order_are_accepted_once_each() {
        let mut counts = NonceCounts::new(330);
        assert!(counts.accept(100, N, 100, "00000003"));
        assert!(counts.accept(100, N, 100, "00000001"));
        assert!(counts.accept(100, N, 100, "00000002"));
        assert!(!counts.accept(100, N, 100, "00000002"));
        assert!(counts.accept(100, N, 100, "00000050"));
        assert!(counts.accept(100, N, 100, "00000011"), "within the window");
        assert!(
            !counts.accept(100, N, 100, "00000003"),
            "used before the jump"
        );
        assert!(counts.accept(100, N, 100, "00000500"));
        assert!(!counts.accept(100, N, 100, "00000010"), "below the window");
    }

    #[test]
    fn zero_and_garbage_counts_are_refused() {
        let mut counts = NonceCounts::new(330);
        assert!(!counts.accept(100, N, 100, "00000000"));
        assert!(!counts.accept(100, N, 100, "zz"));
        assert!(counts.is_empty());
    }

    #[test]
    fn other_nonces_count_on_their_own() {
        let mut counts = NonceCounts::new(330);
        assert!(counts.accept(100, "a", 100, "00000001"));
        assert!(counts.accept(100, "b", 100, "00000001"));
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn stale_nonces_are_forgotten() {
        let mut counts = NonceCounts::new(330);
        assert!(counts.accept(100, "a", 100, "00000001"));
        assert!(counts.accept(431, "b", 431, "00000001"));
        assert_eq!(counts.len(), 1, "a is past its lifetime");
    }

    #[test]
    fn a_nonce_evicted_from_a_full_table_is_never_accepted_again() {
        let mut counts = NonceCounts::new(1_000_000);
        for i in 0..NonceCounts::MAX_NONCES {
            assert!(counts.accept(100, &format!("n{i}"), 50 + (i as u64 / 1000), "00000001"));
        }
        assert!(counts.accept(300, "new", 300, "00000001"));
        assert_eq!(counts.len(), NonceCounts::MAX_NONCES);
        assert!(!counts.accept(300, "n0", 50, "00000001"), "n0 was evicted");
        assert!(!counts.accept(300, "unseen-old", 50, "00000001"));
        assert!(counts.accept(300, "n5000", 55, "00000002"), "still tracked");
    }
}

//! RFC 3261 §14.1 glare back-off: how long to wait before re-sending a re-INVITE that met a
//! 491, and the small deterministic generator that picks it.
//!
//! Owns: the back-off ranges and the generator state. Must not touch: clocks (the caller adds
//! the delay to its `now`). Driven by: `InviteDialog`.

use std::time::Duration;

/// A xorshift64* generator: seeded by the shell (random in production, fixed in tests), so
/// the same inputs give the same back-off.
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    state: u64,
}

impl Backoff {
    pub fn new(seed: u64) -> Backoff {
        Backoff { state: seed | 1 }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The wait after a 491: 2.1–4 s when we own the Call-ID (we sent the dialog's first
    /// INVITE), 0–2 s when the other side does, in units of 10 ms.
    pub fn after_491(&mut self, own_call_id: bool) -> Duration {
        let (low, high) = if own_call_id { (210, 400) } else { (0, 200) };
        let ticks = low + self.next() % (high - low + 1);
        Duration::from_millis(ticks * 10)
    }
}

//! A tiny deterministic network emulator: seeded loss, duplication, and random delay (which
//! reorders messages), all in virtual time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::peer::Peer;

/// Which layer a message is delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Client,
    Server,
}

/// Impairments applied to every message.
#[derive(Debug, Clone, Copy)]
pub(super) struct Impairment {
    /// Probability that a copy is lost.
    pub(super) loss: f64,
    /// Probability that a message is sent twice.
    pub(super) duplicate: f64,
    pub(super) min_delay: Duration,
    pub(super) max_delay: Duration,
}

/// Messages in flight, ordered by arrival time.
pub(super) struct Netem {
    rng: u64,
    impairment: Impairment,
    in_flight: BTreeMap<(Instant, u64), (Side, Peer, Bytes)>,
    seq: u64,
    /// Copies dropped so far (to show that a test really lost messages).
    pub(super) lost: u64,
}

impl Netem {
    pub(super) fn new(seed: u64, impairment: Impairment) -> Netem {
        Netem {
            rng: seed,
            impairment,
            in_flight: BTreeMap::new(),
            seq: 0,
            lost: 0,
        }
    }

    /// Sends `wire` from `from` towards `to`; each copy is lost or delayed independently.
    pub(super) fn send(&mut self, now: Instant, to: Side, from: Peer, wire: Bytes) {
        let copies = if self.chance(self.impairment.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            if self.chance(self.impairment.loss) {
                self.lost += 1;
                continue;
            }
            let spread = self
                .impairment
                .max_delay
                .saturating_sub(self.impairment.min_delay);
            let delay = self.impairment.min_delay + spread.mul_f64(self.uniform());
            self.seq += 1;
            self.in_flight
                .insert((now + delay, self.seq), (to, from, wire.clone()));
        }
    }

    /// When the next message arrives.
    pub(super) fn next_at(&self) -> Option<Instant> {
        self.in_flight.first_key_value().map(|((at, _), _)| *at)
    }

    /// The next message that has arrived by `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(Side, Peer, Bytes)> {
        let (&(at, seq), _) = self.in_flight.first_key_value()?;
        if at > now {
            return None;
        }
        self.in_flight.remove(&(at, seq))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.uniform() < probability
    }

    /// SplitMix64, mapped to [0, 1).
    fn uniform(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn netem_is_deterministic_and_drops_what_it_says() {
    let t0 = Instant::now();
    let lossy = Impairment {
        loss: 0.5,
        duplicate: 0.0,
        min_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };
    let run = |seed| {
        let mut net = Netem::new(seed, lossy);
        for _ in 0..1000 {
            net.send(t0, Side::Server, super::udp(1), Bytes::from_static(b"x"));
        }
        net.lost
    };
    assert_eq!(run(7), run(7));
    assert!((400..600).contains(&run(7)), "about half lost");
}

//! In-band DTMF detection over 8 kHz linear PCM (Goertzel filters).
//!
//! Owns [`InbandDetector`]: eight Goertzel filters (the Q.23 row and column frequencies)
//! run over fixed blocks of ~12.75 ms; a block is a hit when one row and one column
//! dominate (level floor, relative-peak to the other rows/columns, twist limits, and most
//! of the block's energy in the two tones, which is what rejects speech and noise). A digit
//! is reported once after `min_on_blocks` consecutive hits and may repeat only after
//! `min_off_blocks` blocks without it. Pure, allocation-free per frame; fed decoded audio
//! by the per-call media task when the peer sends DTMF in-band.

use std::collections::VecDeque;

use crate::media::dtmf::{COL_HZ, DtmfDigit, ROW_HZ};

/// Detection rate: in-band detection runs on 8 kHz audio.
pub const SAMPLE_RATE: u32 = 8000;
/// Pending detections kept before the oldest is dropped (the shell drains every frame).
const QUEUE_LIMIT: usize = 8;

/// Power of `freq` in `samples` at `sample_rate` (Goertzel; `|X(f)|^2`).
///
/// A sine of amplitude `A` spanning the whole slice gives about `(A * len / 2)^2`.
pub fn goertzel_power(samples: &[i16], freq: f32, sample_rate: u32) -> f64 {
    let coeff = 2.0 * (std::f64::consts::TAU * f64::from(freq) / f64::from(sample_rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for x in samples {
        let s = f64::from(*x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Detector thresholds; [`Default`] follows common Q.24-style practice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InbandConfig {
    /// Samples per analysis block (102 = 12.75 ms at 8 kHz).
    pub block_len: usize,
    /// Consecutive hit blocks needed to report a digit (3 blocks = ~38 ms of tone).
    pub min_on_blocks: u8,
    /// Blocks without the digit that end it (the gap before it may repeat).
    pub min_off_blocks: u8,
    /// Minimum amplitude of each tone (linear peak; 300 is about -40 dBm0).
    pub min_amplitude: f32,
    /// Strongest row (column) must beat every other row (column) by this much, dB.
    pub relative_peak_db: f32,
    /// Column may exceed row by at most this much (normal twist), dB.
    pub max_normal_twist_db: f32,
    /// Row may exceed column by at most this much (reverse twist), dB.
    pub max_reverse_twist_db: f32,
    /// Share of the block's energy the two tones must carry (0-1).
    pub min_tone_fraction: f32,
}

impl Default for InbandConfig {
    fn default() -> Self {
        InbandConfig {
            block_len: 102,
            min_on_blocks: 3,
            min_off_blocks: 2,
            min_amplitude: 300.0,
            relative_peak_db: 8.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 6.0,
            min_tone_fraction: 0.7,
        }
    }
}

/// A digit found in the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InbandDigit {
    /// The key.
    pub digit: DtmfDigit,
    /// Index of the sample (since the detector started) at which it was confirmed.
    pub at_sample: u64,
}

/// Streaming Goertzel DTMF detector; feed 8 kHz frames, drain [`Self::poll_digit`].
#[derive(Debug, Clone)]
pub struct InbandDetector {
    cfg: InbandConfig,
    coeffs: [f64; 8],
    s1: [f64; 8],
    s2: [f64; 8],
    energy: f64,
    filled: usize,
    samples_seen: u64,
    candidate: Option<DtmfDigit>,
    run: u8,
    current: Option<DtmfDigit>,
    misses: u8,
    found: VecDeque<InbandDigit>,
}

impl InbandDetector {
    /// A detector with `cfg`.
    pub fn new(cfg: InbandConfig) -> Self {
        let mut coeffs = [0.0; 8];
        for (c, f) in coeffs.iter_mut().zip(ROW_HZ.iter().chain(COL_HZ.iter())) {
            *c = 2.0 * (std::f64::consts::TAU * f64::from(*f) / f64::from(SAMPLE_RATE)).cos();
        }
        InbandDetector {
            cfg: InbandConfig {
                block_len: cfg.block_len.max(32),
                ..cfg
            },
            coeffs,
            s1: [0.0; 8],
            s2: [0.0; 8],
            energy: 0.0,
            filled: 0,
            samples_seen: 0,
            candidate: None,
            run: 0,
            current: None,
            misses: 0,
            found: VecDeque::with_capacity(QUEUE_LIMIT),
        }
    }

    /// Feed 8 kHz samples (any length; blocks span calls).
    pub fn handle_samples(&mut self, pcm: &[i16]) {
        for x in pcm {
            let x = f64::from(*x);
            self.energy += x * x;
            for i in 0..8 {
                let s = x + self.coeffs[i] * self.s1[i] - self.s2[i];
                self.s2[i] = self.s1[i];
                self.s1[i] = s;
            }
            self.filled += 1;
            self.samples_seen += 1;
            if self.filled == self.cfg.block_len {
                let hit = self.classify_block();
                self.s1 = [0.0; 8];
                self.s2 = [0.0; 8];
                self.energy = 0.0;
                self.filled = 0;
                self.debounce(hit);
            }
        }
    }

    /// The next confirmed digit, oldest first.
    pub fn poll_digit(&mut self) -> Option<InbandDigit> {
        self.found.pop_front()
    }

    /// The digit currently sounding (confirmed and not yet ended), if any.
    pub fn current(&self) -> Option<DtmfDigit> {
        self.current
    }

    fn classify_block(&self) -> Option<DtmfDigit> {
        let n = self.cfg.block_len as f64;
        let mut power = [0.0f64; 8];
        for (i, p) in power.iter_mut().enumerate() {
            *p = self.s1[i] * self.s1[i] + self.s2[i] * self.s2[i]
                - self.coeffs[i] * self.s1[i] * self.s2[i];
        }
        let (row, row_p) = strongest(&power[..4]);
        let (col, col_p) = strongest(&power[4..]);
        // Level: a tone of amplitude A gives (A n / 2)^2.
        let floor = (f64::from(self.cfg.min_amplitude) * n / 2.0).powi(2);
        if row_p < floor || col_p < floor {
            return None;
        }
        let rel = db_to_power(self.cfg.relative_peak_db);
        let others_ok = |group: &[f64], best: usize, best_p: f64| {
            group
                .iter()
                .enumerate()
                .all(|(i, p)| i == best || *p * rel <= best_p)
        };
        if !others_ok(&power[..4], row, row_p) || !others_ok(&power[4..], col, col_p) {
            return None;
        }
        if col_p > row_p * db_to_power(self.cfg.max_normal_twist_db)
            || row_p > col_p * db_to_power(self.cfg.max_reverse_twist_db)
        {
            return None;
        }
        // Each tone's energy over the block is about 2 |X|^2 / n.
        let tone_energy = 2.0 * (row_p + col_p) / n;
        if tone_energy < f64::from(self.cfg.min_tone_fraction) * self.energy {
            return None;
        }
        DtmfDigit::from_position(row, col)
    }

    fn debounce(&mut self, hit: Option<DtmfDigit>) {
        if let Some(current) = self.current {
            if hit == Some(current) {
                self.misses = 0;
                return;
            }
            self.misses += 1;
            if self.misses < self.cfg.min_off_blocks {
                return;
            }
            self.current = None;
            self.misses = 0;
            self.candidate = None;
            self.run = 0;
            return;
        }
        match hit {
            Some(d) if self.candidate == Some(d) => self.run = self.run.saturating_add(1),
            Some(d) => {
                self.candidate = Some(d);
                self.run = 1;
            }
            None => {
                self.candidate = None;
                self.run = 0;
            }
        }
        if let Some(d) = self.candidate
            && self.run >= self.cfg.min_on_blocks
        {
            self.current = Some(d);
            self.misses = 0;
            if self.found.len() == QUEUE_LIMIT {
                self.found.pop_front();
            }
            self.found.push_back(InbandDigit {
                digit: d,
                at_sample: self.samples_seen,
            });
        }
    }
}

impl Default for InbandDetector {
    fn default() -> Self {
        Self::new(InbandConfig::default())
    }
}

fn strongest(powers: &[f64]) -> (usize, f64) {
    let mut best = (0, powers[0]);
    for (i, p) in powers.iter().enumerate().skip(1) {
        if *p > best.1 {
            best = (i, *p);
        }
    }
    best
}

fn db_to_power(db: f32) -> f64 {
    10f64.powf(f64::from(db) / 10.0)
}

#[cfg(test)]
mod tests;

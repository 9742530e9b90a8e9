//! Tone generators: single and dual sine tones with an on/off cadence.
//!
//! Owns [`ToneSpec`] (what to play: one or two frequencies, level, cadence) with the
//! presets Centrala uses (EU ringback and busy, the 1 kHz beep, DTMF digits) and
//! [`ToneGenerator`], which fills caller-supplied PCM frames. Oscillator phase and the
//! cadence position carry over between frames, so frame edges are seamless. Pure and
//! allocation-free; driven by the per-call media task (early media, prompts, DTMF out).

use crate::media::dtmf::DtmfDigit;

/// A tone: up to two sine components at one level each, with a cadence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneSpec {
    /// First frequency in Hz.
    pub freq1: f32,
    /// Optional second frequency in Hz (dual tone).
    pub freq2: Option<f32>,
    /// Peak amplitude of each component (linear 16-bit scale).
    pub amplitude: i16,
    /// Tone-on time in ms per cycle.
    pub on_ms: u32,
    /// Silence after each on period in ms; 0 with `repeat` plays continuously.
    pub off_ms: u32,
    /// Repeat the on/off cycle forever; otherwise play it once and finish.
    pub repeat: bool,
}

impl ToneSpec {
    /// EU ringback (ETSI TR 101 041 / CEPT): 425 Hz, 1 s on, 4 s off.
    pub fn ringback_eu() -> Self {
        ToneSpec {
            freq1: 425.0,
            freq2: None,
            amplitude: 6000,
            on_ms: 1000,
            off_ms: 4000,
            repeat: true,
        }
    }

    /// EU busy: 425 Hz, 0.5 s on, 0.5 s off.
    pub fn busy_eu() -> Self {
        ToneSpec {
            on_ms: 500,
            off_ms: 500,
            ..Self::ringback_eu()
        }
    }

    /// A single 1 kHz beep of 200 ms (e.g. before a recording).
    pub fn beep() -> Self {
        ToneSpec {
            freq1: 1000.0,
            freq2: None,
            amplitude: 8000,
            on_ms: 200,
            off_ms: 0,
            repeat: false,
        }
    }

    /// One DTMF digit: `on_ms` of the Q.23 pair, then `off_ms` of silence, once.
    pub fn dtmf(digit: DtmfDigit, on_ms: u32, off_ms: u32) -> Self {
        let (row, col) = digit.frequencies();
        ToneSpec {
            freq1: row,
            freq2: Some(col),
            amplitude: 7000,
            on_ms,
            off_ms,
            repeat: false,
        }
    }
}

/// Plays a [`ToneSpec`] into PCM frames at a fixed sample rate.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    spec: ToneSpec,
    /// Phase increments per sample, in cycles.
    step1: f64,
    step2: f64,
    /// Current phases in cycles, kept in `[0, 1)`.
    phase1: f64,
    phase2: f64,
    on_samples: u64,
    period_samples: u64,
    /// Samples played since the start.
    position: u64,
}

impl ToneGenerator {
    /// A generator for `spec` at `sample_rate` Hz.
    pub fn new(spec: ToneSpec, sample_rate: u32) -> Self {
        let rate = f64::from(sample_rate.max(1));
        let on_samples = u64::from(spec.on_ms) * u64::from(sample_rate) / 1000;
        let off_samples = u64::from(spec.off_ms) * u64::from(sample_rate) / 1000;
        ToneGenerator {
            spec,
            step1: f64::from(spec.freq1) / rate,
            step2: spec.freq2.map_or(0.0, |f| f64::from(f) / rate),
            phase1: 0.0,
            phase2: 0.0,
            on_samples,
            period_samples: on_samples + off_samples,
            position: 0,
        }
    }

    /// The tone being played.
    pub fn spec(&self) -> &ToneSpec {
        &self.spec
    }

    /// True once a non-repeating tone has played its on and off time.
    pub fn is_finished(&self) -> bool {
        !self.spec.repeat && self.position >= self.period_samples
    }

    /// Fill `out` with the next samples (silence after a one-shot tone ends).
    ///
    /// Returns the number of samples that belong to the tone (on or off time); the rest of
    /// `out`, if any, is padding silence after the end.
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let amp = f64::from(self.spec.amplitude);
        let tau = std::f64::consts::TAU;
        let mut produced = 0;
        for sample in out.iter_mut() {
            if self.is_finished() || self.period_samples == 0 {
                *sample = 0;
                continue;
            }
            let in_cycle = if self.spec.repeat {
                self.position % self.period_samples
            } else {
                self.position
            };
            let mut v = 0.0;
            if in_cycle < self.on_samples {
                v = (self.phase1 * tau).sin();
                if self.spec.freq2.is_some() {
                    v += (self.phase2 * tau).sin();
                }
            }
            *sample = (v * amp).round().clamp(-32768.0, 32767.0) as i16;
            // Phases run on through the off time so each burst starts where physics would.
            self.phase1 = (self.phase1 + self.step1).fract();
            self.phase2 = (self.phase2 + self.step2).fract();
            self.position += 1;
            produced += 1;
        }
        produced
    }

    /// Restart the cadence from the beginning (phases continue).
    pub fn restart(&mut self) {
        self.position = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::dtmf::inband::goertzel_power;

    fn play(spec: ToneSpec, rate: u32, frames: usize, frame: usize) -> Vec<i16> {
        let mut g = ToneGenerator::new(spec, rate);
        let mut out = vec![0i16; frames * frame];
        for chunk in out.chunks_mut(frame) {
            g.fill(chunk);
        }
        out
    }

    #[test]
    fn framing_is_phase_continuous() {
        let spec = ToneSpec::ringback_eu();
        let whole = play(spec, 8000, 1, 8000);
        let framed = play(spec, 8000, 50, 160);
        assert_eq!(whole, framed);
        // Odd frame sizes too.
        let odd = play(spec, 8000, 53, 150);
        assert_eq!(&odd[..], &whole[..odd.len()]);
    }

    #[test]
    fn ringback_cadence_and_frequency() {
        let out = play(ToneSpec::ringback_eu(), 8000, 500, 160); // 10 s
        let on = &out[..8000];
        let off = &out[8000..40000];
        assert!(off.iter().all(|s| *s == 0));
        assert!(on.iter().any(|s| s.abs() > 5000));
        assert!(goertzel_power(on, 425.0, 8000) > 1000.0 * goertzel_power(on, 500.0, 8000));
        // Second cycle starts at 5 s.
        assert!(out[40000..48000].iter().any(|s| s.abs() > 5000));
    }

    #[test]
    fn busy_and_beep() {
        let busy = play(ToneSpec::busy_eu(), 8000, 100, 160);
        assert!(busy[..4000].iter().any(|s| *s != 0));
        assert!(busy[4000..8000].iter().all(|s| *s == 0));
        assert!(busy[8000..12000].iter().any(|s| *s != 0));

        let mut g = ToneGenerator::new(ToneSpec::beep(), 16000);
        let mut frame = [0i16; 320];
        let mut tone_samples = 0;
        for _ in 0..20 {
            tone_samples += g.fill(&mut frame);
        }
        assert_eq!(tone_samples, 3200);
        assert!(g.is_finished());
        assert!(frame.iter().all(|s| *s == 0));
    }

    #[test]
    fn dtmf_tone_has_both_components() {
        let spec = ToneSpec::dtmf(DtmfDigit::D5, 100, 50);
        let out = play(spec, 8000, 10, 160);
        let on = &out[..800];
        let (r, c) = DtmfDigit::D5.frequencies();
        let pr = goertzel_power(on, r, 8000);
        let pc = goertzel_power(on, c, 8000);
        assert!((pr / pc - 1.0).abs() < 0.1);
        assert!(pr > 100.0 * goertzel_power(on, 697.0, 8000));
        assert!(pr > 1000.0 * goertzel_power(on, 500.0, 8000));
        assert!(out[800..1200].iter().all(|s| *s == 0));
    }
}

//! Sample-rate conversion between 8, 16 and 48 kHz (integer ratios 2, 3 and 6).
//!
//! Owns [`SampleRate`] and [`Resampler`]: a polyphase FIR (Blackman-windowed sinc, cut off
//! just below the lower rate's Nyquist frequency) that keeps its input history between
//! calls, so a stream fed frame by frame equals the same stream fed at once (no clicks at
//! frame edges). Pure and allocation-free after the first frame; owned by a call leg's
//! media path (transcoding, mixing, recording at a common rate).

use thiserror::Error;

/// Filter taps per input sample of the lower rate (quality vs cost; 48 gives a ~0.11 x
/// low-rate transition band and > 70 dB stop-band).
const TAPS_PER_PHASE: usize = 48;
/// Pass-band edge as a fraction of the lower rate (0.45 x 8 kHz = 3.6 kHz cut-off).
const CUTOFF_FRACTION: f64 = 0.45;

/// The sample rates the media engine works at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SampleRate {
    /// 8 kHz: G.711, narrow-band Opus.
    Hz8000,
    /// 16 kHz: wide-band.
    Hz16000,
    /// 48 kHz: full-band Opus, WebRTC.
    Hz48000,
}

impl SampleRate {
    /// The rate in Hz.
    pub fn hz(self) -> u32 {
        match self {
            SampleRate::Hz8000 => 8000,
            SampleRate::Hz16000 => 16000,
            SampleRate::Hz48000 => 48000,
        }
    }

    /// The rate for a value in Hz, if supported.
    pub fn from_hz(hz: u32) -> Option<Self> {
        match hz {
            8000 => Some(SampleRate::Hz8000),
            16000 => Some(SampleRate::Hz16000),
            48000 => Some(SampleRate::Hz48000),
            _ => None,
        }
    }

    /// Samples in one 20 ms frame at this rate.
    pub fn samples_per_frame(self) -> usize {
        self.hz() as usize / 50
    }
}

/// Misuse of the resampler API (the caller's bug, never the peer's).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResampleError {
    /// Input length is not a multiple of the decimation factor.
    #[error("input of {len} samples is not a multiple of {factor}")]
    UnalignedInput {
        /// Input length.
        len: usize,
        /// Required multiple.
        factor: usize,
    },
    /// Output buffer is smaller than the converted input.
    #[error("output buffer holds {have} samples, {need} needed")]
    OutputTooSmall {
        /// Capacity given.
        have: usize,
        /// Capacity needed.
        need: usize,
    },
}

/// A stateful mono 16-bit resampler between two [`SampleRate`]s.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: SampleRate,
    to: SampleRate,
    /// Interpolation factor (output samples per input sample before decimation).
    up: usize,
    /// Decimation factor.
    down: usize,
    /// Prototype low-pass at the high rate, `up * TAPS_PER_PHASE` or `down * ...` taps,
    /// stored reversed per phase for a straight dot product.
    taps: Vec<f32>,
    /// Input history (oldest first) followed by the current input while processing.
    buf: Vec<f32>,
    /// How many history samples are kept between calls.
    history: usize,
}

impl Resampler {
    /// A resampler from `from` to `to` (identity when equal).
    pub fn new(from: SampleRate, to: SampleRate) -> Self {
        let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
        let ratio = (hi.hz() / lo.hz()) as usize;
        let (up, down) = if from <= to { (ratio, 1) } else { (1, ratio) };
        let len = ratio * TAPS_PER_PHASE;
        let taps = if ratio == 1 {
            Vec::new()
        } else {
            design_lowpass(len, CUTOFF_FRACTION / ratio as f64, up as f64)
        };
        // Upsampling needs TAPS_PER_PHASE - 1 past inputs; downsampling len - 1.
        let history = if ratio == 1 {
            0
        } else if up > 1 {
            TAPS_PER_PHASE - 1
        } else {
            len - 1
        };
        Resampler {
            from,
            to,
            up,
            down,
            taps,
            buf: vec![0.0; history],
            history,
        }
    }

    /// Input rate.
    pub fn from_rate(&self) -> SampleRate {
        self.from
    }

    /// Output rate.
    pub fn to_rate(&self) -> SampleRate {
        self.to
    }

    /// Output samples produced for `input_len` input samples.
    pub fn output_len(&self, input_len: usize) -> usize {
        input_len * self.up / self.down
    }

    /// Convert `input` into `output`, returning the number of samples written.
    ///
    /// `input.len()` must be a multiple of the decimation factor (any 20 ms frame is).
    pub fn process(&mut self, input: &[i16], output: &mut [i16]) -> Result<usize, ResampleError> {
        if !input.len().is_multiple_of(self.down) {
            return Err(ResampleError::UnalignedInput {
                len: input.len(),
                factor: self.down,
            });
        }
        let need = self.output_len(input.len());
        if output.len() < need {
            return Err(ResampleError::OutputTooSmall {
                have: output.len(),
                need,
            });
        }
        if self.up == 1 && self.down == 1 {
            output[..need].copy_from_slice(input);
            return Ok(need);
        }
        self.buf.truncate(self.history);
        self.buf.extend(input.iter().map(|s| f32::from(*s)));
        if self.up > 1 {
            self.interpolate(input.len(), &mut output[..need]);
        } else {
            self.decimate(&mut output[..need]);
        }
        let keep_from = self.buf.len() - self.history;
        self.buf.copy_within(keep_from.., 0);
        self.buf.truncate(self.history);
        Ok(need)
    }

    /// Forget the history (e.g. after a stream restart).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.buf.resize(self.history, 0.0);
    }

    fn interpolate(&self, input_len: usize, output: &mut [i16]) {
        // taps are laid out phase-major: phase p occupies taps[p*T..(p+1)*T], reversed so that
        // the newest input sample meets the last tap.
        for n in 0..input_len {
            let window = &self.buf[n..n + TAPS_PER_PHASE];
            for p in 0..self.up {
                let phase = &self.taps[p * TAPS_PER_PHASE..(p + 1) * TAPS_PER_PHASE];
                output[n * self.up + p] = to_i16(dot(window, phase));
            }
        }
    }

    fn decimate(&self, output: &mut [i16]) {
        let len = self.taps.len();
        for (m, out) in output.iter_mut().enumerate() {
            let end = m * self.down + self.down + self.history;
            let window = &self.buf[end - len..end];
            *out = to_i16(dot(window, &self.taps));
        }
    }
}

/// Blackman-windowed sinc low-pass with cut-off `fc` (cycles per sample) and DC gain `gain`,
/// rearranged for [`Resampler`] (see `interpolate`/`decimate`).
fn design_lowpass(len: usize, fc: f64, gain: f64) -> Vec<f32> {
    let centre = (len as f64 - 1.0) / 2.0;
    let mut h: Vec<f64> = (0..len)
        .map(|i| {
            let x = i as f64 - centre;
            let sinc = if x == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * x).sin() / (std::f64::consts::PI * x)
            };
            let w = 2.0 * std::f64::consts::PI * i as f64 / (len as f64 - 1.0);
            let blackman = 0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos();
            sinc * blackman
        })
        .collect();
    let sum: f64 = h.iter().sum();
    for v in &mut h {
        *v *= gain / sum;
    }
    let up = gain as usize;
    if up <= 1 {
        // Decimation: the window is oldest-first, so reverse the filter (a no-op for this
        // symmetric design, kept so the layout matches the formula).
        h.reverse();
        return h.into_iter().map(|v| v as f32).collect();
    }
    // Interpolation by `up`: output n*up + p is sum_j h[j*up + p] * x[n - j]; lay each phase
    // out oldest-input-first to match the history window.
    let taps_per_phase = len / up;
    let mut out = vec![0.0f32; len];
    for p in 0..up {
        for j in 0..taps_per_phase {
            out[p * taps_per_phase + (taps_per_phase - 1 - j)] = h[j * up + p] as f32;
        }
    }
    out
}

/// Dot product with eight independent accumulators so the compiler can vectorise it
/// (a single running f32 sum cannot be reordered).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() - a.len() % 8);
    let (b8, b_rest) = b[..a.len()].split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[inline]
fn to_i16(v: f32) -> i16 {
    v.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests;

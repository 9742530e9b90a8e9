//! Silence detection on one side's decoded audio: how long the caller has said nothing, for
//! ending a voicemail recording when the caller stops talking.
//!
//! Owns: [`SilenceWatch`], a frame counter with an energy threshold. Must not touch: clocks
//! (time is counted in 20 ms frames), I/O. Driven by: `RelayCore::handle_tick`, which feeds it
//! every tick with that side's 8 kHz frame (`None` when nothing was decoded: no packet, or
//! the jitter buffer still filling) and queues `MediaEvent::Silence` when it fires.

use std::time::Duration;

use crate::media::relay::Side;

/// Frames at or below this RMS level (about -40 dBFS) count as silent: line noise and
/// comfort noise stay below it, speech does not.
const SILENT_RMS: f64 = 330.0;
/// The decode tick's frame.
const FRAME: Duration = Duration::from_millis(20);

/// Counts consecutive silent frames of one side; fires once after `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceWatch {
    side: Side,
    limit_frames: u32,
    silent_frames: u32,
}

impl SilenceWatch {
    /// Watches `side` for `limit` of continuous silence (at least one frame).
    pub fn new(side: Side, limit: Duration) -> SilenceWatch {
        let frames = limit.as_millis() / FRAME.as_millis();
        SilenceWatch {
            side,
            limit_frames: u32::try_from(frames).unwrap_or(u32::MAX).max(1),
            silent_frames: 0,
        }
    }

    /// The side watched.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Feeds one 20 ms frame (`None`: no audio this tick); true once silence lasted `limit`.
    pub fn observe(&mut self, frame: Option<&[i16]>) -> bool {
        if frame.is_some_and(|samples| rms(samples) > SILENT_RMS) {
            self.silent_frames = 0;
            return false;
        }
        self.silent_frames = self.silent_frames.saturating_add(1);
        self.silent_frames >= self.limit_frames
    }
}

fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f64) -> Vec<i16> {
        (0..160)
            .map(|i| (amplitude * (f64::from(i) * 2.0 * std::f64::consts::PI / 8.0).sin()) as i16)
            .collect()
    }

    #[test]
    fn fires_after_the_limit_of_continuous_silence_only() {
        let mut watch = SilenceWatch::new(Side::A, Duration::from_millis(100));
        let (speech, hiss) = (tone(8000.0), tone(100.0));
        for _ in 0..4 {
            assert!(!watch.observe(Some(&hiss)));
        }
        assert!(!watch.observe(Some(&speech)), "speech resets the count");
        for _ in 0..4 {
            assert!(!watch.observe(None));
        }
        assert!(watch.observe(Some(&hiss)), "fifth silent frame in a row");
    }

    #[test]
    fn a_zero_limit_still_waits_one_frame() {
        let mut watch = SilenceWatch::new(Side::B, Duration::ZERO);
        assert_eq!(watch.side(), Side::B);
        assert!(watch.observe(None));
    }
}

//! Audio helpers for checking what peers sent: G.711 µ-law/A-law, tone synthesis, tone
//! detection (Goertzel per window, zero crossings) and RFC 4733 telephone-event parsing.
//!
//! Stdlib only. Samples are `i16` at 8 kHz unless a rate is given.

/// RFC 4733 event codes 0-15 as DTMF characters.
pub const DTMF_EVENTS: &[u8; 16] = b"0123456789*#ABCD";

/// Encodes a linear sample as G.711 µ-law (ITU-T G.711, bias 0x84, clip 32635).
pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let s = i32::from(sample);
    let sign = if s < 0 { 0x80 } else { 0 };
    let mag = s.abs().min(CLIP) + BIAS;
    let top_bit = 31 - (mag as u32).leading_zeros() as i32;
    let exponent = (top_bit - 7).clamp(0, 7);
    let mantissa = (mag >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// Decodes a G.711 µ-law byte.
pub fn ulaw_decode(byte: u8) -> i16 {
    let b = !byte;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0f);
    let mag = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if b & 0x80 != 0 {
        -mag as i16
    } else {
        mag as i16
    }
}

/// Encodes a linear sample as G.711 A-law (even bits inverted, 0x55).
pub fn alaw_encode(sample: i16) -> u8 {
    let s = i32::from(sample);
    let (sign, mag) = if s >= 0 {
        (0x80, s)
    } else {
        (0x00, (-s - 1).min(32767))
    };
    let mag = mag >> 3; // 13-bit magnitude
    let byte = if mag < 32 {
        mag >> 1
    } else {
        let exponent = 31 - (mag as u32).leading_zeros() as i32 - 4; // 1..=7
        let mantissa = (mag >> exponent) & 0x0f;
        (exponent.min(7) << 4) | mantissa
    };
    ((sign | byte) ^ 0x55) as u8
}

/// Decodes a G.711 A-law byte.
pub fn alaw_decode(byte: u8) -> i16 {
    let b = i32::from(byte ^ 0x55);
    let exponent = (b >> 4) & 0x07;
    let mantissa = b & 0x0f;
    let mag = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    if b & 0x80 != 0 {
        mag as i16
    } else {
        -mag as i16
    }
}

/// Decodes a G.711 payload of payload type 0 (PCMU) or 8 (PCMA); `None` for other types.
pub fn g711_decode(pt: u8, payload: &[u8]) -> Option<Vec<i16>> {
    match pt {
        0 => Some(payload.iter().map(|&b| ulaw_decode(b)).collect()),
        8 => Some(payload.iter().map(|&b| alaw_decode(b)).collect()),
        _ => None,
    }
}

/// Encodes samples for payload type 0 (PCMU) or 8 (PCMA); `None` for other types.
pub fn g711_encode(pt: u8, samples: &[i16]) -> Option<Vec<u8>> {
    match pt {
        0 => Some(samples.iter().map(|&s| ulaw_encode(s)).collect()),
        8 => Some(samples.iter().map(|&s| alaw_encode(s)).collect()),
        _ => None,
    }
}

/// A sine of `freq` Hz, `secs` long, at `rate` Hz, peak `amplitude` (0..1 of full scale).
pub fn sine(freq: f64, secs: f64, rate: u32, amplitude: f64) -> Vec<i16> {
    let n = (secs * f64::from(rate)).round() as usize;
    let peak = amplitude.clamp(0.0, 1.0) * 32767.0;
    (0..n)
        .map(|i| {
            (peak * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin()) as i16
        })
        .collect()
}

/// In-band DTMF for `digits` at `rate` Hz: each digit's two ITU-T Q.23 frequencies for
/// `tone_ms` (each at 0.3 of full scale), then as long of silence.
pub fn dtmf_tones(digits: &str, rate: u32, tone_ms: u32) -> Vec<i16> {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLUMNS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const KEYS: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    let secs = f64::from(tone_ms) / 1000.0;
    let silence = vec![0i16; (secs * f64::from(rate)) as usize];
    let mut out = Vec::new();
    for digit in digits.chars() {
        let Some((row, column)) = KEYS
            .iter()
            .enumerate()
            .find_map(|(r, keys)| keys.find(digit).map(|c| (r, c)))
        else {
            panic!("{digit:?} is not a DTMF key");
        };
        let low = sine(ROWS[row], secs, rate, 0.3);
        let high = sine(COLUMNS[column], secs, rate, 0.3);
        out.extend(low.iter().zip(&high).map(|(l, h)| l.saturating_add(*h)));
        out.extend_from_slice(&silence);
    }
    out
}

/// Goertzel power of `freq` in `samples` (normalised to full scale).
pub fn goertzel_power(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * freq / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) / 32768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - k * s1 * s2
}

/// Seconds of `samples` whose 50 ms windows are dominated by `freq`: the window is above
/// -50 dBFS and at least half of its energy is at `freq` (Goertzel).
pub fn tone_seconds(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let win = (rate / 20).max(1) as usize;
    let hits = samples
        .chunks_exact(win)
        .filter(|w| tone_share(w, rate, freq) >= 0.5)
        .count();
    hits as f64 * win as f64 / f64::from(rate)
}

/// Share (0..1) of a window's energy at `freq`; 0 for near-silent windows (< -50 dBFS).
pub fn tone_share(window: &[i16], rate: u32, freq: f64) -> f64 {
    let energy: f64 = window
        .iter()
        .map(|&x| (f64::from(x) / 32768.0).powi(2))
        .sum();
    let rms = (energy / window.len().max(1) as f64).sqrt();
    if rms <= 0.0 || 20.0 * rms.log10() < -50.0 {
        return 0.0;
    }
    2.0 * goertzel_power(window, rate, freq) / (window.len() as f64 * energy)
}

/// Dominant frequency by zero crossings (good for one clean tone), `None` for silence.
pub fn dominant_frequency(samples: &[i16], rate: u32) -> Option<f64> {
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    (crossings > 0 && !samples.is_empty())
        .then(|| crossings as f64 / 2.0 / (samples.len() as f64 / f64::from(rate)))
}

/// One RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-9, 10 = `*`, 11 = `#`, 12-15 = A-D).
    pub event: u8,
    /// End bit.
    pub end: bool,
    /// Volume (0-63, as -dBm0).
    pub volume: u8,
    /// Duration in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the 4-byte payload; `None` when shorter.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let &[event, flags, d0, d1, ..] = payload else {
            return None;
        };
        Some(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// Writes the 4-byte payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }

    /// The DTMF character, `?` for events above 15.
    pub fn digit(self) -> char {
        DTMF_EVENTS
            .get(usize::from(self.event))
            .map_or('?', |&c| char::from(c))
    }
}

/// The DTMF character of an event code, if it is one.
pub fn dtmf_event_code(digit: char) -> Option<u8> {
    DTMF_EVENTS
        .iter()
        .position(|&c| char::from(c) == digit.to_ascii_uppercase())
        .map(|i| i as u8)
}

/// Digits from telephone-event packets given as (SSRC, RTP timestamp, payload): one digit per
/// distinct (SSRC, timestamp), as an event keeps its timestamp across its packets.
pub fn digits_from_events<'a>(packets: impl IntoIterator<Item = (u32, u32, &'a [u8])>) -> String {
    let mut digits = String::new();
    let mut last = None;
    for (ssrc, ts, payload) in packets {
        let Some(ev) = TelephoneEvent::parse(payload) else {
            continue;
        };
        if last != Some((ssrc, ts)) {
            last = Some((ssrc, ts));
            digits.push(ev.digit());
        }
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_round_trips_within_quantisation() {
        for s in (-32768i32..32767).step_by(97) {
            let s = s as i16;
            let tol = (i32::from(s).abs() / 16).max(16);
            let u = i32::from(ulaw_decode(ulaw_encode(s)));
            let a = i32::from(alaw_decode(alaw_encode(s)));
            assert!((u - i32::from(s)).abs() <= tol, "ulaw {s} -> {u}");
            assert!((a - i32::from(s)).abs() <= tol, "alaw {s} -> {a}");
        }
        assert_eq!(ulaw_encode(0), 0xff);
        assert_eq!(alaw_encode(0), 0xd5);
        assert_eq!(ulaw_decode(0xff), 0);
    }

    #[test]
    fn tones_are_told_apart() {
        let tone = sine(1000.0, 2.0, 8000, 0.5);
        let pcmu: Vec<i16> = tone.iter().map(|&s| ulaw_decode(ulaw_encode(s))).collect();
        assert!(tone_seconds(&pcmu, 8000, 1000.0) >= 1.9);
        assert_eq!(tone_seconds(&pcmu, 8000, 440.0), 0.0);
        let f = dominant_frequency(&sine(440.0, 1.0, 8000, 0.5), 8000).unwrap();
        assert!((f - 440.0).abs() < 5.0, "{f}");
        assert_eq!(tone_seconds(&[0; 8000], 8000, 1000.0), 0.0);
    }

    #[test]
    fn telephone_events_parse_and_collapse_to_digits() {
        let ev = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(TelephoneEvent::parse(&ev.to_bytes()), Some(ev));
        assert_eq!(TelephoneEvent::parse(&[1, 2]), None);
        let p1 = TelephoneEvent {
            event: 1,
            end: false,
            volume: 10,
            duration: 160,
        }
        .to_bytes();
        let p2 = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        }
        .to_bytes();
        let pkts = [
            (7, 100, &p1[..]),
            (7, 100, &p1[..]),
            (7, 900, &p2[..]),
            (7, 900, &p2[..]),
        ];
        assert_eq!(digits_from_events(pkts), "1#");
        assert_eq!(dtmf_event_code('#'), Some(11));
    }
}

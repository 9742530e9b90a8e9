//! ITU-T G.711 companding: µ-law (PCMU, RTP payload type 0) and A-law (PCMA, type 8).
//!
//! Owns the 256-entry decode tables (built at compile time from the G.711 segment
//! formulas) and the branch-light encoders (segment found from the position of the
//! highest set bit). Pure functions over 16-bit linear PCM; no state, no allocation.
//! Driven by [`crate::media::codec`]'s `Encoder`/`Decoder`.

/// µ-law encoder bias (0x84 = 132, G.711 table 2a offset in 16-bit scale).
const ULAW_BIAS: i32 = 0x84;
/// µ-law input clip so that `magnitude + bias` stays within 15 bits.
const ULAW_CLIP: i32 = 32635;

/// Decoded value of every µ-law code.
pub static ULAW_TO_LINEAR: [i16; 256] = build_ulaw_table();
/// Decoded value of every A-law code.
pub static ALAW_TO_LINEAR: [i16; 256] = build_alaw_table();

/// Decode one µ-law code to 16-bit linear PCM.
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// Decode one A-law code to 16-bit linear PCM.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// Encode one 16-bit linear sample to µ-law.
#[inline]
pub fn ulaw_encode(sample: i16) -> u8 {
    let s = i32::from(sample);
    // Negative inputs use the one's-complement magnitude (-s - 1), as the G.191 reference
    // coder does, so that -1-s and s land in mirrored intervals (G.711 table 2a).
    let (sign, magnitude) = if s < 0 { (0x80, -s - 1) } else { (0x00, s) };
    let biased = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // biased is in 0x84..=0x7FFF: its highest set bit is bit 7..=14, i.e. segment 0..=7.
    let exponent = (31 - biased.leading_zeros() as i32) - 7;
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Encode one 16-bit linear sample to A-law.
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    // A-law works on 13-bit magnitudes.
    let s = i32::from(sample) >> 3;
    let (mask, magnitude) = if s >= 0 { (0xD5, s) } else { (0x55, -s - 1) };
    let segment = if magnitude < 32 {
        0
    } else {
        (31 - magnitude.leading_zeros() as i32) - 4
    };
    let mantissa = if segment < 2 {
        (magnitude >> 1) & 0x0F
    } else {
        (magnitude >> segment) & 0x0F
    };
    (((segment << 4) | mantissa) as u8) ^ mask
}

/// Decode µ-law `codes` into `pcm` (pairs up to the shorter of the two); returns the count.
pub fn decode_ulaw(codes: &[u8], pcm: &mut [i16]) -> usize {
    let n = codes.len().min(pcm.len());
    for (out, code) in pcm[..n].iter_mut().zip(codes) {
        *out = ulaw_decode(*code);
    }
    n
}

/// Decode A-law `codes` into `pcm` (pairs up to the shorter of the two); returns the count.
pub fn decode_alaw(codes: &[u8], pcm: &mut [i16]) -> usize {
    let n = codes.len().min(pcm.len());
    for (out, code) in pcm[..n].iter_mut().zip(codes) {
        *out = alaw_decode(*code);
    }
    n
}

/// Encode `pcm` into µ-law `codes` (pairs up to the shorter of the two); returns the count.
pub fn encode_ulaw(pcm: &[i16], codes: &mut [u8]) -> usize {
    let n = codes.len().min(pcm.len());
    for (out, s) in codes[..n].iter_mut().zip(pcm) {
        *out = ulaw_encode(*s);
    }
    n
}

/// Encode `pcm` into A-law `codes` (pairs up to the shorter of the two); returns the count.
pub fn encode_alaw(pcm: &[i16], codes: &mut [u8]) -> usize {
    let n = codes.len().min(pcm.len());
    for (out, s) in codes[..n].iter_mut().zip(pcm) {
        *out = alaw_encode(*s);
    }
    n
}

const fn build_ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let u = !(i as u8);
        let mut t = (((u & 0x0F) as i32) << 3) + ULAW_BIAS;
        t <<= ((u & 0x70) >> 4) as i32;
        table[i] = if u & 0x80 != 0 {
            (ULAW_BIAS - t) as i16
        } else {
            (t - ULAW_BIAS) as i16
        };
        i += 1;
    }
    table
}

const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        let a = (i as u8) ^ 0x55;
        let mut t = ((a & 0x0F) as i32) << 4;
        let segment = ((a & 0x70) >> 4) as i32;
        match segment {
            0 => t += 8,
            1 => t += 0x108,
            _ => {
                t += 0x108;
                t <<= segment - 1;
            }
        }
        table[i] = if a & 0x80 != 0 { t as i16 } else { -t as i16 };
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_reference_values() {
        // Values from the G.711 µ-law decoding table (16-bit scale, i.e. table value * 4).
        let cases: [(u8, i16); 8] = [
            (0xFF, 0),
            (0x7F, 0),
            (0x00, -32124),
            (0x80, 32124),
            (0xF0, 120),
            (0x70, -120),
            (0xEF, 132),
            (0xDF, 396),
        ];
        for (code, value) in cases {
            assert_eq!(ulaw_decode(code), value, "code {code:#04x}");
        }
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_encode(-1), 0x7F);
    }

    #[test]
    fn alaw_reference_values() {
        let cases: [(u8, i16); 8] = [
            (0xD5, 8),
            (0x55, -8),
            (0xAA, 32256),
            (0x2A, -32256),
            (0xD4, 24),
            (0xC5, 264),
            (0xF5, 528),
            (0x80, 5504),
        ];
        for (code, value) in cases {
            assert_eq!(alaw_decode(code), value, "code {code:#04x}");
        }
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn exhaustive_decode_encode_identity() {
        for code in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
            // µ-law has two zeros (0xFF = +0, 0x7F = -0); -0 decodes to 0 and re-encodes as +0.
            let expect = if code == 0x7F { 0xFF } else { code };
            assert_eq!(ulaw_encode(ulaw_decode(code)), expect, "µ-law {code:#04x}");
        }
    }

    #[test]
    fn tables_have_distinct_levels() {
        // A-law has 256 distinct levels; µ-law 255 (two codes for zero).
        for (table, distinct) in [(&ALAW_TO_LINEAR, 256), (&ULAW_TO_LINEAR, 255)] {
            let mut values = table.to_vec();
            values.sort_unstable();
            values.dedup();
            assert_eq!(values.len(), distinct);
        }
        // µ-law positive half falls monotonically from 0x80 (max) to 0xFF (zero).
        for code in 0x80..0xFFu8 {
            assert!(ulaw_decode(code) > ulaw_decode(code + 1));
        }
    }

    #[test]
    fn encode_error_is_bounded_by_step_size() {
        for s in (i16::MIN..=i16::MAX).step_by(7) {
            let u = i32::from(ulaw_decode(ulaw_encode(s)));
            let a = i32::from(alaw_decode(alaw_encode(s)));
            let x = i32::from(s);
            // Largest step is 1024 (µ-law) / 1024 (A-law) in the top segment, error <= half a step
            // plus the clip region.
            assert!(
                (u - x).abs() <= 1024.max(x.abs() - 32124 + 1),
                "µ {s} -> {u}"
            );
            assert!(
                (a - x).abs() <= 1024.max(x.abs() - 32256 + 1),
                "A {s} -> {a}"
            );
            // Relative error in the top segments stays under ~3.2 %.
            if x.abs() > 1024 && x.abs() < 32000 {
                assert!((u - x).abs() * 100 <= x.abs() * 4, "µ rel {s}");
                assert!((a - x).abs() * 100 <= x.abs() * 4, "A rel {s}");
            }
        }
    }

    /// FNV-1a 64 over little-endian bytes, to compare whole tables compactly.
    fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
        bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    #[test]
    fn matches_an_independent_implementation_exhaustively() {
        // Fingerprints of CPython's `audioop` (ulaw2lin/alaw2lin over all 256 codes,
        // lin2alaw over all 65536 inputs, lin2ulaw over 0..=32767), computed outside this
        // crate. For negative inputs CPython's µ-law coder (Sun's) uses the two's-complement
        // magnitude; ours follows G.191's one's complement, checked by the symmetry below.
        let dec_u = fnv1a(ULAW_TO_LINEAR.iter().flat_map(|v| v.to_le_bytes()));
        let dec_a = fnv1a(ALAW_TO_LINEAR.iter().flat_map(|v| v.to_le_bytes()));
        let enc_u = fnv1a((0..=i16::MAX).map(ulaw_encode));
        let enc_a = fnv1a((i16::MIN..=i16::MAX).map(alaw_encode));
        assert_eq!(dec_u, 0xb91e_65d6_8481_a1a8);
        assert_eq!(dec_a, 0x693a_40ca_62a3_d2a5);
        assert_eq!(enc_u, 0x1830_3138_f6ea_eb89);
        assert_eq!(enc_a, 0xf030_666e_b780_cf25);
    }

    #[test]
    fn negative_inputs_mirror_positive_ones() {
        for s in 0..=i16::MAX {
            assert_eq!(ulaw_encode(-1 - s), ulaw_encode(s) & 0x7F, "µ-law {s}");
            assert_eq!(alaw_encode(-1 - s), alaw_encode(s) ^ 0x80, "A-law {s}");
        }
    }

    #[test]
    fn slice_helpers_stop_at_shorter() {
        let pcm = [0i16, 1000, -1000, 32767];
        let mut codes = [0u8; 3];
        assert_eq!(encode_ulaw(&pcm, &mut codes), 3);
        let mut back = [0i16; 8];
        assert_eq!(decode_ulaw(&codes, &mut back), 3);
        assert_eq!(back[0], 0);
        assert_eq!(encode_alaw(&pcm, &mut codes), 3);
        assert_eq!(decode_alaw(&codes, &mut back), 3);
        assert_eq!(back[0], 8);
    }
}

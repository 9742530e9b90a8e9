//! A minimal WAV reader and writer: 16-bit PCM, mono or stereo (plus 8-bit and 32-bit PCM
//! on read). baresip's sndfile recordings and the peers' source files go through here.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Decoded WAV audio: interleaved frames converted to i16.
#[derive(Debug, Clone, PartialEq)]
pub struct Wav {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Channel count.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

impl Wav {
    /// Channel 0 only.
    pub fn mono(&self) -> Vec<i16> {
        self.samples
            .iter()
            .step_by(usize::from(self.channels.max(1)))
            .copied()
            .collect()
    }

    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.channels.max(1)) / f64::from(self.rate.max(1))
    }
}

/// Reads a PCM WAV file.
pub fn read(path: &Path) -> Result<Wav> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path:?}"))?;
    parse(&bytes).with_context(|| format!("parsing {path:?}"))
}

/// Parses PCM WAV bytes (RIFF chunks, `fmt ` then `data`; a data size of 0 or past the end,
/// as a recorder killed mid-write leaves it, means "to the end").
pub fn parse(bytes: &[u8]) -> Result<Wav> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        bail!("not a RIFF/WAVE file");
    }
    let mut pos = 12;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let f = bytes.get(body..body + 16).context("short fmt chunk")?;
            let le16 = |i: usize| u16::from_le_bytes([f[i], f[i + 1]]);
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            fmt = Some((le16(0), le16(2), rate, le16(14)));
        } else if id == b"data" {
            let (format, channels, rate, bits) = fmt.context("data before fmt")?;
            if format != 1 && format != 0xfffe {
                bail!("not PCM (format {format})");
            }
            let end = if size == 0 || body + size > bytes.len() {
                bytes.len()
            } else {
                body + size
            };
            let data = &bytes[body..end];
            let samples = match bits {
                16 => data
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
                8 => data.iter().map(|&b| (i16::from(b) - 128) << 8).collect(),
                32 => data
                    .chunks_exact(4)
                    .map(|c| (i32::from_le_bytes([c[0], c[1], c[2], c[3]]) >> 16) as i16)
                    .collect(),
                _ => bail!("unsupported {bits}-bit PCM"),
            };
            return Ok(Wav {
                rate,
                channels,
                samples,
            });
        }
        pos = body + size + (size & 1);
    }
    bail!("no data chunk")
}

/// Writes 16-bit PCM (interleaved when `channels` > 1).
pub fn write(path: &Path, rate: u32, channels: u16, samples: &[i16]) -> Result<()> {
    std::fs::write(path, encode(rate, channels, samples))
        .with_context(|| format!("writing {path:?}"))
}

/// Encodes 16-bit PCM WAV bytes.
pub fn encode(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let block_align = channels * 2;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_mono_and_stereo() {
        let w = parse(&encode(8000, 1, &[1, -2, 3])).unwrap();
        assert_eq!(
            w,
            Wav {
                rate: 8000,
                channels: 1,
                samples: vec![1, -2, 3]
            }
        );
        let s = parse(&encode(48000, 2, &[1, 9, 2, 9])).unwrap();
        assert_eq!(s.mono(), vec![1, 2]);
        assert!((s.seconds() - 2.0 / 48000.0).abs() < 1e-9);
        assert!(parse(b"RIFF....WAVE").is_err());
    }

    #[test]
    fn unfinished_header_reads_to_the_end() {
        let mut b = encode(8000, 1, &[5, 6]);
        b[40..44].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse(&b).unwrap().samples, vec![5, 6]);
    }
}

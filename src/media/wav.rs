//! WAV (RIFF, 16-bit PCM) reading, crash-tolerant recording, and repair.
//!
//! Owns the RIFF chunk walk used by the reader and by [`repair`], and [`WavWriter`], which
//! writes a canonical 44-byte header with placeholder sizes, appends frames through a
//! buffer, and fixes the sizes on every [`WavWriter::flush`] and on
//! [`WavWriter::finish`]. A recording cut short by a crash loses at most what was written
//! since the last flush (the recorder flushes about once a second), and [`repair`], run at
//! start-up, makes such a file's RIFF and data sizes match its length again.
//! Blocking `std` I/O only, on files the recorder owns; it does not touch sockets, clocks or
//! the runtime (a recorder task runs it on a blocking thread or accepts the short writes).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use thiserror::Error;

use crate::media::resample::SampleRate;

/// Size of the header [`WavWriter`] writes (RIFF + fmt + data chunk headers).
pub const HEADER_LEN: u64 = 44;
/// Largest data chunk a RIFF file can describe.
const MAX_DATA: u64 = u32::MAX as u64 - (HEADER_LEN - 8);
/// Placeholder size written until the real one is known (readers treat it as "to the end").
const PLACEHOLDER: u32 = u32::MAX;
/// WAVE_FORMAT_PCM.
const FORMAT_PCM: u16 = 1;
/// WAVE_FORMAT_EXTENSIBLE (accepted when it carries 16-bit PCM).
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Errors reading, writing or repairing WAV files.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WavError {
    /// The bytes are not a RIFF/WAVE file.
    #[error("not a RIFF/WAVE file")]
    NotWave,
    /// A chunk header or the `fmt ` chunk is cut short or inconsistent.
    #[error("malformed WAV: {0}")]
    Malformed(&'static str),
    /// A format other than 16-bit PCM with 1 or 2 channels.
    #[error("unsupported WAV format: tag {format_tag}, {bits} bits, {channels} channels")]
    Unsupported {
        /// The format tag.
        format_tag: u16,
        /// Bits per sample.
        bits: u16,
        /// Channel count.
        channels: u16,
    },
    /// The recording would exceed the 4 GiB RIFF limit.
    #[error("WAV data would exceed 4 GiB")]
    TooLarge,
    /// The writer was given a sample count that is not a whole number of frames.
    #[error("{0} samples is not a multiple of the channel count")]
    PartialFrame(usize),
    /// I/O failure.
    #[error("WAV I/O: {0}")]
    Io(#[from] io::Error),
}

/// Decoded WAV audio (interleaved when stereo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavAudio {
    /// Sample rate in Hz (any rate is read; see [`WavAudio::rate`]).
    pub sample_rate: u32,
    /// 1 (mono) or 2 (stereo).
    pub channels: u16,
    /// Samples, interleaved L R L R ... for stereo.
    pub samples: Vec<i16>,
}

impl WavAudio {
    /// The rate as one the media engine works at, if it is one.
    pub fn rate(&self) -> Option<SampleRate> {
        SampleRate::from_hz(self.sample_rate)
    }

    /// Mono samples (stereo is averaged).
    pub fn to_mono(&self) -> Vec<i16> {
        if self.channels == 1 {
            return self.samples.clone();
        }
        self.samples
            .chunks_exact(2)
            .map(|lr| ((i32::from(lr[0]) + i32::from(lr[1])) / 2) as i16)
            .collect()
    }
}

/// Parse a WAV file held in memory (16-bit PCM, mono or stereo; unknown chunks skipped).
pub fn read(bytes: &[u8]) -> Result<WavAudio, WavError> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut pos = 12usize;
    let mut format: Option<Format> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = le_u32(&bytes[pos + 4..pos + 8]) as usize;
        let body_start = pos + 8;
        if id == b"data" {
            let fmt = format.ok_or(WavError::Malformed("data chunk before fmt chunk"))?;
            // A placeholder or crash-truncated size means "to the end of the file".
            let end = body_start.saturating_add(size).min(bytes.len());
            let body = &bytes[body_start..end];
            let usable = body.len() - body.len() % usize::from(fmt.block_align);
            let samples = body[..usable]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            return Ok(WavAudio {
                sample_rate: fmt.sample_rate,
                channels: fmt.channels,
                samples,
            });
        }
        let body_end = body_start
            .checked_add(size)
            .filter(|e| *e <= bytes.len())
            .ok_or(WavError::Malformed("chunk runs past end of file"))?;
        if id == b"fmt " {
            format = Some(Format::parse(&bytes[body_start..body_end])?);
        }
        pos = body_end + (size & 1);
    }
    Err(WavError::Malformed("no data chunk"))
}

/// Read and parse a WAV file from disk.
pub fn read_file(path: &Path) -> Result<WavAudio, WavError> {
    read(&std::fs::read(path)?)
}

/// What [`repair`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairReport {
    /// Size of the data chunk after repair, in bytes.
    pub data_bytes: u64,
    /// Whether the header (or a trailing partial sample) had to be changed.
    pub changed: bool,
}

/// Make the RIFF and data sizes of a WAV file match its length (e.g. after a crash).
///
/// Drops a trailing partial sample frame. Leaves a consistent file untouched.
pub fn repair(path: &Path) -> Result<RepairReport, WavError> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 12];
    file.read_exact(&mut head).map_err(|_| WavError::NotWave)?;
    if &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(WavError::NotWave);
    }
    let mut pos = 12u64;
    let mut block_align = None;
    loop {
        if pos + 8 > len {
            return Err(WavError::Malformed("no data chunk"));
        }
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut chunk)?;
        let size = u64::from(le_u32(&chunk[4..]));
        if &chunk[..4] == b"data" {
            let align = block_align.ok_or(WavError::Malformed("data chunk before fmt chunk"))?;
            let data_start = pos + 8;
            let available = (len - data_start).min(MAX_DATA);
            let data_bytes = available - available % u64::from(align);
            let riff_size = data_start + data_bytes - 8;
            let changed = size != data_bytes
                || u64::from(le_u32(&head[4..8])) != riff_size
                || data_start + data_bytes != len;
            if changed {
                file.set_len(data_start + data_bytes)?;
                write_u32_at(&mut file, 4, riff_size as u32)?;
                write_u32_at(&mut file, pos + 4, data_bytes as u32)?;
                file.sync_all()?;
            }
            return Ok(RepairReport {
                data_bytes,
                changed,
            });
        }
        if pos + 8 + size > len {
            return Err(WavError::Malformed("chunk runs past end of file"));
        }
        if &chunk[..4] == b"fmt " {
            let mut body = vec![0u8; size.min(64) as usize];
            file.read_exact(&mut body)?;
            block_align = Some(Format::parse(&body)?.block_align);
        }
        pos += 8 + size + (size & 1);
    }
}

/// Streams 16-bit PCM to a WAV file, keeping the header sizes right at every flush.
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    out: BufWriter<W>,
    channels: u16,
    data_bytes: u64,
}

impl WavWriter<File> {
    /// Create (truncate) `path` and write the header.
    pub fn create(path: &Path, sample_rate: u32, channels: u16) -> Result<Self, WavError> {
        Self::new(File::create(path)?, sample_rate, channels)
    }
}

impl<W: Write + Seek> WavWriter<W> {
    /// Start a WAV stream on `inner` (positioned at its start) with placeholder sizes.
    pub fn new(inner: W, sample_rate: u32, channels: u16) -> Result<Self, WavError> {
        if !(1..=2).contains(&channels) {
            return Err(WavError::Unsupported {
                format_tag: FORMAT_PCM,
                bits: 16,
                channels,
            });
        }
        let mut out = BufWriter::with_capacity(64 * 1024, inner);
        let block_align = channels * 2;
        let mut h = [0u8; HEADER_LEN as usize];
        h[..4].copy_from_slice(b"RIFF");
        h[4..8].copy_from_slice(&PLACEHOLDER.to_le_bytes());
        h[8..16].copy_from_slice(b"WAVEfmt ");
        h[16..20].copy_from_slice(&16u32.to_le_bytes());
        h[20..22].copy_from_slice(&FORMAT_PCM.to_le_bytes());
        h[22..24].copy_from_slice(&channels.to_le_bytes());
        h[24..28].copy_from_slice(&sample_rate.to_le_bytes());
        let byte_rate = sample_rate.saturating_mul(u32::from(block_align));
        h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
        h[32..34].copy_from_slice(&block_align.to_le_bytes());
        h[34..36].copy_from_slice(&16u16.to_le_bytes());
        h[36..40].copy_from_slice(b"data");
        h[40..44].copy_from_slice(&PLACEHOLDER.to_le_bytes());
        out.write_all(&h)?;
        Ok(WavWriter {
            out,
            channels,
            data_bytes: 0,
        })
    }

    /// Append samples (interleaved when stereo). Allocation-free.
    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), WavError> {
        if !samples.len().is_multiple_of(usize::from(self.channels)) {
            return Err(WavError::PartialFrame(samples.len()));
        }
        let bytes = samples.len() as u64 * 2;
        if self.data_bytes + bytes > MAX_DATA {
            return Err(WavError::TooLarge);
        }
        let mut chunk = [0u8; 512];
        for part in samples.chunks(chunk.len() / 2) {
            for (dst, s) in chunk.chunks_exact_mut(2).zip(part) {
                dst.copy_from_slice(&s.to_le_bytes());
            }
            self.out.write_all(&chunk[..part.len() * 2])?;
        }
        self.data_bytes += bytes;
        Ok(())
    }

    /// Bytes of sample data written so far.
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Push buffered samples to the file and write the current sizes into the header.
    pub fn flush(&mut self) -> Result<(), WavError> {
        self.patch_sizes()?;
        self.out.flush()?;
        Ok(())
    }

    /// Write the final sizes, flush, and hand back the underlying writer.
    pub fn finish(mut self) -> Result<W, WavError> {
        self.flush()?;
        self.out
            .into_inner()
            .map_err(|e| WavError::Io(e.into_error()))
    }

    fn patch_sizes(&mut self) -> Result<(), WavError> {
        let riff = (HEADER_LEN - 8 + self.data_bytes) as u32;
        self.out.seek(SeekFrom::Start(4))?;
        self.out.write_all(&riff.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(40))?;
        self.out
            .write_all(&(self.data_bytes as u32).to_le_bytes())?;
        self.out
            .seek(SeekFrom::Start(HEADER_LEN + self.data_bytes))?;
        Ok(())
    }
}

/// The parts of a `fmt ` chunk the reader needs.
#[derive(Debug, Clone, Copy)]
struct Format {
    channels: u16,
    sample_rate: u32,
    block_align: u16,
}

impl Format {
    fn parse(body: &[u8]) -> Result<Self, WavError> {
        if body.len() < 16 {
            return Err(WavError::Malformed("fmt chunk shorter than 16 bytes"));
        }
        let format_tag = le_u16(&body[0..2]);
        let channels = le_u16(&body[2..4]);
        let sample_rate = le_u32(&body[4..8]);
        let bits = le_u16(&body[14..16]);
        let pcm = format_tag == FORMAT_PCM
            || (format_tag == FORMAT_EXTENSIBLE && body.len() >= 26 && le_u16(&body[24..26]) == 1);
        if !pcm || bits != 16 || !(1..=2).contains(&channels) || sample_rate == 0 {
            return Err(WavError::Unsupported {
                format_tag,
                bits,
                channels,
            });
        }
        Ok(Format {
            channels,
            sample_rate,
            block_align: channels * 2,
        })
    }
}

fn le_u16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn write_u32_at(file: &mut File, at: u64, value: u32) -> io::Result<()> {
    file.seek(SeekFrom::Start(at))?;
    file.write_all(&value.to_le_bytes())
}

#[cfg(test)]
mod tests;

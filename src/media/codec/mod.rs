//! Audio codecs: G.711 µ-law/A-law and Opus, behind one [`Encoder`]/[`Decoder`] pair.
//!
//! Owns [`Codec`] (what a leg negotiated), the per-direction codec state ([`Encoder`],
//! [`Decoder`]) and [`Transcoder`] (decode, resample, encode) for legs whose codecs differ,
//! e.g. an Opus 48 kHz agent and a PCMU 8 kHz caller. Audio is 16-bit mono PCM in 20 ms
//! frames. Pure: no sockets or clocks; RTP framing and payload-type numbers belong to the
//! RTP/SDP modules. Driven by the per-call media task.

pub mod g711;
pub mod opus;
mod transcode;

pub use transcode::Transcoder;

use thiserror::Error;

use crate::media::codec::opus::{OpusDecoder, OpusEncoder};
use crate::media::resample::{ResampleError, SampleRate};

/// A negotiated audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, 8 kHz (static RTP payload type 0).
    Pcmu,
    /// G.711 A-law, 8 kHz (static RTP payload type 8).
    Pcma,
    /// Opus, mono, decoded/encoded at `rate` (the RTP clock is always 48 kHz).
    Opus {
        /// Internal PCM rate.
        rate: SampleRate,
    },
}

impl Codec {
    /// Rate of the PCM this codec consumes and produces.
    pub fn sample_rate(self) -> SampleRate {
        match self {
            Codec::Pcmu | Codec::Pcma => SampleRate::Hz8000,
            Codec::Opus { rate } => rate,
        }
    }

    /// RTP timestamp clock rate (RFC 3551; 48000 for Opus per RFC 7587).
    pub fn rtp_clock_rate(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma => 8000,
            Codec::Opus { .. } => 48000,
        }
    }

    /// Static RTP payload type, if the codec has one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Pcmu => Some(0),
            Codec::Pcma => Some(8),
            Codec::Opus { .. } => None,
        }
    }

    /// The SDP `rtpmap` encoding name.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::Opus { .. } => "opus",
        }
    }

    /// The codec for an `rtpmap` encoding name and clock rate (case-insensitive). Opus is
    /// decoded at 48 kHz; pick another rate with [`Codec::Opus`] directly.
    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Self> {
        match (name.to_ascii_lowercase().as_str(), clock_rate) {
            ("pcmu", 8000) => Some(Codec::Pcmu),
            ("pcma", 8000) => Some(Codec::Pcma),
            ("opus", 48000) => Some(Codec::Opus {
                rate: SampleRate::Hz48000,
            }),
            _ => None,
        }
    }

    /// PCM samples in one 20 ms frame.
    pub fn samples_per_frame(self) -> usize {
        self.sample_rate().samples_per_frame()
    }
}

/// Codec failures: a bad payload from the peer, or a buffer the caller sized wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The peer sent an empty payload.
    #[error("empty payload")]
    EmptyPayload,
    /// The caller's output buffer is too small.
    #[error("output buffer holds {have}, {need} needed")]
    BufferTooSmall {
        /// Capacity given.
        have: usize,
        /// Capacity needed.
        need: usize,
    },
    /// The Opus library rejected the packet or the call (its own words).
    #[error("opus: {0}")]
    Opus(&'static str),
    /// Resampling misuse (a frame of the wrong size).
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// Encoder state for one outgoing stream.
#[derive(Debug)]
pub enum Encoder {
    /// G.711 µ-law (stateless).
    Pcmu,
    /// G.711 A-law (stateless).
    Pcma,
    /// Opus.
    Opus(OpusEncoder),
}

impl Encoder {
    /// An encoder for `codec`.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        Ok(match codec {
            Codec::Pcmu => Encoder::Pcmu,
            Codec::Pcma => Encoder::Pcma,
            Codec::Opus { rate } => Encoder::Opus(OpusEncoder::new(rate)?),
        })
    }

    /// The codec this encodes.
    pub fn codec(&self) -> Codec {
        match self {
            Encoder::Pcmu => Codec::Pcmu,
            Encoder::Pcma => Codec::Pcma,
            Encoder::Opus(e) => Codec::Opus { rate: e.rate() },
        }
    }

    /// Encode one frame of PCM into `out`; returns the payload length.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        match self {
            Encoder::Pcmu | Encoder::Pcma if out.len() < pcm.len() => {
                Err(CodecError::BufferTooSmall {
                    have: out.len(),
                    need: pcm.len(),
                })
            }
            Encoder::Pcmu => Ok(g711::encode_ulaw(pcm, out)),
            Encoder::Pcma => Ok(g711::encode_alaw(pcm, out)),
            Encoder::Opus(e) => e.encode(pcm, out),
        }
    }
}

/// Decoder state for one incoming stream.
#[derive(Debug)]
pub enum Decoder {
    /// G.711 µ-law (stateless).
    Pcmu,
    /// G.711 A-law (stateless).
    Pcma,
    /// Opus (with concealment).
    Opus(OpusDecoder),
}

impl Decoder {
    /// A decoder for `codec`.
    pub fn new(codec: Codec) -> Result<Self, CodecError> {
        Ok(match codec {
            Codec::Pcmu => Decoder::Pcmu,
            Codec::Pcma => Decoder::Pcma,
            Codec::Opus { rate } => Decoder::Opus(OpusDecoder::new(rate)?),
        })
    }

    /// The codec this decodes.
    pub fn codec(&self) -> Codec {
        match self {
            Decoder::Pcmu => Codec::Pcmu,
            Decoder::Pcma => Codec::Pcma,
            Decoder::Opus(d) => Codec::Opus { rate: d.rate() },
        }
    }

    /// Decode one payload into `out`; returns the number of samples.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        match self {
            _ if payload.is_empty() => Err(CodecError::EmptyPayload),
            Decoder::Pcmu | Decoder::Pcma if out.len() < payload.len() => {
                Err(CodecError::BufferTooSmall {
                    have: out.len(),
                    need: payload.len(),
                })
            }
            Decoder::Pcmu => Ok(g711::decode_ulaw(payload, out)),
            Decoder::Pcma => Ok(g711::decode_alaw(payload, out)),
            Decoder::Opus(d) => d.decode(payload, out),
        }
    }

    /// Produce one 20 ms frame for a lost packet (Opus PLC; silence for G.711).
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        let need = self.codec().samples_per_frame();
        let Some(frame) = out.get_mut(..need) else {
            return Err(CodecError::BufferTooSmall {
                have: out.len(),
                need,
            });
        };
        match self {
            Decoder::Pcmu | Decoder::Pcma => {
                frame.fill(0);
                Ok(need)
            }
            Decoder::Opus(d) => d.conceal(frame),
        }
    }
}

#[cfg(test)]
mod tests;

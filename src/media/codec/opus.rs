//! Opus (RFC 6716) for voice: a mono encoder tuned for VoIP and a decoder with loss
//! concealment, behind one small internal trait pair so that the codec library is a build
//! choice, not a rewrite.
//!
//! Owns [`OpusEncoder`] and [`OpusDecoder`], the per-direction Opus state of a call leg, and
//! the [`EncoderEngine`]/[`DecoderEngine`] traits their backends implement:
//! - `pure` (the default): the pure-Rust `opus-rs` crate, so the product builds on a machine
//!   with only the Rust toolchain (no libopus, pkg-config or cmake);
//! - `system` (cargo feature `system-opus`): the system libopus through the `opus` crate.
//!   With the feature, calls use libopus and both backends are built, which is what the
//!   interop tests (`interop_tests.rs`: each encoder against the other decoder) need.
//!
//! Works at 8, 16 or 48 kHz internally (the RTP clock of Opus is always 48 kHz, RFC 7587;
//! that mapping is the RTP layer's business). Frames are 20 ms. Pure apart from the codec
//! library; no I/O. Driven by [`crate::media::codec::Encoder`]/[`crate::media::codec::Decoder`].

#[cfg(all(test, feature = "system-opus"))]
mod interop_tests;
#[cfg_attr(feature = "system-opus", allow(dead_code))]
mod pure;
#[cfg(feature = "system-opus")]
mod system;

use crate::media::codec::CodecError;
use crate::media::resample::SampleRate;

/// Largest Opus packet we produce (RFC 6716 allows 1275 bytes per frame).
pub const MAX_PACKET: usize = 1275;
/// Encoder complexity (0-10; libopus defaults to 10). Centrala encodes telephone audio that
/// mostly came from G.711: at 5 the encoder costs about 60 % of the default (libopus timed on
/// this project's benchmark box), which is what decides how many transcoded bridges a core
/// holds (the media benchmark's transcode mode).
const COMPLEXITY: i32 = 5;
/// Expected loss the encoder protects against with in-band FEC, in percent.
const PACKET_LOSS_PERC: i32 = 5;

/// The target bitrate libopus picks by itself for mono 20 ms frames (`OPUS_AUTO`:
/// 60 bits per frame-rate unit plus one bit per sample); both backends start from it so
/// that they send the same amount of audio.
fn auto_bitrate(rate: SampleRate) -> i32 {
    60 * 50 + rate.hz() as i32
}

/// What a backend's mono VoIP encoder does for us.
pub(crate) trait EncoderEngine: Sized {
    /// A mono encoder at `rate` (application VoIP, in-band FEC on, [`COMPLEXITY`]).
    fn new(rate: SampleRate) -> Result<Self, CodecError>;
    /// Encode one frame of `pcm` into `out`; returns bytes written.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError>;
    /// Set the target bitrate in bits per second.
    fn set_bitrate(&mut self, bps: i32) -> Result<(), CodecError>;
}

/// What a backend's mono decoder does for us.
pub(crate) trait DecoderEngine: Sized {
    /// A mono decoder producing PCM at `rate`.
    fn new(rate: SampleRate) -> Result<Self, CodecError>;
    /// Decode one non-empty packet into `out`; returns samples.
    fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError>;
    /// Conceal one lost frame of `out.len()` samples; returns samples.
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError>;
}

#[cfg(not(feature = "system-opus"))]
type EncoderImpl = pure::PureEncoder;
#[cfg(not(feature = "system-opus"))]
type DecoderImpl = pure::PureDecoder;
#[cfg(feature = "system-opus")]
type EncoderImpl = system::SystemEncoder;
#[cfg(feature = "system-opus")]
type DecoderImpl = system::SystemDecoder;

/// A mono Opus encoder (application VoIP).
pub struct OpusEncoder {
    /// Boxed: the codec state is large and most legs are G.711.
    inner: Box<EncoderImpl>,
    rate: SampleRate,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("rate", &self.rate)
            .finish()
    }
}

impl OpusEncoder {
    /// An encoder for mono audio at `rate`, with in-band FEC enabled, at complexity 5.
    pub fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let inner = Box::new(EncoderImpl::new(rate)?);
        Ok(OpusEncoder { inner, rate })
    }

    /// Sample rate of the PCM this encoder takes.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// Encode one frame (2.5-60 ms of samples; 20 ms in Centrala) into `out`; returns bytes.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        self.inner.encode(pcm, out)
    }

    /// Set the target bitrate in bits per second.
    pub fn set_bitrate(&mut self, bps: i32) -> Result<(), CodecError> {
        self.inner.set_bitrate(bps)
    }
}

/// A mono Opus decoder with packet-loss concealment.
pub struct OpusDecoder {
    /// Boxed: the codec state is large and most legs are G.711.
    inner: Box<DecoderImpl>,
    rate: SampleRate,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("rate", &self.rate)
            .finish()
    }
}

impl OpusDecoder {
    /// A decoder producing mono audio at `rate`.
    pub fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let inner = Box::new(DecoderImpl::new(rate)?);
        Ok(OpusDecoder { inner, rate })
    }

    /// Sample rate of the PCM this decoder produces.
    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// Decode one packet into `out` (room for the packet's duration); returns samples.
    pub fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if packet.is_empty() {
            return Err(CodecError::EmptyPayload);
        }
        self.inner.decode(packet, out)
    }

    /// Conceal one lost frame: fills `out` (a multiple of 2.5 ms, e.g. 20 ms) from the
    /// decoder's state; returns samples.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        self.inner.conceal(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::dtmf::inband::goertzel_power;
    use crate::media::tone::{ToneGenerator, ToneSpec};

    pub(super) fn tone_frames(rate: SampleRate, frames: usize) -> Vec<Vec<i16>> {
        let spec = ToneSpec {
            freq1: 1000.0,
            freq2: None,
            amplitude: 10000,
            on_ms: 10_000,
            off_ms: 0,
            repeat: true,
        };
        let mut g = ToneGenerator::new(spec, rate.hz());
        (0..frames)
            .map(|_| {
                let mut f = vec![0i16; rate.samples_per_frame()];
                g.fill(&mut f);
                f
            })
            .collect()
    }

    #[test]
    fn tone_survives_at_every_rate_and_plc_has_frame_length() {
        for rate in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz48000] {
            let mut enc = OpusEncoder::new(rate).unwrap();
            let mut dec = OpusDecoder::new(rate).unwrap();
            let frame = rate.samples_per_frame();
            let mut packet = [0u8; MAX_PACKET];
            let mut decoded = Vec::new();
            let mut out = vec![0i16; frame];
            for pcm in tone_frames(rate, 50) {
                let n = enc.encode(&pcm, &mut packet).unwrap();
                assert!(n > 0 && n < 400, "{rate:?}: {n} bytes");
                let m = dec.decode(&packet[..n], &mut out).unwrap();
                assert_eq!(m, frame);
                decoded.extend_from_slice(&out);
            }
            let settled = &decoded[decoded.len() / 2..];
            let wanted = goertzel_power(settled, 1000.0, rate.hz());
            let expected = (10000.0 * settled.len() as f64 / 2.0).powi(2);
            assert!(wanted > expected * 0.5, "{rate:?}: tone lost");
            assert!(wanted > 100.0 * goertzel_power(settled, 1500.0, rate.hz()));
            // A lost frame: concealment produces exactly one frame, still tone-like.
            let m = dec.conceal(&mut out).unwrap();
            assert_eq!(m, frame);
            assert!(out.iter().any(|s| s.abs() > 1000), "{rate:?}: PLC silent");
        }
    }

    #[test]
    fn bad_packets_are_errors_not_panics() {
        let mut dec = OpusDecoder::new(SampleRate::Hz8000).unwrap();
        let mut out = [0i16; 160];
        assert!(matches!(
            dec.decode(&[], &mut out),
            Err(CodecError::EmptyPayload)
        ));
        // A 60 ms packet does not fit a 20 ms buffer: the decoder refuses, we report it.
        let mut enc = OpusEncoder::new(SampleRate::Hz8000).unwrap();
        let mut packet = [0u8; MAX_PACKET];
        let n = enc.encode(&[0i16; 480], &mut packet).unwrap();
        assert!(dec.decode(&packet[..n], &mut out).is_err());
        // Garbage (TOC byte claiming an invalid frame count code 3 with zero frames).
        assert!(dec.decode(&[0x03, 0x00], &mut out).is_err());
        assert!(enc.set_bitrate(24000).is_ok());
    }
}

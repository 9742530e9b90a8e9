//! The default Opus backend: the pure-Rust `opus-rs` crate (a port of libopus), so that the
//! product builds with nothing but the Rust toolchain.
//!
//! Owns one `opus_rs` encoder or decoder per direction and the conversion of its float PCM to
//! our 16-bit frames. Nothing else: the settings live in the parent module.

use opus_rs::{Application, OpusDecoder, OpusEncoder};

use super::{COMPLEXITY, DecoderEngine, EncoderEngine, PACKET_LOSS_PERC, auto_bitrate};
use crate::media::codec::CodecError;
use crate::media::resample::SampleRate;

/// Most samples one packet may carry at 48 kHz (120 ms, RFC 6716 3.2.5).
const MAX_SAMPLES: usize = 5760;

/// A mono VoIP encoder over `opus-rs`.
pub(crate) struct PureEncoder {
    inner: OpusEncoder,
}

impl EncoderEngine for PureEncoder {
    fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let mut inner =
            OpusEncoder::new(rate.hz() as i32, 1, Application::Voip).map_err(CodecError::Opus)?;
        inner.complexity = COMPLEXITY;
        inner.use_inband_fec = true;
        inner.packet_loss_perc = PACKET_LOSS_PERC;
        inner.bitrate_bps = auto_bitrate(rate);
        Ok(PureEncoder { inner })
    }

    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        self.inner
            .encode_i16(pcm, pcm.len(), out)
            .map_err(CodecError::Opus)
    }

    fn set_bitrate(&mut self, bps: i32) -> Result<(), CodecError> {
        self.inner.bitrate_bps = bps;
        Ok(())
    }
}

/// A mono decoder over `opus-rs`, with float output scaled to 16-bit PCM.
pub(crate) struct PureDecoder {
    inner: OpusDecoder,
    scratch: Vec<f32>,
}

impl PureDecoder {
    fn run(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let room = out.len().min(MAX_SAMPLES);
        if self.scratch.len() < room {
            self.scratch.resize(room, 0.0);
        }
        let n = self
            .inner
            .decode(packet, room, &mut self.scratch[..room])
            .map_err(CodecError::Opus)?;
        for (o, s) in out.iter_mut().zip(&self.scratch[..n]) {
            // `as` saturates: a float above full scale clips instead of wrapping.
            *o = (s * 32768.0).round() as i16;
        }
        Ok(n)
    }
}

impl DecoderEngine for PureDecoder {
    fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let inner = OpusDecoder::new(rate.hz() as i32, 1).map_err(CodecError::Opus)?;
        Ok(PureDecoder {
            inner,
            scratch: Vec::new(),
        })
    }

    fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        self.run(packet, out)
    }

    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        self.run(&[], out)
    }
}

//! The optional Opus backend (cargo feature `system-opus`): the system libopus through the
//! `opus` crate, which needs libopus and pkg-config at build time.
//!
//! Owns one libopus encoder or decoder per direction. Nothing else: the settings live in the
//! parent module.

use opus::{Application, Bitrate, Channels, Decoder, Encoder};

use super::{COMPLEXITY, DecoderEngine, EncoderEngine, PACKET_LOSS_PERC, auto_bitrate};
use crate::media::codec::CodecError;
use crate::media::resample::SampleRate;

fn cause(e: opus::Error) -> CodecError {
    CodecError::Opus(e.description())
}

/// A mono VoIP encoder over libopus.
pub(crate) struct SystemEncoder {
    inner: Encoder,
}

impl EncoderEngine for SystemEncoder {
    fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let mut inner =
            Encoder::new(rate.hz(), Channels::Mono, Application::Voip).map_err(cause)?;
        inner.set_inband_fec(true).map_err(cause)?;
        inner
            .set_packet_loss_perc(PACKET_LOSS_PERC)
            .map_err(cause)?;
        inner.set_complexity(COMPLEXITY).map_err(cause)?;
        inner
            .set_bitrate(Bitrate::Bits(auto_bitrate(rate)))
            .map_err(cause)?;
        Ok(SystemEncoder { inner })
    }

    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        self.inner.encode(pcm, out).map_err(cause)
    }

    fn set_bitrate(&mut self, bps: i32) -> Result<(), CodecError> {
        self.inner.set_bitrate(Bitrate::Bits(bps)).map_err(cause)
    }
}

/// A mono decoder over libopus.
pub(crate) struct SystemDecoder {
    inner: Decoder,
}

impl DecoderEngine for SystemDecoder {
    fn new(rate: SampleRate) -> Result<Self, CodecError> {
        let inner = Decoder::new(rate.hz(), Channels::Mono).map_err(cause)?;
        Ok(SystemDecoder { inner })
    }

    fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        self.inner.decode(packet, out, false).map_err(cause)
    }

    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        self.inner.decode(&[], out, false).map_err(cause)
    }
}

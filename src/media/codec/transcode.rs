//! Transcoding between two codecs: decode, resample, encode, with buffers reused per frame.
//!
//! Owns the decoder of the incoming leg, the encoder of the outgoing leg, the resampler
//! between their rates and the scratch buffers. Driven by the per-call media task once per
//! 20 ms packet (or per lost packet, which it conceals).

use crate::media::codec::{Codec, CodecError, Decoder, Encoder};
use crate::media::resample::Resampler;

/// Converts 20 ms payloads of one codec into payloads of another.
#[derive(Debug)]
pub struct Transcoder {
    decoder: Decoder,
    resampler: Resampler,
    encoder: Encoder,
    decoded: Vec<i16>,
    resampled: Vec<i16>,
    decoded_len: usize,
}

impl Transcoder {
    /// A transcoder from `from` (incoming leg) to `to` (outgoing leg).
    pub fn new(from: Codec, to: Codec) -> Result<Self, CodecError> {
        Ok(Transcoder {
            decoder: Decoder::new(from)?,
            resampler: Resampler::new(from.sample_rate(), to.sample_rate()),
            encoder: Encoder::new(to)?,
            // Room for the longest Opus packet (120 ms at 48 kHz).
            decoded: vec![0; 5760],
            resampled: vec![0; 5760],
            decoded_len: 0,
        })
    }

    /// Transcode one payload, or conceal a lost one (`None`), into `out`; returns bytes.
    pub fn transcode(
        &mut self,
        payload: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<usize, CodecError> {
        let n = match payload {
            Some(p) => self.decoder.decode(p, &mut self.decoded)?,
            None => self.decoder.conceal(&mut self.decoded)?,
        };
        self.decoded_len = n;
        // Any whole number of 2.5 ms is a multiple of the decimation factor.
        let m = self
            .resampler
            .process(&self.decoded[..n], &mut self.resampled)?;
        self.encoder.encode(&self.resampled[..m], out)
    }

    /// PCM of the last decoded frame at the incoming codec's rate (for recording or DTMF).
    pub fn last_decoded(&self) -> &[i16] {
        &self.decoded[..self.decoded_len]
    }
}

//! The decoding half of a direction: jitter buffer, decoder with concealment, and the 8 kHz
//! copy the recorder and the in-band DTMF detector read.
//!
//! Owns: the jitter buffer, decoder, resampler to 8 kHz, in-band detector and PCM buffers of
//! one ingress side. Allocated when a feature first needs the audio, reused every frame.
//! Driven by: `Pipeline::process_rtp` (`push`) and the 20 ms tick (`tick`).

use std::time::Instant;

use crate::media::codec::{Codec, CodecError, Decoder};
use crate::media::dtmf::DtmfDigit;
use crate::media::dtmf::inband::InbandDetector;
use crate::media::jitter::{JitterBuffer, JitterConfig, Playout};
use crate::media::resample::{Resampler, SampleRate};

/// Longest decoded packet we accept (120 ms at 48 kHz, Opus's maximum).
const MAX_PCM: usize = 5760;

#[derive(Debug)]
pub(crate) struct Decode {
    jitter: JitterBuffer,
    decoder: Decoder,
    rate: SampleRate,
    pcm: Vec<i16>,
    /// Valid samples in `pcm` for this tick; 0 when the buffer had nothing to play.
    len: usize,
    to_8k: Resampler,
    pcm8: Vec<i16>,
    len8: usize,
    inband: Option<InbandDetector>,
}

impl Decode {
    pub(crate) fn new(codec: Codec) -> Result<Decode, CodecError> {
        let rate = codec.sample_rate();
        Ok(Decode {
            jitter: JitterBuffer::new(JitterConfig::voice(codec.rtp_clock_rate())),
            decoder: Decoder::new(codec)?,
            rate,
            pcm: vec![0; MAX_PCM],
            len: 0,
            to_8k: Resampler::new(rate, SampleRate::Hz8000),
            pcm8: vec![0; MAX_PCM],
            len8: 0,
            inband: None,
        })
    }

    /// The rate of the decoded PCM.
    pub(crate) fn rate(&self) -> SampleRate {
        self.rate
    }

    /// Turns the in-band DTMF detector on or off.
    pub(crate) fn set_inband(&mut self, on: bool) {
        if on != self.inband.is_some() {
            self.inband = on.then(InbandDetector::default);
        }
    }

    /// Stores one audio packet (a valid RTP packet with its payload at `header_len`).
    pub(crate) fn push(&mut self, now: Instant, packet: &[u8], header_len: usize) {
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let timestamp = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        self.jitter
            .push(now, seq, timestamp, payload(packet, header_len));
    }

    /// Plays out one 20 ms frame: decodes the next packet, conceals a lost one, or produces
    /// nothing while buffering. Makes the 8 kHz copy when `want_8k` or in-band is on.
    pub(crate) fn tick(&mut self, want_8k: bool) {
        self.len = match self.jitter.pop() {
            Playout::Buffering => 0,
            Playout::Frame { payload, .. } => match self.decoder.decode(payload, &mut self.pcm) {
                Ok(n) => n,
                // A payload the decoder rejects (corrupt, or longer than we take): conceal.
                Err(_) => self.decoder.conceal(&mut self.pcm).unwrap_or(0),
            },
            Playout::Missing { .. } => self.decoder.conceal(&mut self.pcm).unwrap_or(0),
        };
        self.len8 = 0;
        if self.len > 0 && (want_8k || self.inband.is_some()) {
            let frame = &self.pcm[..self.len];
            self.len8 = self.to_8k.process(frame, &mut self.pcm8).unwrap_or(0);
            if let Some(inband) = &mut self.inband {
                inband.handle_samples(&self.pcm8[..self.len8]);
            }
        }
    }

    /// This tick's decoded audio at the codec's rate, if any.
    pub(crate) fn frame(&self) -> Option<&[i16]> {
        (self.len > 0).then(|| &self.pcm[..self.len])
    }

    /// This tick's audio at 8 kHz, if made.
    pub(crate) fn frame_8k(&self) -> Option<&[i16]> {
        (self.len8 > 0).then(|| &self.pcm8[..self.len8])
    }

    /// The next digit the in-band detector found.
    pub(crate) fn poll_inband(&mut self) -> Option<DtmfDigit> {
        self.inband.as_mut()?.poll_digit().map(|d| d.digit)
    }
}

/// The payload of a valid RTP packet: after the header, before the padding.
pub(crate) fn payload(packet: &[u8], header_len: usize) -> &[u8] {
    let padding = if packet[0] & 0x20 != 0 {
        packet.last().map_or(0, |&p| usize::from(p))
    } else {
        0
    };
    packet
        .get(header_len..packet.len().saturating_sub(padding))
        .unwrap_or(&[])
}

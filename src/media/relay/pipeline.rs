//! What happens to the RTP of one direction of flow (from the ingress side to the other):
//! relay, tap, or replace.
//!
//! Owns: for its ingress side, the codec, the RFC 4733 receiver (digits are seen even on the
//! fast path: one payload-type comparison per packet) and, when a feature needs the audio,
//! the decode half (`decode::Decode`); for the other side, the `egress::Egress` (our outgoing
//! stream, encoder, player, DTMF sender); and the events they produce.
//! Must not touch: sockets, addresses, latching (those are `RelayCore`'s), the recorder.
//! Driven by: `RelayCore`, once per valid RTP packet (`process_rtp`) and on the 20 ms tick.
//!
//! Modes, recomputed on every configuration change (`reconfigure`):
//! - `Forward`: the fast path. Same codec on both sides, nothing needs the audio: the packet
//!   passes in place (payload type renumbered if the legs differ; rewritten SSRC/seq/ts only
//!   after Centrala has sent its own packets toward that side, see `rtp_out`).
//! - `Tap`: forwarded as above, and a copy goes into the jitter buffer for the decoder
//!   (recording, in-band DTMF). No added latency on the path.
//! - `Consume`: not forwarded. The codecs differ (the tick decodes, resamples and encodes for
//!   the other side) or Centrala plays something toward the other side.

mod decode;
mod egress;

use std::collections::VecDeque;
use std::time::Instant;

use crate::media::codec::CodecError;
use crate::media::dtmf::DtmfDigit;
use crate::media::dtmf::rfc4733::Rfc4733Receiver;
use crate::media::player::Playback;
use crate::media::relay::Side;
use crate::media::relay::events::{DtmfSource, LegCodec, MediaEvent};
use crate::media::relay::outbox::Outbox;

pub(crate) use decode::payload;

/// The processing of one direction of flow (A to B, or B to A).
#[derive(Debug)]
pub struct Pipeline {
    /// The side whose packets this pipeline receives.
    side: Side,
    mode: Mode,
    forwarded: u64,
    ingress: Option<LegCodec>,
    te_receiver: Rfc4733Receiver,
    decode: Option<Box<decode::Decode>>,
    egress: egress::Egress,
    /// Payload type renumbering on the relay path, when the legs differ.
    audio_pt: Option<u8>,
    event_pt: Option<u8>,
    inband: bool,
    recording: bool,
    events: VecDeque<MediaEvent>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Forward,
    Tap,
    Consume,
}

impl Pipeline {
    /// A pipeline that forwards every packet unchanged (from side A).
    pub fn forward() -> Pipeline {
        Pipeline::new(Side::A, 0)
    }

    /// The pipeline of the flow from `side`; `ssrc` is used if Centrala starts a stream toward
    /// the other side before relaying anything.
    pub fn new(side: Side, ssrc: u32) -> Pipeline {
        Pipeline {
            side,
            mode: Mode::Forward,
            forwarded: 0,
            ingress: None,
            te_receiver: Rfc4733Receiver::new(),
            decode: None,
            egress: egress::Egress::new(side.other(), ssrc),
            audio_pt: None,
            event_pt: None,
            inband: false,
            recording: false,
            events: VecDeque::new(),
        }
    }

    /// Processes a valid RTP packet in place (`header_len` is its payload offset). Returns how
    /// many bytes of `packet` to send, or `None` to send nothing.
    pub fn process_rtp(
        &mut self,
        now: Instant,
        packet: &mut [u8],
        header_len: usize,
    ) -> Option<usize> {
        let payload_type = packet[1] & 0x7f;
        if let Some(ingress) = self.ingress {
            if ingress.telephone_event == Some(payload_type) {
                return self.telephone_event(now, packet, header_len);
            }
            if self.mode != Mode::Forward
                && payload_type == ingress.payload_type
                && let Some(decode) = &mut self.decode
            {
                decode.push(now, packet, header_len);
            }
        }
        if self.mode == Mode::Consume {
            return None;
        }
        self.egress.out.relay(now, packet, self.audio_pt);
        self.forwarded += 1;
        Some(packet.len())
    }

    /// How many packets this pipeline has passed on.
    pub fn forwarded(&self) -> u64 {
        self.forwarded
    }

    /// The next event (a digit received from the ingress side, a playback toward the other
    /// side that ended).
    pub(crate) fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// Whether the 20 ms tick must run for this direction.
    pub(crate) fn needs_ticks(&self) -> bool {
        self.mode != Mode::Forward || self.egress.has_source()
    }

    pub(crate) fn set_ingress(&mut self, leg: LegCodec) -> Result<(), CodecError> {
        if self.ingress.map(|l| l.codec) != Some(leg.codec) {
            self.decode = None;
        }
        self.ingress = Some(leg);
        self.reconfigure()
    }

    pub(crate) fn set_egress(&mut self, leg: LegCodec) -> Result<(), CodecError> {
        self.egress.set_leg(leg)?;
        self.reconfigure()
    }

    pub(crate) fn set_inband(&mut self, on: bool) -> Result<(), CodecError> {
        self.inband = on;
        self.reconfigure()
    }

    pub(crate) fn set_recording(&mut self, on: bool) -> Result<(), CodecError> {
        self.recording = on;
        self.reconfigure()
    }

    /// Plays toward the other side (its audio replaces this side's there).
    pub(crate) fn play(&mut self, playback: Playback) -> Result<(), CodecError> {
        self.egress.play(playback);
        self.reconfigure()
    }

    pub(crate) fn stop_playback(&mut self) -> Result<(), CodecError> {
        self.egress.stop_playback();
        self.reconfigure()
    }

    /// Sends `digit` toward the other side.
    pub(crate) fn send_digit(&mut self, digit: DtmfDigit) -> Result<(), CodecError> {
        self.egress.queue_digit(digit, egress::DIGIT_MS);
        self.reconfigure()
    }

    /// First half of the tick: decode this side's next frame (`want_8k`: the recorder reads it).
    pub(crate) fn tick_ingress(&mut self, want_8k: bool) {
        if let Some(decode) = &mut self.decode {
            decode.tick(want_8k);
            while let Some(digit) = decode.poll_inband() {
                self.events.push_back(MediaEvent::Dtmf {
                    side: self.side,
                    digit,
                    source: DtmfSource::Inband,
                });
            }
        }
    }

    /// This tick's decoded audio of the ingress side at 8 kHz (for the recorder).
    pub(crate) fn frame_8k(&self) -> Option<&[i16]> {
        self.decode.as_ref()?.frame_8k()
    }

    /// Our outgoing stream toward the other side (for RTCP sender reports).
    pub(crate) fn egress_stream(&self) -> &crate::media::relay::rtp_out::OutStream {
        &self.egress.out
    }

    /// Second half of the tick: what Centrala sends toward the other side.
    pub(crate) fn tick_egress(&mut self, now: Instant, outbox: &mut Outbox) {
        let input = match (&self.decode, self.mode) {
            (Some(decode), Mode::Consume) => decode.frame().map(|f| (f, decode.rate())),
            _ => None,
        };
        let had_source = self.egress.has_source();
        if self.egress.tick(now, input, outbox) {
            self.events.push_back(MediaEvent::PlaybackFinished {
                side: self.side.other(),
            });
        }
        if had_source && !self.egress.has_source() {
            // Back to relaying (or transcoding) the ingress side.
            let _ = self.reconfigure();
        }
    }

    fn telephone_event(
        &mut self,
        now: Instant,
        packet: &mut [u8],
        header_len: usize,
    ) -> Option<usize> {
        let timestamp = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        // A malformed event payload is the peer's problem: ignored, the stream goes on.
        let _ = self
            .te_receiver
            .handle_packet(timestamp, payload(packet, header_len));
        while let Some(received) = self.te_receiver.poll_digit() {
            self.events.push_back(MediaEvent::Dtmf {
                side: self.side,
                digit: received.digit,
                source: DtmfSource::Rfc4733,
            });
            if self.mode == Mode::Consume {
                // The other side hears Centrala's stream: it gets the digit from us, as long as
                // it was pressed, in its own event clock (RFC 4733 durations are in the clock
                // of the leg's telephone-event: 8 kHz for G.711, 48 kHz for Opus).
                let clock = self.ingress.map_or(8000, |leg| leg.codec.rtp_clock_rate());
                self.egress
                    .queue_digit(received.digit, received.duration_ms(clock));
            }
        }
        match (self.mode, self.egress.leg) {
            (Mode::Consume, _) => None,
            (_, Some(leg)) if leg.telephone_event.is_none() => None,
            _ => {
                self.egress.out.relay(now, packet, self.event_pt);
                self.forwarded += 1;
                Some(packet.len())
            }
        }
    }

    fn reconfigure(&mut self) -> Result<(), CodecError> {
        let egress = self.egress.leg;
        let transcode = matches!((self.ingress, egress), (Some(i), Some(e)) if !i.relays_to(&e));
        let consume = transcode || self.egress.has_source();
        let need_audio = transcode || self.inband || self.recording;
        match self.ingress {
            Some(ingress) if need_audio => {
                if self.decode.is_none() {
                    self.decode = Some(Box::new(decode::Decode::new(ingress.codec)?));
                }
            }
            _ => self.decode = None,
        }
        if let Some(decode) = &mut self.decode {
            decode.set_inband(self.inband);
        }
        let renumber = |from: Option<u8>, to: Option<u8>| to.filter(|t| from != Some(*t));
        self.audio_pt = match (self.ingress, egress) {
            (Some(i), Some(e)) => renumber(Some(i.payload_type), Some(e.payload_type)),
            _ => None,
        };
        self.event_pt = match (self.ingress, egress) {
            (Some(i), Some(e)) => renumber(i.telephone_event, e.telephone_event),
            _ => None,
        };
        self.mode = if consume {
            Mode::Consume
        } else if need_audio && self.decode.is_some() {
            Mode::Tap
        } else {
            Mode::Forward
        };
        Ok(())
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline::forward()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_passes_packets_unchanged() {
        let mut pipeline = Pipeline::forward();
        let mut packet = [0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 42];
        assert_eq!(
            pipeline.process_rtp(Instant::now(), &mut packet, 12),
            Some(13)
        );
        assert_eq!(packet[12], 42);
        assert_eq!(pipeline.forwarded(), 1);
    }
}

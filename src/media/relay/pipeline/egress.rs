//! The sending half of a direction: what Centrala itself sends toward one side when it does
//! not simply relay (transcoded audio, a playback, DTMF it sends).
//!
//! Owns: the side's `OutStream` (SSRC/sequence/timestamp continuity), its encoder, the
//! resampler from the other side's decoded rate, the `Player`, and the digits being sent
//! (RFC 4733 packets when the side accepted telephone-events, else in-band tones).
//! Driven by: `Pipeline` (relay path: `out.relay`; 20 ms tick: `tick`).
//! Priority each tick: a digit being sent, else the playback, else the other side's audio.

use std::collections::VecDeque;
use std::time::Instant;

use crate::media::codec::{CodecError, Encoder};
use crate::media::dtmf::DtmfDigit;
use crate::media::dtmf::rfc4733::{DigitSender, EventPacket};
use crate::media::jitter::MAX_PAYLOAD;
use crate::media::player::{Playback, Player};
use crate::media::relay::LegCodec;
use crate::media::relay::Side;
use crate::media::relay::core::Channel;
use crate::media::relay::outbox::Outbox;
use crate::media::relay::rtp_out::OutStream;
use crate::media::resample::{Resampler, SampleRate};
use crate::media::tone::{ToneGenerator, ToneSpec};

/// Length of a digit Centrala sends on its own (`send_dtmf`), and the pause after every digit.
pub(crate) const DIGIT_MS: u32 = 100;
const DIGIT_GAP_MS: u32 = 60;
/// Bounds of the length of a digit passed on from the other leg (its received duration). At
/// most 1 s: one event's duration field (16 bits) holds 1.36 s at the 48 kHz Opus clock.
const DIGIT_MS_RANGE: (u32, u32) = (40, 1000);
/// RFC 4733 volume field (-dBm0) of the digits we send.
const DIGIT_VOLUME: u8 = 10;

#[derive(Debug)]
pub(crate) struct Egress {
    /// The side this sends toward.
    side: Side,
    pub(crate) leg: Option<LegCodec>,
    pub(crate) out: OutStream,
    encoder: Option<Encoder>,
    /// From the other side's decoded rate to this side's rate.
    resampler: Option<Resampler>,
    player: Option<Player>,
    /// Digits to send, with their length in ms.
    digits: VecDeque<(DtmfDigit, u32)>,
    sending: Option<DigitOut>,
    /// The RTP timestamp of the telephone-event being sent (the same in all its packets).
    event_timestamp: u32,
    pcm: Vec<i16>,
    packet: Vec<u8>,
}

#[derive(Debug)]
enum DigitOut {
    /// RFC 4733: the packets still to send, the next one, the tick time within the event.
    Events {
        sender: DigitSender,
        next: Option<EventPacket>,
        elapsed_ms: u32,
        payload_type: u8,
        duration_ms: u32,
    },
    /// No telephone-event on this leg: the Q.23 tone pair in the audio.
    Tone(ToneGenerator),
}

impl Egress {
    pub(crate) fn new(side: Side, ssrc: u32) -> Egress {
        Egress {
            side,
            leg: None,
            out: OutStream::new(ssrc),
            encoder: None,
            resampler: None,
            player: None,
            digits: VecDeque::new(),
            sending: None,
            event_timestamp: 0,
            pcm: vec![0; 960],
            packet: vec![0; 12 + MAX_PAYLOAD],
        }
    }

    pub(crate) fn set_leg(&mut self, leg: LegCodec) -> Result<(), CodecError> {
        if self.leg.map(|l| l.codec) != Some(leg.codec) {
            self.encoder = Some(Encoder::new(leg.codec)?);
            self.resampler = None;
            self.player = None;
            self.out.set_clock_rate(leg.codec.rtp_clock_rate());
        }
        self.leg = Some(leg);
        Ok(())
    }

    /// Starts `playback` (replacing any); ignored until this side's codec is known.
    pub(crate) fn play(&mut self, playback: Playback) {
        self.player = self
            .leg
            .map(|leg| Player::new(playback, leg.codec.sample_rate()));
    }

    pub(crate) fn stop_playback(&mut self) {
        self.player = None;
    }

    /// Queues `digit` lasting `duration_ms` (kept within 40 ms to 1 s). RFC 4733 packets carry
    /// it in this side's event clock, so a digit passed on between legs of different clock
    /// rates (8 kHz G.711, 48 kHz Opus) keeps its length.
    pub(crate) fn queue_digit(&mut self, digit: DtmfDigit, duration_ms: u32) {
        if self.leg.is_some() && self.digits.len() < 32 {
            let duration_ms = duration_ms.clamp(DIGIT_MS_RANGE.0, DIGIT_MS_RANGE.1);
            self.digits.push_back((digit, duration_ms));
        }
    }

    /// Whether Centrala produces this side's audio itself (so the other side's is not relayed).
    pub(crate) fn has_source(&self) -> bool {
        self.player.is_some() || self.sending.is_some() || !self.digits.is_empty()
    }

    /// One 20 ms tick. `input` is the other side's decoded frame when this side hears it
    /// through Centrala (transcoding), at `input_rate`. Returns true when a playback ended.
    pub(crate) fn tick(
        &mut self,
        now: Instant,
        input: Option<(&[i16], SampleRate)>,
        outbox: &mut Outbox,
    ) -> bool {
        let Some(leg) = self.leg else {
            return false;
        };
        let rate = leg.codec.sample_rate();
        let frame = rate.samples_per_frame();
        let step = leg.codec.rtp_clock_rate() / 50;
        if self.sending.is_none()
            && let Some((digit, duration_ms)) = self.digits.pop_front()
        {
            self.sending = Some(self.start_digit(digit, duration_ms, leg));
        }
        if let Some(sending) = &mut self.sending {
            let done = match sending {
                DigitOut::Tone(tone) => {
                    tone.fill(&mut self.pcm[..frame]);
                    tone.is_finished()
                }
                DigitOut::Events { .. } => {
                    let done = self.send_events(now, step, outbox);
                    if done {
                        self.sending = None;
                    }
                    return false;
                }
            };
            self.send_audio(now, leg, frame, step, outbox);
            if done {
                self.sending = None;
            }
            return false;
        }
        if let Some(player) = &mut self.player {
            let playing = player.fill(&mut self.pcm[..frame]);
            self.send_audio(now, leg, frame, step, outbox);
            if !playing {
                self.player = None;
                return true;
            }
            return false;
        }
        if let Some((pcm, from)) = input {
            let resampler = self
                .resampler
                .get_or_insert_with(|| Resampler::new(from, rate));
            if resampler.from_rate() != from {
                *resampler = Resampler::new(from, rate);
            }
            if let Ok(n) = resampler.process(pcm, &mut self.pcm) {
                self.send_audio(now, leg, n, step, outbox);
            }
        }
        false
    }

    fn start_digit(&self, digit: DtmfDigit, duration_ms: u32, leg: LegCodec) -> DigitOut {
        match leg.telephone_event {
            Some(payload_type) => {
                let clock = leg.codec.rtp_clock_rate();
                let mut sender = DigitSender::new(digit, 0, duration_ms, clock, DIGIT_VOLUME);
                let next = sender.next();
                DigitOut::Events {
                    sender,
                    next,
                    elapsed_ms: 0,
                    payload_type,
                    duration_ms,
                }
            }
            None => DigitOut::Tone(ToneGenerator::new(
                ToneSpec::dtmf(digit, duration_ms, DIGIT_GAP_MS),
                leg.codec.sample_rate().hz(),
            )),
        }
    }

    /// Sends the RFC 4733 packets due in this tick; true once the digit is done.
    fn send_events(&mut self, now: Instant, step: u32, outbox: &mut Outbox) -> bool {
        let Some(DigitOut::Events {
            sender,
            next,
            elapsed_ms,
            payload_type,
            duration_ms,
        }) = &mut self.sending
        else {
            return true;
        };
        let mut first_in_tick = true;
        while let Some(packet) = next.filter(|p| p.send_at_ms <= *elapsed_ms) {
            let mut header = [0u8; 12];
            let tick_step = if first_in_tick { step } else { 0 };
            // The first packet fixes the event's timestamp: the stream's next one.
            let event_ts = if packet.marker {
                None
            } else {
                Some(self.event_timestamp)
            };
            self.out.next_header(
                now,
                &mut header,
                *payload_type,
                tick_step,
                packet.marker,
                event_ts,
            );
            if packet.marker {
                self.event_timestamp = self.out.timestamp();
            }
            first_in_tick = false;
            let body = packet.event.to_bytes();
            self.packet[..12].copy_from_slice(&header);
            self.packet[12..16].copy_from_slice(&body);
            self.out.count(now, body.len());
            outbox.push(self.side, Channel::Rtp, &self.packet[..16]);
            *next = sender.next();
        }
        if first_in_tick {
            self.out.skip(step);
        }
        *elapsed_ms += 20;
        next.is_none() && *elapsed_ms >= *duration_ms + DIGIT_GAP_MS
    }

    fn send_audio(
        &mut self,
        now: Instant,
        leg: LegCodec,
        samples: usize,
        step: u32,
        outbox: &mut Outbox,
    ) {
        let Some(encoder) = &mut self.encoder else {
            return;
        };
        let Ok(len) = encoder.encode(&self.pcm[..samples], &mut self.packet[12..]) else {
            return;
        };
        let mut header = [0u8; 12];
        self.out
            .next_header(now, &mut header, leg.payload_type, step, false, None);
        self.packet[..12].copy_from_slice(&header);
        self.out.count(now, len);
        outbox.push(self.side, Channel::Rtp, &self.packet[..12 + len]);
    }
}

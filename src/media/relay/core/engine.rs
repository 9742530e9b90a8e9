//! The media engine half of `RelayCore`: per-side codecs, the 20 ms tick (decode, record,
//! play, transcode, send DTMF, watch for silence), RTCP reports, and the queues the shell
//! drains.
//!
//! Owns nothing beyond `RelayCore`'s fields; this file groups the engine's methods.
//! Must not touch: sockets, clocks (the shell passes `now` and, once, the wall clock).
//! Driven by: the session task: commands (`set_codec`, `play`, ...), `handle_tick` every 20 ms
//! while `needs_ticks`, then `poll_transmit` and `poll_event` until they return `None`
//! (drain after every call that can produce output, including `handle_packet`).
//!
//! One tick, in order: every pipeline decodes its ingress side's next frame (jitter buffer,
//! decoder, concealment, in-band DTMF); the recorder takes both sides' 8 kHz frames; every
//! pipeline produces what Centrala sends toward its egress side (a digit, the playback, or
//! the other side's transcoded audio); every 5 s, RTCP reports toward both sides.
//!
//! Mixer hook (conferences, supervisor listen/whisper/barge): the tick's two halves are the
//! seam. A conference bridge of several sessions runs the first half of each (decoded frames
//! per participant, `Pipeline::frame_8k`), feeds `media::mixer::Mixer`, and hands each
//! session's egress its mix-minus output in place of the other side's frame (the `input` of
//! `Egress::tick`). The sessions then tick from one shared 20 ms clock (one task per
//! conference) instead of one interval each.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::media::codec::CodecError;
use crate::media::dtmf::DtmfDigit;
use crate::media::player::Playback;
use crate::media::recorder::RecorderTap;
use crate::media::relay::core::{Channel, RelayCore};
use crate::media::relay::events::{LegCodec, MediaEvent};
use crate::media::relay::rtcp::{SenderInfo, write_report};
use crate::media::relay::stats::SideCounters;
use crate::media::relay::{SIDES, Side};
use crate::media::silence::SilenceWatch;
use std::net::SocketAddr;

/// RTCP report interval on the decode path (RFC 3550 suggests 5 s minimum).
const RTCP_INTERVAL: Duration = Duration::from_secs(5);
/// Seconds from the NTP epoch (1900) to the Unix epoch.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

impl RelayCore {
    /// Sets what `side` negotiated. Same codec on both sides and no feature on keeps the
    /// packet fast path; different codecs turn on transcoding. Fails only if the codec
    /// library cannot create a state (our fault).
    pub fn set_codec(&mut self, side: Side, leg: LegCodec) -> Result<(), CodecError> {
        self.sides[side.index()].leg = Some(leg);
        self.pipelines[side.index()].set_ingress(leg)?;
        self.pipelines[side.other().index()].set_egress(leg)
    }

    /// Turns in-band (Goertzel) DTMF detection on `side`'s audio on or off.
    pub fn set_inband_dtmf(&mut self, side: Side, on: bool) -> Result<(), CodecError> {
        self.pipelines[side.index()].set_inband(on)
    }

    /// Plays `playback` toward `side` (replacing any playback there); `side` hears it instead
    /// of the other leg until it ends (`MediaEvent::PlaybackFinished`) or is stopped. Ignored
    /// until `side`'s codec is set.
    pub fn play(&mut self, side: Side, playback: Playback) -> Result<(), CodecError> {
        self.pipelines[side.other().index()].play(playback)
    }

    /// Stops the playback toward `side`; the other leg is heard again.
    pub fn stop_playback(&mut self, side: Side) -> Result<(), CodecError> {
        self.pipelines[side.other().index()].stop_playback()
    }

    /// Sends `digit` toward `side`: RFC 4733 if it negotiated telephone-events, else in-band.
    pub fn send_dtmf(&mut self, side: Side, digit: DtmfDigit) -> Result<(), CodecError> {
        self.pipelines[side.other().index()].send_digit(digit)
    }

    /// Says which wall-clock time `at` is (for RTCP SR timestamps).
    pub fn set_wall_clock(&mut self, at: Instant, wall: SystemTime) {
        self.wall_clock = Some((at, wall));
    }

    /// Watches `side`'s audio for silence (`None` stops watching): after `limit` without
    /// speech, `MediaEvent::Silence` is queued once. Only decoded audio is heard, so the side
    /// must be decoded (recording or in-band DTMF on); ticks without audio count as silent.
    pub fn watch_silence(&mut self, side: Side, limit: Option<std::time::Duration>) {
        self.silence = limit.map(|limit| SilenceWatch::new(side, limit));
    }

    /// Whether the shell must call `handle_tick` every 20 ms.
    pub fn needs_ticks(&self) -> bool {
        self.recorder.is_some()
            || self.silence.is_some()
            || self.pipelines.iter().any(|p| p.needs_ticks())
    }

    /// Runs one 20 ms frame of the decode path (see the module docs).
    pub fn handle_tick(&mut self, now: Instant) {
        let recording = self.recorder.is_some();
        for pipeline in &mut self.pipelines {
            pipeline.tick_ingress(recording);
        }
        if let Some(recorder) = &mut self.recorder {
            recorder.push(self.pipelines[0].frame_8k(), self.pipelines[1].frame_8k());
        }
        if let Some(watch) = &mut self.silence
            && watch.observe(self.pipelines[watch.side().index()].frame_8k())
        {
            let side = watch.side();
            self.silence = None;
            self.events.push_back(MediaEvent::Silence { side });
        }
        for pipeline in &mut self.pipelines {
            pipeline.tick_egress(now, &mut self.outbox);
        }
        match self.next_rtcp {
            Some(due) if due > now => {}
            Some(_) => {
                self.send_reports(now);
                self.next_rtcp = Some(now + RTCP_INTERVAL);
            }
            None => self.next_rtcp = Some(now + RTCP_INTERVAL),
        }
    }

    /// The next packet Centrala generated: copies it into `buf` and returns where to send it
    /// (out of `side`'s `channel` socket) and its length. Packets toward a side with no
    /// address, or one the directions say must not receive RTP, are dropped here.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<(Side, Channel, SocketAddr, usize)> {
        loop {
            let (side, channel, bytes) = self.outbox.pop()?;
            let state = &self.sides[side.index()];
            let allowed = channel == Channel::Rtcp || state.direction.sends();
            let endpoint = match channel {
                Channel::Rtp => state.rtp,
                Channel::Rtcp => state.rtcp,
            };
            let to = endpoint
                .latched
                .or(endpoint.signalled)
                .filter(|a| !a.ip().is_unspecified() && a.port() != 0);
            let (Some(to), true, Some(out)) = (to, allowed, buf.get_mut(..bytes.len())) else {
                continue;
            };
            out.copy_from_slice(bytes);
            let counters = self.counters.side(side);
            match channel {
                Channel::Rtp => {
                    SideCounters::bump(&counters.packets_out);
                    SideCounters::add(&counters.bytes_out, bytes.len());
                }
                Channel::Rtcp => SideCounters::bump(&counters.rtcp_out),
            }
            return Some((side, channel, to, bytes.len()));
        }
    }

    /// The next event for the call's logic.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events
            .pop_front()
            .or_else(|| self.pipelines[0].poll_event())
            .or_else(|| self.pipelines[1].poll_event())
    }

    /// Starts feeding `recorder` (both directions get decoded). Hands back a recorder that was
    /// already running, if any.
    pub(crate) fn start_recording(
        &mut self,
        recorder: RecorderTap,
    ) -> Result<Option<RecorderTap>, CodecError> {
        let previous = self.recorder.replace(recorder);
        for pipeline in &mut self.pipelines {
            pipeline.set_recording(true)?;
        }
        Ok(previous)
    }

    /// Stops feeding the recorder and hands it back (dropping it closes the file).
    pub(crate) fn stop_recording(&mut self) -> Option<RecorderTap> {
        for pipeline in &mut self.pipelines {
            // Turning a feature off never creates codec state, so it cannot fail.
            let _ = pipeline.set_recording(false);
        }
        self.recorder.take()
    }

    /// Pauses (silence is recorded) or resumes the recording.
    pub(crate) fn set_recording_paused(&mut self, paused: bool) {
        if let Some(recorder) = &mut self.recorder {
            recorder.set_paused(paused);
        }
    }

    /// RTCP is terminated (not relayed) whenever the decode path runs: the streams each side
    /// receives are then Centrala's own.
    pub(crate) fn terminates_rtcp(&self) -> bool {
        self.needs_ticks()
    }

    fn send_reports(&mut self, now: Instant) {
        let ntp = self.ntp(now);
        let mut buf = [0u8; 128];
        for side in SIDES {
            let egress = self.pipelines[side.other().index()].egress_stream();
            let sender = (egress.packets > 0).then(|| SenderInfo {
                ntp,
                rtp_timestamp: egress.timestamp(),
                packets: egress.packets,
                octets: egress.octets,
            });
            let ssrc = egress.ssrc();
            let block = self.sides[side.index()].received.report_block(now);
            let len = write_report(&mut buf, ssrc, sender, block, "centrala");
            if len > 0 {
                self.outbox.push(side, Channel::Rtcp, &buf[..len]);
            }
        }
    }

    fn ntp(&self, now: Instant) -> u64 {
        let Some((at, wall)) = self.wall_clock else {
            return 0;
        };
        let wall = if now >= at {
            wall + (now - at)
        } else {
            wall - (at - now)
        };
        let since_unix = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        let seconds = since_unix.as_secs() + NTP_UNIX_OFFSET;
        let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        (seconds << 32) | fraction
    }
}

//! The sans-IO heart of the relay: what to do with one datagram that arrived on one of a
//! session's four sockets.
//!
//! Owns: per side, the RTP and RTCP addresses the SDP gave (`set_remote`), the latched source
//! addresses (symmetric RTP, RFC 4961: the first valid packet on a side's socket fixes where we
//! send toward that side, until the SDP address changes), the side's direction, and one
//! `Pipeline` per direction of flow.
//! Must not touch: sockets, tokio, clocks (the shell passes `now`), SDP parsing.
//! Driven by: `media::relay::session`'s task, which calls `handle_packet` for every datagram
//! and sends the packet when the verdict is `Forward`.
//!
//! Rules, in order: count the packet; drop it if malformed; latch its source if the side is not
//! latched yet, drop it if it comes from elsewhere; for RTP, drop it if the ingress side's
//! direction does not receive or the egress side's does not send (RTCP keeps flowing on hold,
//! RFC 3264 section 5.1); drop it if the egress side has no address yet; run the ingress
//! side's pipeline; forward.
//!
//! The media engine (codecs, the 20 ms decode tick, players, DTMF, recording, RTCP) is in
//! `core::engine`: the same `RelayCore`, fed by `handle_tick` and drained by `poll_transmit`
//! and `poll_event`. The fast path above stays per packet and allocation-free; the only work
//! it gained is the receive statistics (RFC 3550 A.1/A.8, a few integer operations) and a
//! payload-type check for RFC 4733 digits.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::media::recorder::RecorderTap;
use crate::media::relay::Side;
use crate::media::relay::events::{LegCodec, MediaEvent};
use crate::media::relay::outbox::Outbox;
use crate::media::relay::packet::{PacketError, validate_rtcp, validate_rtp};
use crate::media::relay::pipeline::Pipeline;
use crate::media::relay::rtcp::ReceiveStats;
use crate::media::relay::stats::{Counters, SideCounters};
use crate::media::sdp::Direction;
use crate::media::silence::SilenceWatch;

/// Which of a side's two sockets a packet arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The RTP socket (even port).
    Rtp,
    /// The RTCP socket (RTP port + 1).
    Rtcp,
}

/// What the shell must do with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send the first `len` bytes of the (possibly rewritten) buffer out of the other side's
    /// socket of the same channel, to `to`.
    Forward {
        /// The destination.
        to: SocketAddr,
        /// How many bytes of the buffer to send.
        len: usize,
    },
    /// Send nothing.
    Drop(DropReason),
}

/// Why a packet was not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Not a valid RTP/RTCP packet.
    Malformed(PacketError),
    /// The far side's address is not known yet.
    NoRemote,
    /// The directions forbid this flow (hold).
    Direction,
    /// The side is latched to another source address.
    ForeignSource,
    /// The pipeline consumed the packet.
    Consumed,
}

/// The per-packet decision logic of one media session.
#[derive(Debug)]
pub struct RelayCore {
    /// Indexed by `Side::index`.
    sides: [SideState; 2],
    /// Indexed by the ingress side: `pipelines[0]` carries A's packets to B.
    pipelines: [Pipeline; 2],
    counters: Arc<Counters>,
    /// The running recording, fed on every tick.
    recorder: Option<RecorderTap>,
    /// A side watched for silence (a voicemail ends when the caller stops talking).
    silence: Option<SilenceWatch>,
    /// Packets generated on the tick, waiting for `poll_transmit`.
    outbox: Outbox,
    /// Events of the core itself (the pipelines queue their own).
    events: VecDeque<MediaEvent>,
    /// When the next RTCP reports are due (while ticking).
    next_rtcp: Option<Instant>,
    /// An `Instant` and the wall-clock time it corresponds to, for SR NTP timestamps.
    wall_clock: Option<(Instant, SystemTime)>,
}

#[derive(Debug, Default)]
struct SideState {
    rtp: Endpoint,
    rtcp: Endpoint,
    /// The direction Centrala wrote in its SDP toward this side: `sends()` = we forward toward
    /// this side, `receives()` = we accept what this side sends.
    direction: Direction,
    /// What the side negotiated, once the call layer says.
    leg: Option<LegCodec>,
    /// Statistics of the RTP this side sends us.
    received: ReceiveStats,
}

#[derive(Debug, Default, Clone, Copy)]
struct Endpoint {
    /// From the SDP.
    signalled: Option<SocketAddr>,
    /// The source of the first valid packet since the signalled address last changed.
    latched: Option<SocketAddr>,
}

impl RelayCore {
    /// A core with no remote addresses, both sides `SendRecv`, forwarding pipelines.
    pub fn new() -> RelayCore {
        RelayCore::with_counters(Arc::default(), 0x5eed_0001)
    }

    /// `ssrc_seed` picks the SSRCs of streams Centrala starts itself (pass a random number).
    pub(crate) fn with_counters(counters: Arc<Counters>, ssrc_seed: u32) -> RelayCore {
        RelayCore {
            sides: Default::default(),
            pipelines: [
                Pipeline::new(Side::A, ssrc_seed),
                Pipeline::new(Side::B, ssrc_seed.rotate_left(13) ^ 0x9e37_79b9),
            ],
            counters,
            recorder: None,
            silence: None,
            outbox: Outbox::default(),
            events: VecDeque::new(),
            next_rtcp: None,
            wall_clock: None,
        }
    }

    /// Sets where `side`'s far end said it receives RTP; RTCP goes to port + 1 until
    /// `set_remote_rtcp` says otherwise. A changed address drops both latches of the side.
    /// An unspecified IP (old-style hold) counts as "no address".
    pub fn set_remote(&mut self, side: Side, rtp: SocketAddr) {
        let rtcp = SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1));
        let state = &mut self.sides[side.index()];
        if state.rtp.signalled != Some(rtp) {
            state.rtp = Endpoint {
                signalled: Some(rtp),
                latched: None,
            };
            state.rtcp = Endpoint {
                signalled: Some(rtcp),
                latched: None,
            };
            self.counters.side(side).set_latched(None);
        }
    }

    /// Sets `side`'s RTCP address from an `a=rtcp` attribute (RFC 3605).
    pub fn set_remote_rtcp(&mut self, side: Side, rtcp: SocketAddr) {
        let endpoint = &mut self.sides[side.index()].rtcp;
        if endpoint.signalled != Some(rtcp) {
            *endpoint = Endpoint {
                signalled: Some(rtcp),
                latched: None,
            };
        }
    }

    /// Sets the direction Centrala negotiated toward `side` (the one in our SDP to that side).
    pub fn set_direction(&mut self, side: Side, direction: Direction) {
        self.sides[side.index()].direction = direction;
    }

    /// Where RTP toward `side` goes now: the latched address, else the signalled one.
    pub fn destination(&self, side: Side, channel: Channel) -> Option<SocketAddr> {
        let state = &self.sides[side.index()];
        let endpoint = match channel {
            Channel::Rtp => state.rtp,
            Channel::Rtcp => state.rtcp,
        };
        endpoint
            .latched
            .or(endpoint.signalled)
            .filter(|addr| !addr.ip().is_unspecified() && addr.port() != 0)
    }

    /// Decides about one datagram that arrived from `source` on `side`'s `channel` socket.
    /// The buffer may be rewritten in place by the pipeline.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        side: Side,
        channel: Channel,
        source: SocketAddr,
        packet: &mut [u8],
    ) -> Verdict {
        let verdict = self.decide(now, side, channel, source, packet);
        let ingress = self.counters.side(side);
        let egress = self.counters.side(side.other());
        match verdict {
            Verdict::Forward { len, .. } if channel == Channel::Rtp => {
                SideCounters::bump(&egress.packets_out);
                SideCounters::add(&egress.bytes_out, len);
            }
            Verdict::Forward { .. } => SideCounters::bump(&egress.rtcp_out),
            Verdict::Drop(DropReason::Malformed(_)) => SideCounters::bump(&ingress.dropped_bad),
            Verdict::Drop(DropReason::NoRemote) => SideCounters::bump(&ingress.dropped_no_remote),
            Verdict::Drop(DropReason::Direction) => SideCounters::bump(&ingress.dropped_direction),
            Verdict::Drop(DropReason::ForeignSource) => {
                SideCounters::bump(&ingress.dropped_foreign)
            }
            Verdict::Drop(DropReason::Consumed) => {}
        }
        verdict
    }

    /// Records that sending toward `side` failed in the shell.
    pub fn record_send_error(&self, side: Side) {
        SideCounters::bump(&self.counters.side(side).send_errors);
    }

    fn decide(
        &mut self,
        now: Instant,
        side: Side,
        channel: Channel,
        source: SocketAddr,
        packet: &mut [u8],
    ) -> Verdict {
        let ingress = self.counters.side(side);
        let header_len = match channel {
            Channel::Rtp => {
                SideCounters::bump(&ingress.packets_in);
                SideCounters::add(&ingress.bytes_in, packet.len());
                validate_rtp(packet)
            }
            Channel::Rtcp => {
                SideCounters::bump(&ingress.rtcp_in);
                validate_rtcp(packet).map(|()| 0)
            }
        };
        let header_len = match header_len {
            Ok(len) => len,
            Err(err) => return Verdict::Drop(DropReason::Malformed(err)),
        };
        if !self.latch(side, channel, source) {
            return Verdict::Drop(DropReason::ForeignSource);
        }
        let flows = self.sides[side.index()].direction.receives()
            && self.sides[side.other().index()].direction.sends();
        if channel == Channel::Rtcp {
            if self.terminates_rtcp() {
                self.sides[side.index()].received.on_rtcp(now, packet);
                return Verdict::Drop(DropReason::Consumed);
            }
            return match self.destination(side.other(), channel) {
                Some(to) => Verdict::Forward {
                    to,
                    len: packet.len(),
                },
                None => Verdict::Drop(DropReason::NoRemote),
            };
        }
        if !flows {
            return Verdict::Drop(DropReason::Direction);
        }
        self.account_rtp(now, side, packet);
        let Some(len) = self.pipelines[side.index()].process_rtp(now, packet, header_len) else {
            return Verdict::Drop(DropReason::Consumed);
        };
        match self.destination(side.other(), channel) {
            Some(to) => Verdict::Forward { to, len },
            None => Verdict::Drop(DropReason::NoRemote),
        }
    }

    /// Updates `side`'s receive statistics with a valid RTP packet and publishes them.
    fn account_rtp(&mut self, now: Instant, side: Side, packet: &[u8]) {
        let state = &mut self.sides[side.index()];
        let payload_type = packet[1] & 0x7f;
        let clock_rate = match state.leg {
            Some(leg) if leg.telephone_event == Some(payload_type) => 0,
            Some(leg) => leg.codec.rtp_clock_rate(),
            None => 8000,
        };
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let timestamp = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        state.received.on_rtp(now, ssrc, seq, timestamp, clock_rate);
        let jitter_us = u64::from(state.received.jitter()) * 1_000_000
            / u64::from(state.leg.map_or(8000, |l| l.codec.rtp_clock_rate()));
        self.counters.side(side).set_reception(
            state.received.expected(),
            state.received.lost(),
            jitter_us,
        );
    }

    /// Latches `side`'s `channel` to `source` if not latched; false if latched elsewhere.
    fn latch(&mut self, side: Side, channel: Channel, source: SocketAddr) -> bool {
        let state = &mut self.sides[side.index()];
        let endpoint = match channel {
            Channel::Rtp => &mut state.rtp,
            Channel::Rtcp => &mut state.rtcp,
        };
        match endpoint.latched {
            Some(latched) => latched == source,
            None => {
                endpoint.latched = Some(source);
                if channel == Channel::Rtp {
                    self.counters.side(side).set_latched(Some(source));
                    tracing::debug!(?side, "RTP latched");
                }
                true
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }
}

mod engine;

impl Default for RelayCore {
    fn default() -> Self {
        RelayCore::new()
    }
}

#[cfg(test)]
mod dtmf_clock_tests;
#[cfg(test)]
mod tests;

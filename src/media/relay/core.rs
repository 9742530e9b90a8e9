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

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::media::relay::Side;
use crate::media::relay::packet::{PacketError, validate_rtcp, validate_rtp};
use crate::media::relay::pipeline::Pipeline;
use crate::media::relay::stats::{Counters, SideCounters};
use crate::media::sdp::Direction;

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
}

#[derive(Debug, Default)]
struct SideState {
    rtp: Endpoint,
    rtcp: Endpoint,
    /// The direction Centrala wrote in its SDP toward this side: `sends()` = we forward toward
    /// this side, `receives()` = we accept what this side sends.
    direction: Direction,
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
        RelayCore::with_counters(Arc::default())
    }

    pub(crate) fn with_counters(counters: Arc<Counters>) -> RelayCore {
        RelayCore {
            sides: Default::default(),
            pipelines: Default::default(),
            counters,
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
        let from = &self.sides[side.index()];
        let to = &self.sides[side.other().index()];
        if channel == Channel::Rtp && !(from.direction.receives() && to.direction.sends()) {
            return Verdict::Drop(DropReason::Direction);
        }
        let Some(destination) = self.destination(side.other(), channel) else {
            return Verdict::Drop(DropReason::NoRemote);
        };
        let len = match channel {
            Channel::Rtp => match self.pipelines[side.index()].process_rtp(now, packet, header_len)
            {
                Some(len) => len,
                None => return Verdict::Drop(DropReason::Consumed),
            },
            Channel::Rtcp => packet.len(),
        };
        Verdict::Forward {
            to: destination,
            len,
        }
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

impl Default for RelayCore {
    fn default() -> Self {
        RelayCore::new()
    }
}

#[cfg(test)]
mod tests;

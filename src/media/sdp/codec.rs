//! The codecs Centrala negotiates, and reading the remote party's audio stream out of an SDP.
//!
//! Owns: the supported codec table (`SUPPORTED`: PCMU/8000 on 0, PCMA/8000 on 8, opus/48000/2
//! and telephone-event at 8000 and 48000 Hz on dynamic types), matching payload types against
//! it (static types without an rtpmap are understood, RFC 3551 table 4), `remote_audio`, and
//! which telephone-event goes with an audio codec: the one at the codec's RTP clock rate
//! (RFC 4733 section 2.1; `telephone-event/48000` with Opus, RFC 7587) whenever the peer offers
//! it, since the media engine reads and writes a leg's event timestamps and durations in its
//! audio clock.
//! Driven by: `media::sdp::negotiate` and the call layer.

use std::net::SocketAddr;

use crate::media::sdp::Direction;
use crate::media::sdp::media::MediaDescription;
use crate::media::sdp::session::SessionDescription;

/// A codec Centrala negotiates (relays, or transcodes through the media engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codec {
    /// The encoding name as registered (`PCMU`); matched case-insensitively.
    pub name: &'static str,
    /// The static payload type (RFC 3551), or `None` for a dynamic one.
    pub static_pt: Option<u8>,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The rtpmap channel count when not 1 (Opus is always `opus/48000/2`, RFC 7587).
    pub channels: Option<u8>,
}

impl Codec {
    /// G.711 µ-law.
    pub const PCMU: Codec = Codec {
        name: "PCMU",
        static_pt: Some(0),
        clock_rate: 8000,
        channels: None,
    };
    /// G.711 A-law.
    pub const PCMA: Codec = Codec {
        name: "PCMA",
        static_pt: Some(8),
        clock_rate: 8000,
        channels: None,
    };
    /// Opus (RFC 7587); Centrala decodes it mono.
    pub const OPUS: Codec = Codec {
        name: "opus",
        static_pt: None,
        clock_rate: 48000,
        channels: Some(2),
    };
    /// RFC 4733 DTMF events at the G.711 clock.
    pub const TELEPHONE_EVENT: Codec = Codec {
        name: "telephone-event",
        static_pt: None,
        clock_rate: 8000,
        channels: None,
    };
    /// RFC 4733 DTMF events at the Opus clock (RFC 7587 section 7 and WebRTC offers).
    pub const TELEPHONE_EVENT_48K: Codec = Codec {
        clock_rate: 48000,
        ..Codec::TELEPHONE_EVENT
    };

    /// Whether this is `telephone-event` (at any clock rate) rather than an audio codec.
    pub fn is_telephone_event(&self) -> bool {
        self.name == Codec::TELEPHONE_EVENT.name
    }

    /// The media engine's codec for this payload format (Opus is decoded at 8 kHz: its
    /// partner on a transcoded bridge is G.711; two Opus legs are relayed without decoding).
    pub fn engine_codec(&self) -> Option<crate::media::codec::Codec> {
        use crate::media::codec::Codec as Engine;
        match self.name {
            "PCMU" => Some(Engine::Pcmu),
            "PCMA" => Some(Engine::Pcma),
            "opus" => Some(Engine::Opus {
                rate: crate::media::resample::SampleRate::Hz8000,
            }),
            _ => None,
        }
    }
}

/// Every codec Centrala negotiates, in its own preference order.
pub const SUPPORTED: [Codec; 5] = [
    Codec::PCMU,
    Codec::PCMA,
    Codec::OPUS,
    Codec::TELEPHONE_EVENT,
    Codec::TELEPHONE_EVENT_48K,
];

/// The codec a negotiated SDP (an answer) settled on: its first audio payload and the
/// telephone-event payload type at that codec's clock rate, if any.
pub fn negotiated(sdp: &SessionDescription) -> Option<(Payload, Option<u8>)> {
    let index = audio_index(sdp)?;
    let payloads = supported_payloads(sdp.media.get(index)?);
    let audio = *payloads.iter().find(|p| !p.codec.is_telephone_event())?;
    let events = events_for(&payloads, audio.codec).map(|p| p.pt);
    Some((audio, events))
}

/// The telephone-event among `payloads` that goes with `audio`: the one at its clock rate,
/// else (a peer that offers events at one rate only, as some softphones do with Opus) the
/// first one.
pub(crate) fn events_for(payloads: &[Payload], audio: Codec) -> Option<Payload> {
    let mut events = payloads.iter().filter(|p| p.codec.is_telephone_event());
    events
        .clone()
        .find(|p| p.codec.clock_rate == audio.clock_rate)
        .or_else(|| events.next())
        .copied()
}

/// A supported codec bound to the payload type an SDP gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Payload {
    /// The payload type number.
    pub pt: u8,
    /// The codec.
    pub codec: Codec,
}

/// The audio stream of the remote party, as its SDP describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAudio {
    /// Where to send RTP. Its IP is unspecified (`0.0.0.0`) for an old-style hold.
    pub rtp: SocketAddr,
    /// Where to send RTCP: `a=rtcp` if given, else RTP port + 1.
    pub rtcp: SocketAddr,
    /// The supported audio codecs in the SDP's preference order (telephone-event excluded).
    pub codecs: Vec<Payload>,
    /// The telephone-event payload type at the clock rate of the first codec, when offered.
    pub telephone_event: Option<u8>,
    /// The direction from the remote party's point of view; an old-style hold (`c=0.0.0.0`)
    /// removes "receives".
    pub direction: Direction,
    /// `a=ptime`, when given.
    pub ptime: Option<u32>,
    /// The index of the stream among the SDP's media descriptions.
    pub index: usize,
}

/// The first usable audio stream of `sdp`: `m=audio` over `RTP/AVP` or `RTP/AVPF`, port not 0,
/// a connection address, and at least one supported audio codec. `None` otherwise.
pub fn remote_audio(sdp: &SessionDescription) -> Option<RemoteAudio> {
    let index = audio_index(sdp)?;
    let m = sdp.media.get(index)?;
    let connection = sdp.connection_for(index)?;
    let payloads = supported_payloads(m);
    let codecs: Vec<Payload> = payloads
        .iter()
        .copied()
        .filter(|p| !p.codec.is_telephone_event())
        .collect();
    let telephone_event = events_for(&payloads, codecs.first()?.codec).map(|p| p.pt);
    let rtp = SocketAddr::new(connection.address, m.port);
    let rtcp = match m.rtcp {
        Some(rtcp) => SocketAddr::new(rtcp.address.unwrap_or(connection.address), rtcp.port),
        None => SocketAddr::new(connection.address, m.port.wrapping_add(1)),
    };
    let direction = effective_direction(m.direction, connection.is_hold());
    Some(RemoteAudio {
        rtp,
        rtcp,
        codecs,
        telephone_event,
        direction,
        ptime: m.ptime,
        index,
    })
}

/// The index of the first audio stream we can anchor: plain RTP, port not 0, a supported audio
/// codec, and a connection address (its own or the session's).
pub(crate) fn audio_index(sdp: &SessionDescription) -> Option<usize> {
    sdp.media.iter().enumerate().position(|(index, m)| {
        m.kind == "audio"
            && m.port != 0
            && matches!(m.proto.as_str(), "RTP/AVP" | "RTP/AVPF")
            && sdp.connection_for(index).is_some()
            && supported_payloads(m)
                .iter()
                .any(|p| !p.codec.is_telephone_event())
    })
}

/// The formats of `m` that map to a supported codec, in `m`'s order.
pub(crate) fn supported_payloads(m: &MediaDescription) -> Vec<Payload> {
    m.formats.iter().filter_map(|&pt| payload(m, pt)).collect()
}

/// The direction that applies once an old-style hold address is taken into account.
pub(crate) fn effective_direction(direction: Direction, hold_address: bool) -> Direction {
    if hold_address {
        direction.intersect(Direction::SendOnly)
    } else {
        direction
    }
}

fn payload(m: &MediaDescription, pt: u8) -> Option<Payload> {
    let codec = match m.rtpmap(pt) {
        Some(map) => SUPPORTED.into_iter().find(|codec| {
            codec.name.eq_ignore_ascii_case(&map.encoding)
                && codec.clock_rate == map.clock_rate
                && map.channels.unwrap_or(1) == codec.channels.unwrap_or(1)
        })?,
        None => SUPPORTED
            .into_iter()
            .find(|codec| codec.static_pt == Some(pt))?,
    };
    Some(Payload { pt, codec })
}

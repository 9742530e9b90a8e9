//! RFC 3264 offer/answer for anchored media: the SDP Centrala sends on each leg.
//!
//! Owns: `OriginState` (one per leg: our `o=` line, RFC 3264 section 8) and the builders
//! `anchored_offer`, `anchored_answer` and `answer_locally`.
//! Must not touch: SIP, sockets. Payload type numbers are kept as leg A offered them, so the
//! relay can forward packets unchanged; B's answer must reuse them (RFC 3264 section 6.1).
//! Direction rules: an old-style hold (`c=0.0.0.0`) counts as "does not receive"; our offer to B
//! carries A's direction, our answer to A carries B's answer direction limited to the reverse
//! of A's offer. The direction Centrala writes toward a leg is the one to give
//! `media::relay::MediaSession::set_direction` for that side.
//! Driven by: the call layer (`calls`), on INVITE, re-INVITE and UPDATE.

use std::net::{IpAddr, SocketAddr};

use crate::media::sdp::codec::{
    Codec, Payload, SUPPORTED, audio_index, effective_direction, events_for, supported_payloads,
};
use crate::media::sdp::media::{MediaDescription, RtpMap};
use crate::media::sdp::session::{Connection, Origin, SessionDescription};

/// Our `o=` line toward one leg: the session id is fixed, the version goes up by one for every
/// SDP we build (RFC 3264 section 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginState {
    session_id: u64,
    version: u64,
}

impl OriginState {
    /// A fresh origin with a random session id.
    pub fn new() -> OriginState {
        // Keep it below 2^62 so every peer's parser takes it as a number.
        OriginState::with_session_id(rand::random::<u64>() >> 2)
    }

    /// An origin with a given session id (tests, or an id derived from the call).
    pub fn with_session_id(session_id: u64) -> OriginState {
        OriginState {
            session_id,
            version: session_id,
        }
    }

    /// The session id.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The version of the last SDP built (the session id before the first).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The origin of the next SDP: version bumped.
    pub fn next_origin(&mut self, address: IpAddr) -> Origin {
        self.version = self.version.wrapping_add(1);
        Origin::new("centrala", self.session_id, self.version, address)
    }
}

impl Default for OriginState {
    fn default() -> Self {
        OriginState::new()
    }
}

/// The offer Centrala sends to leg B for leg A's offer: A's first usable audio stream with the
/// supported codecs in A's order and A's payload types, then every other codec Centrala can
/// transcode to (so a callee without A's codecs can still answer), our address, A's direction
/// (an old-style hold becomes `sendonly`/`inactive`). `None` when A offered nothing we support
/// (answer 488).
pub fn anchored_offer(
    a_offer: &SessionDescription,
    local: SocketAddr,
    origin: &mut OriginState,
) -> Option<SessionDescription> {
    let index = audio_index(a_offer)?;
    let offered = a_offer.media.get(index)?;
    let hold = a_offer.connection_for(index)?.is_hold();
    let mut payloads = supported_payloads(offered);
    for codec in SUPPORTED {
        if !payloads.iter().any(|p| p.codec == codec) {
            let pt = free_payload_type(codec, &payloads)?;
            payloads.push(Payload { pt, codec });
        }
    }
    let mut audio = anchored_media(offered, &payloads, local, "RTP/AVP");
    audio.direction = effective_direction(offered.direction, hold);
    Some(session(origin, local, vec![audio]))
}

/// The codec's static payload type if free, else the first free dynamic one (96-127).
fn free_payload_type(codec: Codec, used: &[Payload]) -> Option<u8> {
    let taken = |pt: u8| used.iter().any(|p| p.pt == pt);
    match codec.static_pt {
        Some(pt) if !taken(pt) => Some(pt),
        _ => (96..=127).find(|&pt| !taken(pt)),
    }
}

/// The answer Centrala sends to leg A from leg B's answer to our `anchored_offer`: B's chosen
/// codec when A offered it too (relayed unchanged), else A's first supported codec (the media
/// engine transcodes), plus A's telephone-event at that codec's clock rate; our address, B's direction limited to the
/// reverse of A's, and A's other streams rejected (RFC 3264 section 6). `None` when B
/// rejected the audio or chose no codec we know.
pub fn anchored_answer(
    b_answer: &SessionDescription,
    a_offer: &SessionDescription,
    local: SocketAddr,
    origin: &mut OriginState,
) -> Option<SessionDescription> {
    let a_index = audio_index(a_offer)?;
    let offered = a_offer.media.get(a_index)?;
    let a_hold = a_offer.connection_for(a_index)?.is_hold();
    let b_index = b_answer.media.iter().position(|m| m.kind == "audio")?;
    let answered = b_answer.media.get(b_index).filter(|m| m.port != 0)?;
    let b_hold = b_answer
        .connection_for(b_index)
        .is_some_and(|c| c.is_hold());
    let a_payloads = supported_payloads(offered);
    let b_audio = supported_payloads(answered)
        .into_iter()
        .find(|p| !p.codec.is_telephone_event())?;
    let a_audio = a_payloads
        .iter()
        .find(|p| p.codec == b_audio.codec)
        .or_else(|| a_payloads.iter().find(|p| !p.codec.is_telephone_event()))?;
    let mut chosen = vec![*a_audio];
    chosen.extend(events_for(&a_payloads, a_audio.codec));
    let mut audio = anchored_media(offered, &chosen, local, &offered.proto);
    let a_direction = effective_direction(offered.direction, a_hold);
    audio.direction =
        effective_direction(answered.direction, b_hold).intersect(a_direction.reversed());
    Some(session(
        origin,
        local,
        answer_media(a_offer, a_index, audio),
    ))
}

/// Centrala's own answer when it terminates the media (IVR, a hold answer): the first supported
/// audio codec in the offer's order, plus telephone-event at its clock rate if offered, the reverse of the offer's
/// direction, other streams rejected. `None` when nothing is supported (answer 488).
pub fn answer_locally(
    offer: &SessionDescription,
    local: SocketAddr,
    origin: &mut OriginState,
) -> Option<SessionDescription> {
    let index = audio_index(offer)?;
    let offered = offer.media.get(index)?;
    let hold = offer.connection_for(index)?.is_hold();
    let payloads = supported_payloads(offered);
    let audio_codec = payloads.iter().find(|p| !p.codec.is_telephone_event())?;
    let mut chosen = vec![*audio_codec];
    chosen.extend(events_for(&payloads, audio_codec.codec));
    let mut audio = anchored_media(offered, &chosen, local, &offered.proto);
    audio.direction = effective_direction(offered.direction, hold).reversed();
    Some(session(origin, local, answer_media(offer, index, audio)))
}

/// A fresh SDP of ours with the session-level `c=` set to our address.
fn session(
    origin: &mut OriginState,
    local: SocketAddr,
    media: Vec<MediaDescription>,
) -> SessionDescription {
    SessionDescription {
        origin: origin.next_origin(local.ip()),
        session_name: "Centrala".to_owned(),
        connection: Some(Connection {
            address: local.ip(),
        }),
        direction: None,
        other: vec!["t=0 0".to_owned()],
        media,
    }
}

/// Our audio section for `payloads`, with rtpmaps, the source's fmtp of those payload types and
/// its ptime. Direction is left for the caller to set.
fn anchored_media(
    source: &MediaDescription,
    payloads: &[Payload],
    local: SocketAddr,
    proto: &str,
) -> MediaDescription {
    let formats = payloads.iter().map(|p| p.pt).collect();
    let mut m = MediaDescription::new("audio", local.port(), proto, formats);
    for p in payloads {
        m.rtpmaps.push(RtpMap {
            pt: p.pt,
            encoding: p.codec.name.to_owned(),
            clock_rate: p.codec.clock_rate,
            channels: p.codec.channels,
        });
        if let Some(params) = source.fmtp(p.pt) {
            m.fmtps.push((p.pt, params.to_owned()));
        }
    }
    m.ptime = source.ptime;
    m
}

/// The media list of an answer: `audio` in place of the offer's stream `index`, every other
/// offered stream rejected (an answer has as many `m=` lines as its offer).
fn answer_media(
    offer: &SessionDescription,
    index: usize,
    audio: MediaDescription,
) -> Vec<MediaDescription> {
    let mut media: Vec<MediaDescription> =
        offer.media.iter().map(MediaDescription::rejected).collect();
    if let Some(slot) = media.get_mut(index) {
        *slot = audio;
    }
    media
}

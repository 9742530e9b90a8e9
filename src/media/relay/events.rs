//! What the call's logic is told about its media, and how it describes a leg's codec.
//!
//! Owns: [`MediaEvent`] (queued by `RelayCore`, delivered by the session task on the channel
//! from `MediaSession::events`), [`DtmfSource`] and [`LegCodec`].
//! Driven by: `RelayCore` (producer) and `calls` (consumer).

use crate::media::codec::Codec;
use crate::media::dtmf::DtmfDigit;
use crate::media::relay::Side;

/// Something the media of a call did that the call's logic acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// A DTMF digit from `side`: one event per key press, whichever way it came.
    Dtmf {
        /// Who pressed it.
        side: Side,
        /// The key.
        digit: DtmfDigit,
        /// How it reached Centrala.
        source: DtmfSource,
    },
    /// A (non-looped) playback toward `side` played to its end. Not sent for `stop_playback`
    /// or a playback replaced by another.
    PlaybackFinished {
        /// Who heard it.
        side: Side,
    },
    /// `side` has been silent for the time given to `MediaSession::watch_silence` (sent
    /// once; the watch then ends).
    Silence {
        /// Who went quiet.
        side: Side,
    },
}

/// How a DTMF digit reached Centrala.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfSource {
    /// RTP telephone-events (RFC 4733).
    Rfc4733,
    /// Tones in the audio, found by the Goertzel detector.
    Inband,
    /// A SIP INFO request (parsed by the call layer with `media::dtmf::info::parse_info`).
    Info,
}

/// What a leg negotiated: its audio codec and payload type, and its telephone-event payload
/// type if it accepted RFC 4733.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegCodec {
    /// The audio codec.
    pub codec: Codec,
    /// Its RTP payload type on this leg.
    pub payload_type: u8,
    /// The `telephone-event` payload type on this leg, if negotiated. Its clock rate is the
    /// audio codec's RTP clock (`media::sdp` only negotiates the event stream at that rate:
    /// `telephone-event/48000` with Opus), and event timestamps and durations are read and
    /// written in it.
    pub telephone_event: Option<u8>,
}

impl LegCodec {
    /// G.711 µ-law on payload type 0 with telephone-events on 101: the usual SIP trunk leg.
    pub fn pcmu() -> LegCodec {
        LegCodec {
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
        }
    }

    /// Whether relayed packets can pass without decoding (same codec; payload type numbers
    /// may differ and are rewritten).
    pub fn relays_to(&self, other: &LegCodec) -> bool {
        self.codec == other.codec
    }
}

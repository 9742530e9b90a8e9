//! SDP (RFC 4566) parsing and printing, and the RFC 3264 offer/answer rules Centrala applies
//! when it anchors a call's media.
//!
//! Owns: the `SessionDescription` model (typed where Centrala needs it: origin, connection,
//! media lines, rtpmap/fmtp, direction, rtcp, ptime; every other line kept verbatim), the
//! supported codec table, and the three SDP builders: `anchored_offer` (leg A's offer rewritten
//! for leg B), `anchored_answer` (leg B's answer rewritten for leg A) and `answer_locally`
//! (Centrala terminates the media itself: IVR, hold answers).
//! Must not touch: sockets, clocks, SIP messages; the call layer moves SDP bodies in and out of
//! SIP and feeds the resulting addresses to `media::relay`.
//! Driven by: `calls` (one `OriginState` per leg).
//!
//! Printing is canonical, not byte-exact: media attributes come out in a fixed order (rtcp,
//! each rtpmap followed by its fmtp, the other attributes, ptime, direction), so
//! `parse(print(parse(x))) == parse(x)`, and an SDP already in that order prints back unchanged.
//! Only the first usable audio stream is anchored; other streams (video, T.38, a second audio)
//! are rejected with port 0 in our answers. SRTP (`RTP/SAVP`) is not supported yet.

mod codec;
mod media;
mod negotiate;
mod session;

pub use codec::{Codec, Payload, RemoteAudio, SUPPORTED, negotiated, remote_audio};
pub use media::{MediaDescription, Rtcp, RtpMap};
pub use negotiate::{OriginState, anchored_answer, anchored_offer, answer_locally};
pub use session::{Connection, Origin, SessionDescription};

/// An SDP body Centrala cannot use. The peer is at fault: the call layer answers 400 (or 488
/// when the SDP parsed but holds nothing we support, which the builders report as `None`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// A line is not of the form `<type>=<value>` or its value is malformed.
    #[error("SDP line {line}: invalid {what}")]
    Invalid {
        /// 1-based line number.
        line: usize,
        /// What was being parsed (`"origin"`, `"m= line"`, ...).
        what: &'static str,
    },
    /// A mandatory line (`v=`, `o=`, `s=`) is missing.
    #[error("SDP: missing {0}= line")]
    Missing(char),
    /// `v=` is not 0.
    #[error("SDP: unsupported version")]
    Version,
}

/// The media direction attribute (RFC 3264 section 5.1), from the point of view of the party
/// that wrote the SDP. Without an attribute a stream is `SendRecv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`: sends and receives.
    #[default]
    SendRecv,
    /// `a=sendonly`: sends, does not want to receive (placing a call on hold).
    SendOnly,
    /// `a=recvonly`: receives, does not send (answering a hold).
    RecvOnly,
    /// `a=inactive`: neither.
    Inactive,
}

impl Direction {
    /// The direction with the given send and receive abilities.
    pub fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// Whether the writer sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the writer receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other end: sendonly <-> recvonly.
    pub fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// Only what both allow.
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// The attribute name (`sendrecv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Parses an attribute name; `None` if it is not a direction.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;

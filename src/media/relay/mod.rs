//! The anchored RTP relay: the fast path of a bridged call, where both legs share a codec and
//! packets go from one leg to the other without decoding.
//!
//! ```text
//!   caller ──RTP/RTCP──▶ side A sockets ─┐              ┌─ side B sockets ──RTP/RTCP──▶ callee
//!          ◀──────────── (our port pair) │  RelayCore   │  (our port pair) ◀────────────
//!                                        └─ Pipeline ───┘
//! ```
//!
//! Owns: per session, two RTP/RTCP port pairs (one toward each leg), the remote addresses the
//! SDPs gave, the symmetric-RTP latches (RFC 4961: we send to where a leg's packets come from),
//! the per-side directions, one `Pipeline` per direction of flow, and the statistics.
//! Must not touch: SDP text or SIP (the call layer reads `media::sdp` and calls `set_remote` /
//! `set_direction`), codecs (a later stage of the `Pipeline`).
//! Driven by: `calls`, which opens one `MediaSession` per bridged call.
//!
//! Layout: `packet` validates RTP/RTCP headers (written here rather than with `rtp-rs`: the
//! relay only needs the version, the header length with CSRCs and extension, and the padding
//! check, on a borrowed buffer, with no allocation); `core::RelayCore` is the sans-IO
//! per-packet decision (validate, latch, direction, destination, pipeline); `session` is the
//! tokio task (one per session, polling its four sockets and its command channel with one
//! reusable buffer) and the `MediaSession` handle; `stats` holds the atomic counters.

mod core;
mod events;
mod outbox;
mod packet;
mod pipeline;
pub mod rtcp;
mod rtp_out;
mod session;
mod stats;

pub use self::core::{Channel, DropReason, RelayCore, Verdict};
pub use events::{DtmfSource, LegCodec, MediaEvent};
pub use packet::{PacketError, validate_rtcp, validate_rtp};
pub use pipeline::Pipeline;
pub use session::MediaSession;
pub use stats::{SessionStats, SideStats};

/// Both sides, in index order.
pub(crate) const SIDES: [Side; 2] = [Side::A, Side::B];

/// One leg of an anchored call, as seen from Centrala.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Toward the caller.
    A,
    /// Toward the callee.
    B,
}

impl Side {
    /// The other leg.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// 0 for A, 1 for B: the index into per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
}

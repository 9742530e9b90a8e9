//! Errors of the media shells: port allocation and the relay task.
//!
//! Owns: `MediaError`. The SDP core has its own `sdp::SdpError`.
//! Mapping: `PortsExhausted` is our capacity limit (the call layer answers 503); `Io` is a local
//! socket failure (logged, answered 500).

use std::io;

/// Failure to set up or run a media session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Every RTP/RTCP port pair of the configured range is in use or cannot be bound.
    #[error("no free RTP port pair in {min}-{max}")]
    PortsExhausted {
        /// Lowest port of the range.
        min: u16,
        /// Highest port of the range.
        max: u16,
    },
    /// A local socket operation failed.
    #[error("media socket: {0}")]
    Io(#[from] io::Error),
}

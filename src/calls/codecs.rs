//! Telling the media session which codec each leg negotiated: equal codecs are relayed
//! packet by packet, different ones transcoded by the media engine.

use crate::media::relay::{LegCodec, MediaSession, Side};
use crate::media::sdp::{SessionDescription, negotiated};

/// Sets the codec of `side` from the SDP answer that settled it (ours toward the caller, the
/// callee's toward us).
pub(super) fn apply(media: &MediaSession, side: Side, answer: &SessionDescription) {
    let Some((payload, telephone_event)) = negotiated(answer) else {
        return;
    };
    let Some(codec) = payload.codec.engine_codec() else {
        return;
    };
    tracing::debug!(
        ?side,
        codec = payload.codec.name,
        pt = payload.pt,
        "leg codec"
    );
    media.set_codec(
        side,
        LegCodec {
            codec,
            payload_type: payload.pt,
            telephone_event,
        },
    );
}

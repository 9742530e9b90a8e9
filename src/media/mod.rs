//! Media: SDP offer/answer, the RTP port pool, the anchored RTP relay, and the cores of the
//! media engine (codecs, resampling, tones, DTMF, WAV, jitter buffer, mixer).
//!
//! Owns: everything that touches RTP and audio samples. `sdp` (core) decides what each leg is
//! told; `relay` (core + per-call task) moves packets between the legs; `ports` hands out RTP
//! ports. The engine cores are sans-IO and allocation-free per 20 ms frame.
//! Must not touch: SIP signalling (the call layer passes SDP bodies and addresses in).
//!
//! The cores are wired into the per-call session (`relay`): transcoding, `player` (prompts,
//! tones, music on hold), `recorder` (stereo WAV, repair), DTMF events, `silence` detection, RTCP. TODO: the
//! conference `mixer` across sessions (see the mixer hook in `relay::core::engine`).

pub mod codec;
pub mod dtmf;
mod error;
pub mod jitter;
pub mod mixer;
pub mod player;
pub mod ports;
pub mod recorder;
pub mod relay;
pub mod resample;
pub mod sdp;
pub mod silence;
pub mod tone;
pub mod wav;

pub use error::MediaError;

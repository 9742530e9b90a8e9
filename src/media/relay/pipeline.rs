//! What happens to the RTP of one direction of flow between receipt and sending.
//!
//! Owns: the per-direction processing state. Today a pipeline only forwards; this is where the
//! media engine will add stages (SSRC/sequence rewriting across re-INVITEs, decoding for
//! recording and spy, in-band DTMF detection, prompts replacing the far side's audio, mixing).
//! Must not touch: sockets, addresses, latching (those are `RelayCore`'s).
//! Driven by: `media::relay::core::RelayCore`, once per valid packet, in place.

use std::time::Instant;

/// The processing of one direction of flow (A to B, or B to A).
#[derive(Debug, Default)]
pub struct Pipeline {
    mode: Mode,
    forwarded: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Relay packets unchanged (both legs share the codec, nothing listens in).
    #[default]
    Forward,
}

impl Pipeline {
    /// A pipeline that forwards every packet unchanged.
    pub fn forward() -> Pipeline {
        Pipeline::default()
    }

    /// Processes a valid RTP packet in place (`header_len` is its payload offset). Returns how
    /// many bytes of `packet` to send, or `None` to send nothing (a later stage may consume the
    /// packet, e.g. when a prompt replaces the far side's audio).
    pub fn process_rtp(
        &mut self,
        _now: Instant,
        packet: &mut [u8],
        _header_len: usize,
    ) -> Option<usize> {
        match self.mode {
            Mode::Forward => {
                self.forwarded += 1;
                Some(packet.len())
            }
        }
    }

    /// How many packets this pipeline has passed on.
    pub fn forwarded(&self) -> u64 {
        self.forwarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_passes_packets_unchanged() {
        let mut pipeline = Pipeline::forward();
        let mut packet = [0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 42];
        assert_eq!(
            pipeline.process_rtp(Instant::now(), &mut packet, 12),
            Some(13)
        );
        assert_eq!(packet[12], 42);
        assert_eq!(pipeline.forwarded(), 1);
    }
}

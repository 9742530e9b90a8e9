//! Packets the core generated (transcoded audio, playback, DTMF, RTCP reports) waiting for the
//! shell to send them.
//!
//! Owns: one reusable byte buffer and the list of packets in it. Allocation-free once warm:
//! both are cleared, not freed, when the shell has drained them.
//! Driven by: `RelayCore` (push on each tick), the session task (`RelayCore::poll_transmit`).

use crate::media::relay::Side;
use crate::media::relay::core::Channel;

#[derive(Debug, Default)]
pub(crate) struct Outbox {
    bytes: Vec<u8>,
    items: Vec<(Side, Channel, usize, usize)>,
    next: usize,
}

impl Outbox {
    pub(crate) fn push(&mut self, side: Side, channel: Channel, packet: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(packet);
        self.items.push((side, channel, start, packet.len()));
    }

    /// The oldest packet not yet taken: its side, channel and bytes.
    pub(crate) fn pop(&mut self) -> Option<(Side, Channel, &[u8])> {
        let Some(&(side, channel, start, len)) = self.items.get(self.next) else {
            self.items.clear();
            self.bytes.clear();
            self.next = 0;
            return None;
        };
        self.next += 1;
        Some((side, channel, &self.bytes[start..start + len]))
    }
}

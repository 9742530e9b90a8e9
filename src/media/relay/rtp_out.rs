//! The RTP stream Centrala sends toward one side: one SSRC, continuous sequence numbers and
//! timestamps whatever the source (relayed packets, a prompt, music on hold, transcoded audio,
//! telephone-events), and the marker bit on every change of source.
//!
//! Owns: the outgoing SSRC/sequence/timestamp state of one side and the SR counters.
//! Must not touch: sockets, clocks (callers pass `now`), payloads.
//! Driven by: the `Pipeline` whose egress is this side: `relay` for every forwarded packet,
//! `next_header` for every packet Centrala generates.
//!
//! Until Centrala generates a packet, relayed packets pass unchanged (only their SSRC,
//! sequence and timestamp are noted: three loads). The first generated packet continues that
//! stream (same SSRC, next sequence number, timestamp advanced by the time elapsed), so the
//! phone sees one stream that changes content. From then on relayed packets are rewritten
//! (offsets fixed at each change of source), so the stream stays continuous both ways.

use std::time::Instant;

/// Who produced the packets of the stream lately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Relayed packets, unchanged; Centrala never generated anything toward this side.
    Untouched,
    /// Relayed packets from `ssrc`, rewritten by the offsets.
    Relay {
        ssrc: u32,
        seq_offset: u16,
        ts_offset: u32,
    },
    /// Packets Centrala builds.
    Generated,
}

/// The outgoing RTP stream toward one side.
#[derive(Debug, Clone)]
pub(crate) struct OutStream {
    source: Source,
    ssrc: u32,
    /// The last sequence number and timestamp sent.
    seq: u16,
    timestamp: u32,
    last_sent: Option<Instant>,
    clock_rate: u32,
    /// SR counters (wrap like the wire fields).
    pub(crate) packets: u32,
    pub(crate) octets: u32,
}

impl OutStream {
    /// A stream whose SSRC (if Centrala generates first) is `ssrc`.
    pub(crate) fn new(ssrc: u32) -> OutStream {
        OutStream {
            source: Source::Untouched,
            ssrc,
            seq: ssrc as u16,
            timestamp: ssrc.rotate_left(16),
            last_sent: None,
            clock_rate: 8000,
            packets: 0,
            octets: 0,
        }
    }

    /// Sets the RTP clock of what this side receives (from its codec).
    pub(crate) fn set_clock_rate(&mut self, clock_rate: u32) {
        self.clock_rate = clock_rate.max(1);
    }

    /// Our SSRC toward this side (the relayed one until Centrala first generated a packet).
    pub(crate) fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The timestamp of the last packet sent.
    pub(crate) fn timestamp(&self) -> u32 {
        self.timestamp
    }

    /// Passes a relayed, valid RTP packet (header at least 12 bytes), rewriting it when the
    /// stream was taken over before; `payload_type` replaces the packet's when given.
    pub(crate) fn relay(&mut self, now: Instant, packet: &mut [u8], payload_type: Option<u8>) {
        let ssrc = read_u32(packet, 8);
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let timestamp = read_u32(packet, 4);
        if let Some(pt) = payload_type {
            packet[1] = (packet[1] & 0x80) | (pt & 0x7f);
        }
        match self.source {
            Source::Untouched => {
                self.ssrc = ssrc;
                self.seq = seq;
                self.timestamp = timestamp;
            }
            Source::Relay {
                ssrc: from,
                seq_offset,
                ts_offset,
            } if from == ssrc => {
                self.seq = seq.wrapping_add(seq_offset);
                self.timestamp = timestamp.wrapping_add(ts_offset);
                write_rewrite(packet, self.seq, self.timestamp, self.ssrc);
            }
            _ => {
                // A change of source: continue our stream from here, with the marker.
                let out_seq = self.seq.wrapping_add(1);
                let out_ts = self.timestamp_after_gap(now);
                self.source = Source::Relay {
                    ssrc,
                    seq_offset: out_seq.wrapping_sub(seq),
                    ts_offset: out_ts.wrapping_sub(timestamp),
                };
                self.seq = out_seq;
                self.timestamp = out_ts;
                write_rewrite(packet, out_seq, out_ts, self.ssrc);
                packet[1] |= 0x80;
            }
        }
        self.count(now, packet.len().saturating_sub(12));
    }

    /// Writes the 12-byte header of a generated packet into `out` and returns it: the next
    /// sequence number, the timestamp `step` units after the previous packet (or after the
    /// elapsed time when the previous packet was relayed), the marker on a change of source or
    /// when `marker` asks. `fixed_timestamp` is for telephone-events (one timestamp per event).
    pub(crate) fn next_header(
        &mut self,
        now: Instant,
        out: &mut [u8; 12],
        payload_type: u8,
        step: u32,
        marker: bool,
        fixed_timestamp: Option<u32>,
    ) {
        let switched = self.source != Source::Generated;
        let timestamp = if switched {
            self.timestamp_after_gap(now)
        } else {
            self.timestamp.wrapping_add(step)
        };
        self.source = Source::Generated;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = timestamp;
        out[0] = 0x80;
        out[1] = (u8::from(switched || marker) << 7) | (payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.seq.to_be_bytes());
        out[4..8].copy_from_slice(&fixed_timestamp.unwrap_or(timestamp).to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
    }

    /// Advances the timestamp by `step` without sending (a frame with nothing to send while
    /// Centrala generates the stream).
    pub(crate) fn skip(&mut self, step: u32) {
        if self.source == Source::Generated {
            self.timestamp = self.timestamp.wrapping_add(step);
        }
    }

    /// Counts a sent packet of `payload_len` bytes for the SR.
    pub(crate) fn count(&mut self, now: Instant, payload_len: usize) {
        self.last_sent = Some(now);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
    }

    /// The timestamp `now` maps to: the previous one plus the time since it was sent (at least
    /// one unit, so a timestamp never repeats across a change of source).
    fn timestamp_after_gap(&self, now: Instant) -> u32 {
        let elapsed = self.last_sent.map_or(0, |at| {
            let micros = now.saturating_duration_since(at).as_micros();
            (micros * u128::from(self.clock_rate) / 1_000_000).min(u128::from(u32::MAX)) as u32
        });
        self.timestamp.wrapping_add(elapsed.max(1))
    }
}

fn read_u32(packet: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([packet[at], packet[at + 1], packet[at + 2], packet[at + 3]])
}

fn write_rewrite(packet: &mut [u8], seq: u16, timestamp: u32, ssrc: u32) {
    packet[2..4].copy_from_slice(&seq.to_be_bytes());
    packet[4..8].copy_from_slice(&timestamp.to_be_bytes());
    packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn packet(ssrc: u32, seq: u16, ts: u32) -> Vec<u8> {
        let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xd5, 0xd5];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p[4..8].copy_from_slice(&ts.to_be_bytes());
        p[8..12].copy_from_slice(&ssrc.to_be_bytes());
        p
    }

    fn fields(p: &[u8]) -> (bool, u16, u32, u32) {
        (
            p[1] & 0x80 != 0,
            u16::from_be_bytes([p[2], p[3]]),
            read_u32(p, 4),
            read_u32(p, 8),
        )
    }

    #[test]
    fn untouched_stream_passes_packets_unchanged() {
        let mut out = OutStream::new(7);
        let now = Instant::now();
        let mut p = packet(0xabcd, 100, 16000);
        out.relay(now, &mut p, None);
        assert_eq!(p, packet(0xabcd, 100, 16000));
    }

    #[test]
    fn generated_packets_continue_the_relayed_stream_and_relay_resumes_with_a_marker() {
        let mut out = OutStream::new(7);
        let t0 = Instant::now();
        out.relay(t0, &mut packet(0xabcd, 100, 16000), None);
        let mut header = [0u8; 12];
        let t1 = t0 + Duration::from_millis(20);
        out.next_header(t1, &mut header, 0, 160, false, None);
        out.count(t1, 160);
        assert_eq!(fields(&header), (true, 101, 16160, 0xabcd));
        let t1b = t1 + Duration::from_millis(20);
        out.next_header(t1b, &mut header, 0, 160, false, None);
        out.count(t1b, 160);
        assert_eq!(fields(&header), (false, 102, 16320, 0xabcd));
        // The far side's packets come back, from another source, 40 ms later.
        let t2 = t1 + Duration::from_millis(60);
        let mut p = packet(0x5555, 9000, 1_000_000);
        out.relay(t2, &mut p, None);
        assert_eq!(fields(&p), (true, 103, 16320 + 320, 0xabcd));
        let mut p = packet(0x5555, 9001, 1_000_160);
        out.relay(t2 + Duration::from_millis(20), &mut p, Some(8));
        assert_eq!(fields(&p), (false, 104, 16320 + 480, 0xabcd));
        assert_eq!(p[1] & 0x7f, 8);
        assert_eq!(out.packets, 5);
    }
}

//! RTCP for a terminated leg (RFC 3550 section 6): receive statistics of one incoming RTP
//! stream, sender/receiver report building, and the MOS estimate.
//!
//! Owns: [`ReceiveStats`] (sequence tracking after appendix A.1, interarrival jitter after
//! appendix A.8 in its integer form, the interval counters behind "fraction lost", and the
//! middle bits of the peer's last SR for LSR/DLSR), [`write_report`] and [`mos`].
//! Must not touch: sockets, clocks (callers pass `now`), which side a packet came from.
//! Driven by: `RelayCore`, per received RTP packet (`on_rtp`, a handful of integer operations)
//! and every ~5 s on the decode path (`report_block`, `write_report`).

use std::time::{Duration, Instant};

/// A sequence jump larger than this (forward) is taken as a restarted source (RFC 3550 A.1).
const MAX_DROPOUT: u16 = 3000;
/// A sequence this far behind the highest is a late or duplicated packet (RFC 3550 A.1).
const MAX_MISORDER: u16 = 100;

/// The statistics of one incoming RTP stream (one SSRC at a time; a new SSRC starts over).
#[derive(Debug, Clone, Default)]
pub struct ReceiveStats {
    ssrc: Option<u32>,
    base_seq: u32,
    max_seq: u16,
    /// Count of sequence wraps, shifted (RFC 3550 A.1 `cycles`).
    cycles: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter times 16, in timestamp units (RFC 3550 A.8).
    jitter16: u64,
    /// Previous relative transit time, in timestamp units.
    transit: Option<i64>,
    epoch: Option<Instant>,
    /// Middle 32 bits of the NTP time of the peer's last SR, and when it arrived.
    last_sr: Option<(u32, Instant)>,
}

/// One RTCP report block (RFC 3550 section 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block is about.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed on the wire; clamped).
    pub cumulative_lost: u32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter, timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP time (0 if none).
    pub lsr: u32,
    /// Delay since that SR, in 1/65536 s (0 if none).
    pub dlsr: u32,
}

/// The sender part of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low 32).
    pub ntp: u64,
    /// RTP timestamp matching `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packets: u32,
    /// Payload octets sent.
    pub octets: u32,
}

impl ReceiveStats {
    /// Accounts one RTP packet that arrived at `now`. `clock_rate` 0 skips the jitter update
    /// (unknown codec, or telephone-event packets whose timestamp stays fixed).
    pub fn on_rtp(&mut self, now: Instant, ssrc: u32, seq: u16, timestamp: u32, clock_rate: u32) {
        if self.ssrc != Some(ssrc) {
            *self = ReceiveStats {
                ssrc: Some(ssrc),
                epoch: Some(self.epoch.unwrap_or(now)),
                last_sr: self.last_sr,
                ..ReceiveStats::default()
            };
            self.restart(seq);
        } else {
            let delta = seq.wrapping_sub(self.max_seq);
            if delta < MAX_DROPOUT {
                if seq < self.max_seq {
                    self.cycles = self.cycles.wrapping_add(1 << 16);
                }
                self.max_seq = seq;
            } else if delta <= u16::MAX - MAX_MISORDER {
                // A jump too large to be loss: the sender restarted its sequence.
                self.restart(seq);
            }
        }
        self.received += 1;
        if clock_rate > 0 {
            self.update_jitter(now, timestamp, clock_rate);
        }
    }

    /// Remembers the peer's SR (an RTCP packet of type 200) for LSR/DLSR.
    pub fn on_rtcp(&mut self, now: Instant, packet: &[u8]) {
        if let Some(ntp_mid) = packet.get(10..14).filter(|_| packet.get(1) == Some(&200)) {
            let mid = u32::from_be_bytes([ntp_mid[0], ntp_mid[1], ntp_mid[2], ntp_mid[3]]);
            self.last_sr = Some((mid, now));
        }
    }

    /// The SSRC of the stream, once a packet arrived.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Packets received.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets expected from the sequence numbers seen.
    pub fn expected(&self) -> u64 {
        if self.ssrc.is_none() {
            return 0;
        }
        u64::from(self.extended_max()).saturating_sub(u64::from(self.base_seq)) + 1
    }

    /// Packets lost (expected minus received; duplicates can make it read low, never below 0).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        (self.jitter16 >> 4).min(u64::from(u32::MAX)) as u32
    }

    /// A report block about this stream, and the start of a new reporting interval.
    pub fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        let ssrc = self.ssrc?;
        let expected = self.expected();
        let interval_expected = expected.saturating_sub(self.expected_prior);
        let interval_received = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let interval_lost = interval_expected.saturating_sub(interval_received);
        let fraction_lost = (interval_lost << 8)
            .checked_div(interval_expected)
            .map_or(0, |f| f.min(255) as u8);
        let (lsr, dlsr) = self.last_sr.map_or((0, 0), |(mid, at)| {
            let delay = now.saturating_duration_since(at);
            (
                mid,
                (delay.as_micros() * 65536 / 1_000_000).min(u128::from(u32::MAX)) as u32,
            )
        });
        Some(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.lost().min(0x7f_ffff) as u32,
            highest_seq: self.extended_max(),
            jitter: self.jitter(),
            lsr,
            dlsr,
        })
    }

    fn restart(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.cycles = 0;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
        self.transit = None;
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn update_jitter(&mut self, now: Instant, timestamp: u32, clock_rate: u32) {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival =
            now.saturating_duration_since(epoch).as_micros() * u128::from(clock_rate) / 1_000_000;
        // Both sides wrap at 32 bits; the difference of two transits stays small.
        let transit = i64::from((arrival as u32).wrapping_sub(timestamp) as i32);
        if let Some(previous) = self.transit {
            let d = transit.wrapping_sub(previous).unsigned_abs();
            // J += (|D| - J) / 16, kept times 16 (RFC 3550 A.8).
            self.jitter16 = self.jitter16 + d - ((self.jitter16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }
}

/// Writes an RTCP compound packet into `out`: an SR (when `sender` is given) or an RR from
/// `ssrc` with at most one report block, then an SDES with CNAME `cname`. Returns its length,
/// or 0 if `out` is too small (never for 128 bytes and a short CNAME).
pub fn write_report(
    out: &mut [u8],
    ssrc: u32,
    sender: Option<SenderInfo>,
    block: Option<ReportBlock>,
    cname: &str,
) -> usize {
    let cname = &cname.as_bytes()[..cname.len().min(64)];
    let report_len =
        8 + if sender.is_some() { 20 } else { 0 } + if block.is_some() { 24 } else { 0 };
    // SDES: header, SSRC, CNAME item (type, length, text), end item, padded to 32 bits.
    let sdes_len = (8 + 2 + cname.len() + 1).div_ceil(4) * 4;
    if out.len() < report_len + sdes_len {
        return 0;
    }
    out[..report_len + sdes_len].fill(0);
    out[0] = 0x80 | u8::from(block.is_some());
    out[1] = if sender.is_some() { 200 } else { 201 };
    out[2..4].copy_from_slice(&((report_len / 4 - 1) as u16).to_be_bytes());
    out[4..8].copy_from_slice(&ssrc.to_be_bytes());
    let mut at = 8;
    if let Some(s) = sender {
        out[8..16].copy_from_slice(&s.ntp.to_be_bytes());
        out[16..20].copy_from_slice(&s.rtp_timestamp.to_be_bytes());
        out[20..24].copy_from_slice(&s.packets.to_be_bytes());
        out[24..28].copy_from_slice(&s.octets.to_be_bytes());
        at = 28;
    }
    if let Some(b) = block {
        let lost = b.cumulative_lost.min(0x7f_ffff).to_be_bytes();
        out[at..at + 4].copy_from_slice(&b.ssrc.to_be_bytes());
        out[at + 4] = b.fraction_lost;
        out[at + 5..at + 8].copy_from_slice(&lost[1..]);
        out[at + 8..at + 12].copy_from_slice(&b.highest_seq.to_be_bytes());
        out[at + 12..at + 16].copy_from_slice(&b.jitter.to_be_bytes());
        out[at + 16..at + 20].copy_from_slice(&b.lsr.to_be_bytes());
        out[at + 20..at + 24].copy_from_slice(&b.dlsr.to_be_bytes());
    }
    let sdes = &mut out[report_len..report_len + sdes_len];
    sdes[0] = 0x81;
    sdes[1] = 202;
    sdes[2..4].copy_from_slice(&((sdes_len / 4 - 1) as u16).to_be_bytes());
    sdes[4..8].copy_from_slice(&ssrc.to_be_bytes());
    sdes[8] = 1; // CNAME
    sdes[9] = cname.len() as u8;
    sdes[10..10 + cname.len()].copy_from_slice(cname);
    report_len + sdes_len
}

/// A MOS (1.0-4.5) estimate from a simplified ITU-T G.107 E-model, as commonly used by VoIP
/// monitors (codec impairment taken as G.711's, 0):
///
/// `d = latency + 2 * jitter + 10 ms`;
/// `R = 93.2 - (d < 160 ms ? d / 40 : (d - 120) / 10) - 2.5 * loss%`;
/// `MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)`.
///
/// `latency` is the one-way delay when known (half the RTCP round trip), else zero.
pub fn mos(loss_fraction: f64, jitter: Duration, latency: Duration) -> f64 {
    let d = latency.as_secs_f64() * 1000.0 + 2.0 * jitter.as_secs_f64() * 1000.0 + 10.0;
    let delay_penalty = if d < 160.0 {
        d / 40.0
    } else {
        (d - 120.0) / 10.0
    };
    let loss_percent = (loss_fraction * 100.0).clamp(0.0, 100.0);
    let r = (93.2 - delay_penalty - 2.5 * loss_percent).clamp(0.0, 100.0);
    (1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)).clamp(1.0, 4.5)
}

#[cfg(test)]
mod tests;

//! Relay statistics: atomic counters written by the relay task, read by `MediaSession::stats`.
//!
//! Owns: `Counters` (shared between the task and the handle through an `Arc`) and the plain
//! snapshots `SessionStats` / `SideStats`. Counters use relaxed atomics: one writer, readers
//! only need eventually-consistent numbers. The latched addresses change rarely (on latch), so
//! they sit behind a mutex that is never taken per packet.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::media::relay::Side;
use crate::media::relay::rtcp::mos;

/// A snapshot of both sides' counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStats {
    /// Toward the caller.
    pub a: SideStats,
    /// Toward the callee.
    pub b: SideStats,
}

impl SessionStats {
    /// The counters of one side.
    pub fn side(&self, side: Side) -> &SideStats {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }
}

/// The counters of one side. "In" is what arrived on that side's sockets; "out" is what the
/// relay sent out of them toward that side's remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SideStats {
    /// RTP packets received.
    pub packets_in: u64,
    /// RTP bytes received.
    pub bytes_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// RTP bytes sent.
    pub bytes_out: u64,
    /// RTCP packets received.
    pub rtcp_in: u64,
    /// RTCP packets sent.
    pub rtcp_out: u64,
    /// Received packets dropped as malformed (not version 2, too short, bad padding).
    pub dropped_bad: u64,
    /// Received packets dropped because the other side's address was not known yet.
    pub dropped_no_remote: u64,
    /// Received RTP dropped because of the directions (hold).
    pub dropped_direction: u64,
    /// Received packets dropped because they came from another address than the latched one.
    pub dropped_foreign: u64,
    /// Sends toward this side that failed.
    pub send_errors: u64,
    /// Where RTP toward this side goes since the latch, if latched.
    pub latched: Option<SocketAddr>,
    /// RTP packets expected from this side, from its sequence numbers (RFC 3550 A.3).
    pub expected: u64,
    /// RTP packets from this side lost on the way (expected minus received).
    pub lost: u64,
    /// Interarrival jitter of this side's RTP (RFC 3550 A.8), in microseconds.
    pub jitter_us: u64,
}

impl SideStats {
    /// The fraction (0-1) of this side's packets lost since the stream started.
    pub fn loss_fraction(&self) -> f64 {
        if self.expected == 0 {
            return 0.0;
        }
        self.lost as f64 / self.expected as f64
    }

    /// A MOS estimate of what Centrala receives from this side (see `rtcp::mos`; latency is
    /// not measured yet and counts as zero).
    pub fn mos(&self) -> f64 {
        mos(
            self.loss_fraction(),
            Duration::from_micros(self.jitter_us),
            Duration::ZERO,
        )
    }
}

/// The live counters of one session.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    sides: [SideCounters; 2],
}

#[derive(Debug, Default)]
pub(crate) struct SideCounters {
    pub(crate) packets_in: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) packets_out: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) rtcp_in: AtomicU64,
    pub(crate) rtcp_out: AtomicU64,
    pub(crate) dropped_bad: AtomicU64,
    pub(crate) dropped_no_remote: AtomicU64,
    pub(crate) dropped_direction: AtomicU64,
    pub(crate) dropped_foreign: AtomicU64,
    pub(crate) send_errors: AtomicU64,
    expected: AtomicU64,
    lost: AtomicU64,
    jitter_us: AtomicU64,
    latched: Mutex<Option<SocketAddr>>,
}

impl Counters {
    pub(crate) fn side(&self, side: Side) -> &SideCounters {
        &self.sides[side.index()]
    }

    pub(crate) fn snapshot(&self) -> SessionStats {
        SessionStats {
            a: self.sides[0].snapshot(),
            b: self.sides[1].snapshot(),
        }
    }
}

impl SideCounters {
    /// Adds one to a counter.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to a counter.
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Publishes the receive statistics (plain stores: one writer).
    pub(crate) fn set_reception(&self, expected: u64, lost: u64, jitter_us: u64) {
        self.expected.store(expected, Ordering::Relaxed);
        self.lost.store(lost, Ordering::Relaxed);
        self.jitter_us.store(jitter_us, Ordering::Relaxed);
    }

    pub(crate) fn set_latched(&self, addr: Option<SocketAddr>) {
        *self.latched.lock().unwrap_or_else(PoisonError::into_inner) = addr;
    }

    fn snapshot(&self) -> SideStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SideStats {
            packets_in: load(&self.packets_in),
            bytes_in: load(&self.bytes_in),
            packets_out: load(&self.packets_out),
            bytes_out: load(&self.bytes_out),
            rtcp_in: load(&self.rtcp_in),
            rtcp_out: load(&self.rtcp_out),
            dropped_bad: load(&self.dropped_bad),
            dropped_no_remote: load(&self.dropped_no_remote),
            dropped_direction: load(&self.dropped_direction),
            dropped_foreign: load(&self.dropped_foreign),
            send_errors: load(&self.send_errors),
            expected: load(&self.expected),
            lost: load(&self.lost),
            jitter_us: load(&self.jitter_us),
            latched: *self.latched.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }
}

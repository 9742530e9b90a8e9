//! Cross-process port blocks: every test gets 200 consecutive ports of its own.
//!
//! Tests run as parallel threads and, under cargo-nextest, as separate processes, so a block
//! is claimed by taking an exclusive `flock` on `/tmp/centrala-test-ports/block-<n>.lock`
//! (held by the open file, released on Drop or when the process dies). The pool is
//! 30000-45999 (80 blocks). Linux hands out ephemeral ports (outgoing connections, DNS
//! queries) from `ip_local_port_range` (32768-60999 by default) and a peer that finds one of
//! its ports taken that way fails to start, so blocks outside that range (30000-32599) are
//! tried first, and a claim checks that a few of the block's ports are free. Setting
//! `net.ipv4.ip_local_reserved_ports = 30000-45999` on a CI host removes the overlap.
//!
//! Sub-plan of a block (offsets from [`PortBlock::base`]):
//! - `+0` PBX SIP (UDP and TCP), `+1` PBX SIP TLS (reserved), `+2` PBX HTTP, `+3` PBX WebSocket,
//!   `+4..+9` spare for the PBX;
//! - `+10..+99` PBX RTP range;
//! - `+100..+199` five peer slots of 20 ports ([`PortBlock::peer`]): slot `+0` SIP, `+1`
//!   baresip's TLS port (baresip binds SIP+1), `+2` control (baresip ctrl_tcp or SIPp `-cp`),
//!   `+3..+9` spare, `+10..+19` media.

use std::fs::{File, OpenOptions};
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// First port of the pool.
pub const POOL_START: u16 = 30000;
/// Ports per block.
pub const BLOCK_SIZE: u16 = 200;
/// Number of blocks in 30000-45999.
pub const BLOCKS: u16 = 80;
/// Peer slots in a block.
pub const PEER_SLOTS: u16 = 5;

/// Offset of the PBX SIP port.
pub const SIP: u16 = 0;
/// Offset of the PBX HTTP port.
pub const HTTP: u16 = 2;
/// Offset of the PBX WebSocket port.
pub const WS: u16 = 3;
/// Offset of the first PBX RTP port.
pub const RTP_FIRST: u16 = 10;
/// Offset of the last PBX RTP port.
pub const RTP_LAST: u16 = 99;

/// A claimed block of [`BLOCK_SIZE`] ports, released on Drop.
#[derive(Debug)]
pub struct PortBlock {
    base: u16,
    _lock: File,
}

/// The ports of one peer slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerPorts {
    /// SIP listen port (baresip also binds `sip + 1`).
    pub sip: u16,
    /// Control port: baresip ctrl_tcp or SIPp `-cp`.
    pub ctrl: u16,
    /// First of 10 media ports.
    pub media: u16,
    /// Last media port.
    pub media_last: u16,
}

impl PortBlock {
    /// Claims a free block, panicking if none is free (80 tests at once).
    pub fn claim() -> PortBlock {
        match Self::try_claim() {
            Some(block) => block,
            None => panic!(
                "no free port block in {POOL_START}..+{}",
                BLOCK_SIZE * BLOCKS
            ),
        }
    }

    /// Claims a free block, or `None` when every block is taken or busy.
    pub fn try_claim() -> Option<PortBlock> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = lock_dir();
        std::fs::create_dir_all(&dir).ok()?;
        // start at a different block per process and per claim to avoid contention,
        // blocks outside the kernel's ephemeral range first
        let start = std::process::id().wrapping_mul(7) + NEXT.fetch_add(1, Ordering::Relaxed);
        let (lo, hi) = ephemeral_range();
        let mut order: Vec<u16> = (0..u32::from(BLOCKS))
            .map(|i| ((start + i) % u32::from(BLOCKS)) as u16)
            .collect();
        order.sort_by_key(|&n| {
            let (first, last) = (
                POOL_START + n * BLOCK_SIZE,
                POOL_START + n * BLOCK_SIZE + BLOCK_SIZE - 1,
            );
            last >= lo && first <= hi
        });
        for n in order {
            let path = dir.join(format!("block-{n}.lock"));
            let Ok(file) = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
            else {
                continue;
            };
            if file.try_lock().is_err() {
                continue;
            }
            let base = POOL_START + n * BLOCK_SIZE;
            if [SIP, HTTP, RTP_FIRST, 100, 102, 120, 122]
                .iter()
                .all(|&off| bindable(base + off))
            {
                return Some(PortBlock { base, _lock: file });
            }
        }
        None
    }

    /// First port of the block.
    pub fn base(&self) -> u16 {
        self.base
    }

    /// Port `i` of the block (panics when `i >= BLOCK_SIZE`).
    pub fn port(&self, i: u16) -> u16 {
        assert!(i < BLOCK_SIZE, "port offset {i} outside the block");
        self.base + i
    }

    /// The PBX SIP port.
    pub fn sip(&self) -> u16 {
        self.port(SIP)
    }

    /// The PBX HTTP port.
    pub fn http(&self) -> u16 {
        self.port(HTTP)
    }

    /// The PBX RTP range (inclusive).
    pub fn rtp_range(&self) -> (u16, u16) {
        (self.port(RTP_FIRST), self.port(RTP_LAST))
    }

    /// Peer slot `slot` (0..5).
    pub fn peer(&self, slot: u16) -> PeerPorts {
        assert!(slot < PEER_SLOTS, "peer slot {slot} outside the block");
        let sip = self.port(100 + 20 * slot);
        PeerPorts {
            sip,
            ctrl: sip + 2,
            media: sip + 10,
            media_last: sip + 19,
        }
    }

    /// A tcpdump filter matching UDP and TCP traffic of this block only.
    pub fn capture_filter(&self) -> String {
        format!("portrange {}-{}", self.base, self.base + BLOCK_SIZE - 1)
    }
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("centrala-test-ports")
}

/// The kernel's ephemeral port range (default 32768-60999).
fn ephemeral_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut it = text.split_whitespace().filter_map(|v| v.parse().ok());
    match (it.next(), it.next()) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => (32768, 60999),
    }
}

fn bindable(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok() && TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_do_not_overlap_while_held() {
        let a = PortBlock::claim();
        let b = PortBlock::claim();
        assert_ne!(a.base(), b.base());
        assert!(a.base() + BLOCK_SIZE <= b.base() || b.base() + BLOCK_SIZE <= a.base());
        assert_eq!(a.peer(4).media_last, a.port(199));
        assert_eq!(a.peer(1).sip, a.port(120));
    }

    #[test]
    fn a_held_block_cannot_be_locked_again() {
        let a = PortBlock::claim();
        let n = (a.base() - POOL_START) / BLOCK_SIZE;
        let f = File::open(lock_dir().join(format!("block-{n}.lock"))).unwrap();
        assert!(f.try_lock().is_err());
    }
}

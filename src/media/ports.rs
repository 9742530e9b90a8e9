//! The RTP port pool: hands out RTP/RTCP socket pairs (RTP on an even port, RTCP on the next odd
//! one, RFC 3550 section 11) from a configured range, 10000-20000 by default.
//!
//! Owns: which pairs of the range Centrala holds, and the round-robin cursor that keeps a
//! just-freed pair from being reused at once (late packets of the old call would reach the new
//! one). A pair that another process holds fails to bind and is skipped.
//! Must not touch: SDP, relaying, anything per packet.
//! Driven by: `media::relay::MediaSession::open` (and later the IVR / conference sessions).
//! The pool is a cheap `Clone` (an `Arc` inside) and thread-safe; the mutex is held only to pick
//! a slot, never across a bind or an `.await`.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::UdpSocket;

use crate::media::MediaError;

/// The default RTP range of `centrala serve`.
pub const DEFAULT_RANGE: (u16, u16) = (10000, 20000);

/// A pool of RTP/RTCP port pairs on one local IP.
#[derive(Debug, Clone)]
pub struct PortPool {
    inner: Arc<Inner>,
}

/// One allocated pair of bound sockets. The pair goes back to the pool when this is dropped.
#[derive(Debug)]
pub struct RtpPortPair {
    /// The RTP socket, bound to the even port `port`.
    pub rtp: UdpSocket,
    /// The RTCP socket, bound to `port + 1`.
    pub rtcp: UdpSocket,
    /// The RTP port number.
    pub port: u16,
    /// Returns the slot to the pool on drop; declared last so the sockets close first.
    _lease: Lease,
}

impl PortPool {
    /// A pool binding on `ip` and using RTP ports from `min` to `max` (inclusive). `min` is
    /// rounded up to an even port; the last pair is the highest even port whose RTCP port is
    /// still `<= max`. An empty range gives a pool whose every allocation fails.
    pub fn new(ip: IpAddr, min: u16, max: u16) -> Self {
        let first = min.saturating_add(min % 2);
        let slots = if max > first {
            usize::from((max - first - 1) / 2 + 1)
        } else {
            0
        };
        let state = State {
            in_use: vec![false; slots],
            cursor: 0,
        };
        PortPool {
            inner: Arc::new(Inner {
                ip,
                min,
                max,
                first,
                state: Mutex::new(state),
            }),
        }
    }

    /// The local IP the pool binds on.
    pub fn ip(&self) -> IpAddr {
        self.inner.ip
    }

    /// How many pairs are currently allocated.
    pub fn in_use(&self) -> usize {
        self.inner
            .lock()
            .in_use
            .iter()
            .filter(|used| **used)
            .count()
    }

    /// Allocates and binds the next free pair after the last one handed out.
    ///
    /// Fails with `MediaError::PortsExhausted` when every pair is in use or cannot be bound.
    pub async fn allocate(&self) -> Result<RtpPortPair, MediaError> {
        let slots = self.inner.lock().in_use.len();
        for _ in 0..slots {
            let Some(slot) = self.inner.reserve_next() else {
                break;
            };
            let lease = Lease {
                pool: Arc::clone(&self.inner),
                slot,
            };
            let port = self.inner.port_of(slot);
            match bind_pair(self.inner.ip, port) {
                Ok((rtp, rtcp)) => {
                    return Ok(RtpPortPair {
                        rtp,
                        rtcp,
                        port,
                        _lease: lease,
                    });
                }
                Err(err) => {
                    tracing::debug!(port, %err, "RTP port pair busy, skipping");
                    drop(lease);
                }
            }
        }
        Err(MediaError::PortsExhausted {
            min: self.inner.min,
            max: self.inner.max,
        })
    }
}

impl Default for PortPool {
    /// The default range on all IPv4 interfaces.
    fn default() -> Self {
        PortPool::new(IpAddr::from([0, 0, 0, 0]), DEFAULT_RANGE.0, DEFAULT_RANGE.1)
    }
}

#[derive(Debug)]
struct Inner {
    ip: IpAddr,
    min: u16,
    max: u16,
    first: u16,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    in_use: Vec<bool>,
    cursor: usize,
}

#[derive(Debug)]
struct Lease {
    pool: Arc<Inner>,
    slot: usize,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(used) = self.pool.lock().in_use.get_mut(self.slot) {
            *used = false;
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain bitmap and cursor; a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn port_of(&self, slot: usize) -> u16 {
        // `slot < in_use.len()`, which `new` sized so that the port stays within `max`.
        self.first + 2 * u16::try_from(slot).unwrap_or(0)
    }

    /// Marks the first free slot at or after the cursor as used and moves the cursor past it.
    fn reserve_next(&self) -> Option<usize> {
        let mut state = self.lock();
        let slots = state.in_use.len();
        for step in 0..slots {
            let slot = (state.cursor + step) % slots;
            if !state.in_use[slot] {
                state.in_use[slot] = true;
                state.cursor = (slot + 1) % slots;
                return Some(slot);
            }
        }
        None
    }
}

fn bind_pair(ip: IpAddr, port: u16) -> std::io::Result<(UdpSocket, UdpSocket)> {
    let rtp = bind_one(SocketAddr::new(ip, port))?;
    let rtcp = bind_one(SocketAddr::new(ip, port + 1))?;
    Ok((rtp, rtcp))
}

fn bind_one(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[test]
    fn range_is_rounded_to_even_pairs() {
        let pool = PortPool::new(loopback(), 30001, 30007);
        assert_eq!(pool.inner.first, 30002);
        // 30002/3, 30004/5, 30006/7
        assert_eq!(pool.inner.lock().in_use.len(), 3);
        let tiny = PortPool::new(loopback(), 30000, 30000);
        assert_eq!(tiny.inner.lock().in_use.len(), 0);
    }

    #[tokio::test]
    async fn allocates_even_ports_round_robin_and_reports_exhaustion() {
        let pool = PortPool::new(loopback(), 47000, 47005);
        let first = pool.allocate().await.expect("first pair");
        assert_eq!(first.port % 2, 0);
        assert_eq!(
            first.rtcp.local_addr().expect("addr").port(),
            first.port + 1
        );
        let second = pool.allocate().await.expect("second pair");
        let third = pool.allocate().await.expect("third pair");
        assert_eq!(pool.in_use(), 3);
        assert!(matches!(
            pool.allocate().await,
            Err(MediaError::PortsExhausted { .. })
        ));

        // Freeing the first pair: the cursor has wrapped, so it is the one handed out next.
        let freed = first.port;
        drop(first);
        assert_eq!(pool.in_use(), 2);
        let again = pool.allocate().await.expect("freed pair");
        assert_eq!(again.port, freed);
        drop((second, third, again));
        assert_eq!(pool.in_use(), 0);
    }

    #[tokio::test]
    async fn just_freed_pair_is_not_reused_at_once() {
        let pool = PortPool::new(loopback(), 41100, 41109);
        let a = pool.allocate().await.expect("a");
        let port_a = a.port;
        drop(a);
        let b = pool.allocate().await.expect("b");
        assert_ne!(b.port, port_a);
    }

    #[tokio::test]
    async fn port_taken_by_another_process_is_skipped() {
        let blocker = std::net::UdpSocket::bind((loopback(), 41200)).expect("blocker");
        let pool = PortPool::new(loopback(), 41200, 41203);
        let pair = pool.allocate().await.expect("second pair");
        assert_eq!(pair.port, 41202);
        assert!(matches!(
            pool.allocate().await,
            Err(MediaError::PortsExhausted { .. })
        ));
        drop(blocker);
    }
}

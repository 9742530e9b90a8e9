//! The RTP port pool: hands out RTP/RTCP socket pairs (RTP on an even port, RTCP on the next odd
//! one, RFC 3550 section 11) from a configured range, 10000-20000 by default.
//!
//! Owns: which pairs of the range Centrala holds, the round-robin cursor that keeps a
//! just-freed pair from being reused at once (late packets of the old call would reach the new
//! one), and the parked sockets of freed pairs. A pair that another process holds fails to
//! bind and is skipped.
//! Must not touch: SDP, relaying, anything per packet.
//! Driven by: `media::relay::MediaSession::open` (and later the IVR / conference sessions).
//! The pool is a cheap `Clone` (an `Arc` inside) and thread-safe; the mutex is held only to pick
//! a slot, never across a bind or an `.await`.
//!
//! Parking: binding a pair and closing it again (socket, bind, non-blocking, epoll add, epoll
//! delete, close, for two sockets) cost about a tenth of Centrala's CPU per call at 2,000 calls
//! per second. So a freed pair keeps its sockets bound ("parked") and is handed out again once
//! it has been free for `QUARANTINE`; whatever reached it meanwhile is read and discarded
//! first. A call frees its media only after both legs' BYE transactions completed, so its
//! peers have stopped sending by then; the quarantine covers packets still in flight. Parked
//! pairs stay within the range (at most as many sockets as a full pool holds) and their number
//! is capped at a quarter of the range and an eighth of the open-files limit; when binding
//! fails for lack of file descriptors, parked pairs are closed first.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use crate::media::MediaError;

/// The default RTP range of `centrala serve`.
pub const DEFAULT_RANGE: (u16, u16) = (10000, 20000);

/// How long a freed pair stays parked before it is handed out again (unless nothing else is
/// free).
const QUARANTINE: Duration = Duration::from_millis(500);

/// Port pairs one call may take: a leg towards each side.
pub const PAIRS_PER_CALL: usize = 2;
/// The share of the range kept free at admission: one in this many pairs.
const RESERVE_SHARE: usize = 50;

/// A pool of RTP/RTCP port pairs on one local IP.
#[derive(Debug, Clone)]
pub struct PortPool {
    inner: Arc<Inner>,
}

/// One allocated pair of bound sockets. The pair goes back to the pool when this is dropped.
#[derive(Debug)]
pub struct RtpPortPair {
    /// The RTP socket, bound to the even port `port` (the pool keeps a reference to park it
    /// when the pair is freed).
    pub rtp: Arc<UdpSocket>,
    /// The RTCP socket, bound to `port + 1`.
    pub rtcp: Arc<UdpSocket>,
    /// The RTP port number.
    pub port: u16,
    /// Returns the slot to the pool on drop; declared last so the sockets are released first.
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
        let max_parked = (slots / 4).min(open_files_limit().unwrap_or(1024) / 8);
        PortPool::with_parking(ip, (min, max, first, slots), max_parked, QUARANTINE)
    }

    fn with_parking(
        ip: IpAddr,
        (min, max, first, slots): (u16, u16, u16, usize),
        max_parked: usize,
        quarantine: Duration,
    ) -> Self {
        let state = State {
            slots: (0..slots).map(|_| Slot::Free).collect(),
            cursor: 0,
            parked: VecDeque::new(),
            max_parked,
        };
        PortPool {
            inner: Arc::new(Inner {
                ip,
                min,
                max,
                first,
                quarantine,
                state: Mutex::new(state),
                leased: AtomicUsize::new(0),
                slots,
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
            .slots
            .iter()
            .filter(|slot| matches!(slot, Slot::InUse(_)))
            .count()
    }

    /// Pairs not handed out (free or parked).
    pub fn free_pairs(&self) -> usize {
        let leased = self.inner.leased.load(Ordering::Relaxed);
        self.inner.slots.saturating_sub(leased)
    }

    /// Whether a new call may be accepted: after it takes the pairs a call may need
    /// ([`PAIRS_PER_CALL`]: its two legs), a reserve of [`RESERVE_SHARE`] of the range (at
    /// least one call's worth) stays free for calls already accepted (a consultation leg,
    /// calls admitted in the same instant). Checked at INVITE admission, so that a full range
    /// sheds new calls with 503 instead of failing accepted ones for want of a port.
    pub fn admits_new_call(&self) -> bool {
        let reserve = (self.inner.slots / RESERVE_SHARE).max(PAIRS_PER_CALL);
        self.free_pairs() >= PAIRS_PER_CALL + reserve
    }

    /// [`Self::admits_new_call`] as the SIP status a refused INVITE gets.
    pub fn admission(&self) -> Result<(), (u16, &'static str)> {
        if self.admits_new_call() {
            Ok(())
        } else {
            Err((503, "Service Unavailable"))
        }
    }

    /// Hands out a parked pair that has been free long enough, else binds the next free pair
    /// after the last one handed out (else takes the longest-parked pair).
    ///
    /// Fails with `MediaError::PortsExhausted` when every pair is in use or cannot be bound.
    pub async fn allocate(&self) -> Result<RtpPortPair, MediaError> {
        if let Some(pair) = self.reuse_parked(Instant::now(), false) {
            return Ok(pair);
        }
        let slots = self.inner.lock().slots.len();
        for _ in 0..slots {
            let Some(slot) = self.inner.reserve_next() else {
                break;
            };
            let lease = Lease::new(&self.inner, slot);
            let port = self.inner.port_of(slot);
            match bind_pair(self.inner.ip, port) {
                Ok((rtp, rtcp)) => {
                    let (rtp, rtcp) = (Arc::new(rtp), Arc::new(rtcp));
                    self.inner.lock().slots[slot] =
                        Slot::InUse(Some((Arc::clone(&rtp), Arc::clone(&rtcp))));
                    return Ok(RtpPortPair {
                        rtp,
                        rtcp,
                        port,
                        _lease: lease,
                    });
                }
                Err(err) if out_of_descriptors(&err) && self.inner.close_oldest_parked() => {
                    tracing::debug!(port, %err, "closed a parked RTP pair to bind a new one");
                    drop(lease);
                    if let Ok(pair) = self.bind_slot_again(slot, port) {
                        return Ok(pair);
                    }
                }
                Err(err) => {
                    tracing::debug!(port, %err, "RTP port pair busy, skipping");
                    drop(lease);
                }
            }
        }
        self.reuse_parked(Instant::now(), true)
            .ok_or(MediaError::PortsExhausted {
                min: self.inner.min,
                max: self.inner.max,
            })
    }

    /// The longest-parked pair, if it has been parked for the quarantine (or `any_age`).
    fn reuse_parked(&self, now: Instant, any_age: bool) -> Option<RtpPortPair> {
        loop {
            let (slot, rtp, rtcp) = {
                let mut state = self.inner.lock();
                let &(slot, parked_at) = state.parked.front()?;
                if !any_age && now.duration_since(parked_at) < self.inner.quarantine {
                    return None;
                }
                state.parked.pop_front();
                if !matches!(state.slots[slot], Slot::Parked(..)) {
                    continue;
                }
                let Slot::Parked(rtp, rtcp) =
                    std::mem::replace(&mut state.slots[slot], Slot::InUse(None))
                else {
                    continue;
                };
                (slot, rtp, rtcp)
            };
            let lease = Lease::new(&self.inner, slot);
            // Someone still holds a socket of the old pair (a task that outlived its session):
            // leave the sockets to it and bind this slot afresh next time round.
            if Arc::strong_count(&rtp) > 1 || Arc::strong_count(&rtcp) > 1 {
                drop(lease);
                continue;
            }
            discard_queued(&rtp);
            discard_queued(&rtcp);
            self.inner.lock().slots[slot] =
                Slot::InUse(Some((Arc::clone(&rtp), Arc::clone(&rtcp))));
            return Some(RtpPortPair {
                rtp,
                rtcp,
                port: self.inner.port_of(slot),
                _lease: lease,
            });
        }
    }

    /// Binds `slot` (free again after a failed bind) once more.
    fn bind_slot_again(&self, slot: usize, port: u16) -> io::Result<RtpPortPair> {
        {
            let mut state = self.inner.lock();
            if !matches!(state.slots[slot], Slot::Free) {
                return Err(io::ErrorKind::AddrInUse.into());
            }
            state.slots[slot] = Slot::InUse(None);
        }
        let lease = Lease::new(&self.inner, slot);
        let (rtp, rtcp) = bind_pair(self.inner.ip, port)?;
        let (rtp, rtcp) = (Arc::new(rtp), Arc::new(rtcp));
        self.inner.lock().slots[slot] = Slot::InUse(Some((Arc::clone(&rtp), Arc::clone(&rtcp))));
        Ok(RtpPortPair {
            rtp,
            rtcp,
            port,
            _lease: lease,
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
    quarantine: Duration,
    state: Mutex<State>,
    /// Pairs handed out (live `Lease`s), kept apart from the table so that the admission
    /// check of every INVITE reads one atomic instead of scanning the range.
    leased: AtomicUsize,
    /// Pairs in the range.
    slots: usize,
}

type Sockets = (Arc<UdpSocket>, Arc<UdpSocket>);

#[derive(Debug)]
enum Slot {
    /// Not bound by us.
    Free,
    /// Handed out (the sockets once bound, kept to park them when the pair is freed).
    InUse(Option<Sockets>),
    /// Freed with its sockets still bound; listed in `State::parked`.
    Parked(Arc<UdpSocket>, Arc<UdpSocket>),
}

#[derive(Debug)]
struct State {
    slots: Vec<Slot>,
    cursor: usize,
    /// Parked slots, longest-parked first, with when they were parked.
    parked: VecDeque<(usize, Instant)>,
    max_parked: usize,
}

#[derive(Debug)]
struct Lease {
    pool: Arc<Inner>,
    slot: usize,
}

impl Lease {
    /// The lease of `slot`, which the caller has just marked in use.
    fn new(pool: &Arc<Inner>, slot: usize) -> Lease {
        pool.leased.fetch_add(1, Ordering::Relaxed);
        Lease {
            pool: Arc::clone(pool),
            slot,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.leased.fetch_sub(1, Ordering::Relaxed);
        let closing = {
            let mut state = self.pool.lock();
            let parking = state.parked.len() < state.max_parked;
            let Some(slot) = state.slots.get_mut(self.slot) else {
                return;
            };
            let freed = std::mem::replace(slot, Slot::Free);
            match freed {
                Slot::InUse(Some((rtp, rtcp))) if parking => {
                    *slot = Slot::Parked(rtp, rtcp);
                    state.parked.push_back((self.slot, Instant::now()));
                    None
                }
                other => Some(other),
            }
        };
        // Sockets are closed (and deregistered) outside the lock.
        drop(closing);
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain table and cursor; a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn port_of(&self, slot: usize) -> u16 {
        // `slot < slots.len()`, which `new` sized so that the port stays within `max`.
        self.first + 2 * u16::try_from(slot).unwrap_or(0)
    }

    /// Marks the first free slot at or after the cursor as used and moves the cursor past it.
    fn reserve_next(&self) -> Option<usize> {
        let mut state = self.lock();
        let slots = state.slots.len();
        for step in 0..slots {
            let slot = (state.cursor + step) % slots;
            if matches!(state.slots[slot], Slot::Free) {
                state.slots[slot] = Slot::InUse(None);
                state.cursor = (slot + 1) % slots;
                return Some(slot);
            }
        }
        None
    }

    /// Closes the longest-parked pair; false if none is parked.
    fn close_oldest_parked(&self) -> bool {
        let closing = {
            let mut state = self.lock();
            let Some((slot, _)) = state.parked.pop_front() else {
                return false;
            };
            std::mem::replace(&mut state.slots[slot], Slot::Free)
        };
        drop(closing);
        true
    }
}

/// Reads and drops whatever datagrams wait on a parked socket (late packets of its last call).
/// Reads the socket itself rather than through tokio, whose readiness flag may not yet show a
/// datagram that just arrived.
fn discard_queued(socket: &UdpSocket) {
    let socket = socket2::SockRef::from(socket);
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
    while socket.recv_from(&mut buf).is_ok() {}
}

/// EMFILE / ENFILE: the process or the system is out of file descriptors.
fn out_of_descriptors(err: &io::Error) -> bool {
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    matches!(err.raw_os_error(), Some(ENFILE | EMFILE))
}

/// The soft open-files limit (Linux, from `/proc/self/limits`).
pub(crate) fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn bind_pair(ip: IpAddr, port: u16) -> io::Result<(UdpSocket, UdpSocket)> {
    let rtp = bind_one(SocketAddr::new(ip, port))?;
    let rtcp = bind_one(SocketAddr::new(ip, port + 1))?;
    Ok((rtp, rtcp))
}

fn bind_one(addr: SocketAddr) -> io::Result<UdpSocket> {
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
        assert_eq!(pool.inner.lock().slots.len(), 3);
        let tiny = PortPool::new(loopback(), 30000, 30000);
        assert_eq!(tiny.inner.lock().slots.len(), 0);
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

    fn parking_pool(min: u16, slots: usize, max_parked: usize, quarantine: Duration) -> PortPool {
        let max = min + 2 * u16::try_from(slots).unwrap() - 1;
        PortPool::with_parking(loopback(), (min, max, min, slots), max_parked, quarantine)
    }

    #[tokio::test]
    async fn a_parked_pair_is_reused_with_its_late_packets_discarded() {
        let pool = parking_pool(41300, 4, 4, Duration::ZERO);
        let first = pool.allocate().await.expect("first");
        let (port, rtp_addr) = (first.port, first.rtp.local_addr().unwrap());
        drop(first);
        assert_eq!((pool.in_use(), pool.inner.lock().parked.len()), (0, 1));
        let late = std::net::UdpSocket::bind((loopback(), 0)).unwrap();
        late.send_to(b"late RTP of the old call", rtp_addr).unwrap();
        // Let the runtime see it arrive, so that a read through tokio would return it.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let again = pool.allocate().await.expect("reused");
        assert_eq!(again.port, port, "the parked pair comes back");
        let mut buf = [0u8; 64];
        let waiting = again.rtp.try_recv_from(&mut buf);
        assert!(waiting.is_err(), "late packet delivered: {waiting:?}");
        late.send_to(b"new", rtp_addr).unwrap();
        let (len, _) = tokio::time::timeout(Duration::from_secs(2), again.rtp.recv_from(&mut buf))
            .await
            .expect("the reused socket still receives")
            .unwrap();
        assert_eq!(&buf[..len], b"new");
    }

    #[tokio::test]
    async fn a_parked_pair_waits_out_its_quarantine_unless_nothing_else_is_free() {
        let pool = parking_pool(41320, 2, 2, Duration::from_secs(3600));
        let first = pool.allocate().await.expect("first");
        let parked_port = first.port;
        drop(first);
        let second = pool.allocate().await.expect("second");
        assert_ne!(second.port, parked_port, "freshly parked pair handed out");
        let third = pool
            .allocate()
            .await
            .expect("the parked pair, as nothing else is free");
        assert_eq!(third.port, parked_port);
        assert!(matches!(
            pool.allocate().await,
            Err(MediaError::PortsExhausted { .. })
        ));
    }

    #[tokio::test]
    async fn parking_is_capped_and_skips_sockets_still_held_elsewhere() {
        let pool = parking_pool(41340, 4, 1, Duration::ZERO);
        let a = pool.allocate().await.expect("a");
        let b = pool.allocate().await.expect("b");
        let held = Arc::clone(&a.rtp);
        let a_port = a.port;
        drop((a, b));
        assert_eq!(pool.inner.lock().parked.len(), 1, "capped at one");
        let next = pool.allocate().await.expect("next");
        assert_ne!(next.port, a_port, "a socket of that pair is still held");
        assert_eq!(pool.in_use(), 1);
        drop(held);
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

    #[tokio::test]
    async fn new_calls_are_refused_while_a_reserve_of_pairs_is_still_free() {
        // 10 pairs: a call may take 2, and 2 more stay in reserve.
        let pool = PortPool::new(loopback(), 47100, 47119);
        assert_eq!(pool.free_pairs(), 10);
        let mut held = Vec::new();
        while pool.admits_new_call() {
            held.push(pool.allocate().await.unwrap());
        }
        assert_eq!(held.len(), 7, "admitted while at least 4 pairs were free");
        assert_eq!(pool.free_pairs(), 3);
        for _ in 0..3 {
            held.push(pool.allocate().await.unwrap());
        }
        assert_eq!(
            pool.free_pairs(),
            0,
            "the reserve is there for accepted calls"
        );
        held.truncate(7);
        assert_eq!(pool.free_pairs(), 3);
        assert!(!pool.admits_new_call());
        held.truncate(6);
        assert!(pool.admits_new_call(), "freed pairs count again at once");
    }
}

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::*;

const WINDOW: Duration = Duration::from_secs(60);
const BAN_FOR: Duration = Duration::from_secs(600);

fn ip(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn bans_after_max_failures_within_window_and_reports_once() {
    let mut b = BanList::new(3, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    assert!(!b.record_failure(t0, ip(1)));
    assert!(!b.record_failure(t0 + secs(10), ip(1)));
    assert!(!b.is_banned(t0 + secs(10), ip(1)));
    assert!(b.record_failure(t0 + secs(20), ip(1)));
    assert!(b.is_banned(t0 + secs(20), ip(1)));
    assert!(!b.is_banned(t0 + secs(20), ip(2)));
    // Further failures while banned do not report a new ban.
    assert!(!b.record_failure(t0 + secs(21), ip(1)));
    assert_eq!(b.banned_count(t0 + secs(21)), 1);
}

#[test]
fn failures_spread_beyond_the_window_never_ban() {
    let mut b = BanList::new(3, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    for i in 0..20 {
        assert!(!b.record_failure(t0 + secs(31 * i), ip(1)), "failure {i}");
    }
    assert!(!b.is_banned(t0 + secs(31 * 20), ip(1)));
}

#[test]
fn window_slides_rather_than_resets() {
    let mut b = BanList::new(3, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    b.record_failure(t0, ip(1));
    b.record_failure(t0 + secs(50), ip(1));
    // The first failure left the window; two remain.
    assert!(!b.record_failure(t0 + secs(70), ip(1)));
    assert!(b.record_failure(t0 + secs(80), ip(1)));
}

#[test]
fn ban_lifts_after_ban_for_and_counting_starts_afresh() {
    let mut b = BanList::new(2, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    b.record_failure(t0, ip(1));
    assert!(b.record_failure(t0, ip(1)));
    assert!(b.is_banned(t0 + BAN_FOR - secs(1), ip(1)));
    assert!(!b.is_banned(t0 + BAN_FOR, ip(1)));
    assert_eq!(b.banned_count(t0 + BAN_FOR), 0);
    assert!(!b.record_failure(t0 + BAN_FOR, ip(1)));
    assert!(b.record_failure(t0 + BAN_FOR + secs(1), ip(1)));
}

#[test]
fn success_resets_the_counter_but_not_a_ban() {
    let mut b = BanList::new(3, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    b.record_failure(t0, ip(1));
    b.record_failure(t0, ip(1));
    b.record_success(ip(1));
    assert!(b.is_empty());
    assert!(!b.record_failure(t0 + secs(1), ip(1)));
    assert!(!b.record_failure(t0 + secs(1), ip(1)));
    assert!(b.record_failure(t0 + secs(1), ip(1)));
    b.record_success(ip(1));
    assert!(b.is_banned(t0 + secs(2), ip(1)));
}

#[test]
fn handle_timeout_drops_only_finished_entries() {
    let mut b = BanList::new(2, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    b.record_failure(t0, ip(1));
    b.record_failure(t0, ip(2));
    b.record_failure(t0, ip(2));
    b.record_failure(t0 + secs(30), ip(3));
    b.handle_timeout(t0 + WINDOW);
    assert_eq!(b.len(), 2, "ip 1 left its window; 2 is banned; 3 is recent");
    b.handle_timeout(t0 + secs(30) + WINDOW);
    assert_eq!(b.len(), 1);
    b.handle_timeout(t0 + BAN_FOR);
    assert!(b.is_empty());
}

#[test]
fn memory_is_bounded_by_evicting_the_oldest() {
    let mut b = BanList::new(5, WINDOW, BAN_FOR);
    let t0 = Instant::now();
    let addr = |i: u32| {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            (i >> 16) as u16,
            i as u16,
        ))
    };
    let total = BanList::MAX_ENTRIES as u32 + 200;
    for i in 0..total {
        b.record_failure(t0, addr(i));
        if i % 1000 == 0 {
            // Removed entries leave stale order records behind; they must not break eviction.
            b.record_success(addr(i));
        }
    }
    assert_eq!(b.len(), BanList::MAX_ENTRIES);
    assert!(!b.entries.contains_key(&addr(1)), "oldest evicted");
    assert!(b.entries.contains_key(&addr(total - 1)), "newest kept");
    assert!(b.order.len() <= 2 * b.len() + 64);
}

#[test]
fn zero_max_failures_bans_on_first_failure() {
    let mut b = BanList::new(0, WINDOW, BAN_FOR);
    assert!(b.record_failure(Instant::now(), ip(9)));
}

#[test]
fn bans_are_listed_and_lifted() {
    let mut bans = BanList::new(1, Duration::from_secs(60), Duration::from_secs(600));
    let t0 = Instant::now();
    let ip: IpAddr = [10, 0, 0, 9].into();
    assert!(bans.record_failure(t0, ip));
    let later = t0 + Duration::from_secs(100);
    assert_eq!(bans.banned(later), [(ip, Duration::from_secs(500))]);
    assert!(bans.lift(later, ip));
    assert!(!bans.is_banned(later, ip));
    assert!(bans.banned(later).is_empty());
    assert!(!bans.lift(later, ip), "nothing left to lift");
}

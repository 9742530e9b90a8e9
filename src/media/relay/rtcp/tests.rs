use std::time::{Duration, Instant};

use super::*;
use crate::media::relay::validate_rtcp;

#[test]
fn loss_comes_from_sequence_gaps_and_jitter_from_timing() {
    let mut stats = ReceiveStats::default();
    let t0 = Instant::now();
    // Packets 1..=10 but 4, 5 and 8 are lost; perfectly paced at 20 ms.
    for seq in (1u16..=10).filter(|s| ![4, 5, 8].contains(s)) {
        let at = t0 + Duration::from_millis(20 * u64::from(seq));
        stats.on_rtp(at, 0xfeed, seq, 160 * u32::from(seq), 8000);
    }
    assert_eq!(
        (stats.expected(), stats.received(), stats.lost()),
        (10, 7, 3)
    );
    assert_eq!(stats.jitter(), 0);
    let block = stats.report_block(t0).expect("a stream");
    assert_eq!(block.fraction_lost, (3 * 256 / 10) as u8);
    assert_eq!((block.cumulative_lost, block.highest_seq), (3, 10));
    // Nothing lost in the next interval.
    stats.on_rtp(t0 + Duration::from_millis(220), 0xfeed, 11, 1760, 8000);
    assert_eq!(stats.report_block(t0).expect("a stream").fraction_lost, 0);
}

#[test]
fn jitter_follows_rfc3550_and_sequence_wraps() {
    let mut stats = ReceiveStats::default();
    let t0 = Instant::now();
    // Every other packet arrives 10 ms late (80 timestamp units).
    for i in 0u16..200 {
        let late = if i % 2 == 1 { 10 } else { 0 };
        let at = t0 + Duration::from_millis(20 * u64::from(i) + late);
        stats.on_rtp(at, 1, 65500u16.wrapping_add(i), 160 * u32::from(i), 8000);
    }
    // |D| = 80 every packet: J converges to 80.
    assert!((75..=80).contains(&stats.jitter()), "{}", stats.jitter());
    assert_eq!((stats.expected(), stats.lost()), (200, 0));
}

#[test]
fn reports_are_valid_rtcp_with_sdes() {
    let mut out = [0u8; 128];
    let sender = SenderInfo {
        ntp: 1 << 32,
        rtp_timestamp: 160,
        packets: 5,
        octets: 800,
    };
    let block = ReportBlock {
        ssrc: 9,
        fraction_lost: 25,
        cumulative_lost: 3,
        highest_seq: 10,
        jitter: 4,
        lsr: 0,
        dlsr: 0,
    };
    let len = write_report(&mut out, 7, Some(sender), Some(block), "centrala");
    assert_eq!(validate_rtcp(&out[..len]), Ok(()));
    assert_eq!((out[0], out[1]), (0x81, 200));
    assert_eq!(&out[52..56], &[0x81, 202, 0, 4]);
    assert_eq!(out[32], 25);
    let rr = write_report(&mut out, 7, None, None, "centrala");
    assert_eq!((out[0], out[1], rr), (0x80, 201, 8 + 20));
    assert_eq!(write_report(&mut [0u8; 16], 7, None, None, "centrala"), 0);
}

#[test]
fn mos_falls_with_loss_and_jitter() {
    let clean = mos(0.0, Duration::ZERO, Duration::ZERO);
    assert!((4.3..=4.5).contains(&clean), "{clean}");
    let lossy = mos(0.05, Duration::from_millis(20), Duration::ZERO);
    assert!(lossy < clean && lossy > 3.0, "{lossy}");
    assert!(mos(0.5, Duration::from_millis(200), Duration::from_millis(300)) < 1.5);
}

use super::*;

fn pkt(event: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

fn drain(rx: &mut Rfc4733Receiver) -> Vec<ReceivedDigit> {
    std::iter::from_fn(|| rx.poll_digit()).collect()
}

#[test]
fn payload_round_trip_and_wire_layout() {
    let ev = TelephoneEvent {
        event: 11,
        end: true,
        volume: 10,
        duration: 1280,
    };
    let bytes = ev.to_bytes();
    assert_eq!(bytes, [0x0B, 0x8A, 0x05, 0x00]);
    assert_eq!(TelephoneEvent::parse(&bytes), Ok(ev));
    // R bit is ignored, extra (redundant) bytes are ignored.
    assert_eq!(
        TelephoneEvent::parse(&[0x05, 0x4A, 0x00, 0xA0, 0xFF, 0xFF]),
        Ok(TelephoneEvent {
            event: 5,
            end: false,
            volume: 10,
            duration: 160
        })
    );
    assert_eq!(
        TelephoneEvent::parse(&[1, 2, 3]),
        Err(DtmfError::ShortPayload(3))
    );
}

#[test]
fn retransmitted_ends_yield_one_digit() {
    let mut rx = Rfc4733Receiver::new();
    let ts = 48_000;
    for d in [0u16, 400, 800, 1200] {
        rx.handle_packet(ts, &pkt(5, false, d)).unwrap();
        assert!(rx.poll_digit().is_none());
    }
    // Start packets repeated with growing duration, then three ends.
    for _ in 0..3 {
        rx.handle_packet(ts, &pkt(5, true, 1280)).unwrap();
    }
    // A late update after the end changes nothing.
    rx.handle_packet(ts, &pkt(5, false, 1200)).unwrap();
    let got = drain(&mut rx);
    assert_eq!(
        got,
        vec![ReceivedDigit {
            digit: DtmfDigit::D5,
            timestamp: ts,
            duration: 1280,
            ended: true
        }]
    );
    assert_eq!(got[0].duration_ms(8000), 160);
}

#[test]
fn new_event_without_end_reports_previous() {
    let mut rx = Rfc4733Receiver::new();
    rx.handle_packet(100, &pkt(1, false, 0)).unwrap();
    rx.handle_packet(100, &pkt(1, false, 400)).unwrap();
    // End of '1' lost; '2' starts.
    rx.handle_packet(2000, &pkt(2, false, 0)).unwrap();
    let got = drain(&mut rx);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].digit, DtmfDigit::D1);
    assert_eq!(got[0].duration, 400);
    assert!(!got[0].ended);
    // Only the end packets of '3' arrive while '2' is still open: both reported, in order.
    rx.handle_packet(4000, &pkt(3, true, 800)).unwrap();
    rx.handle_packet(4000, &pkt(3, true, 800)).unwrap();
    let got: Vec<_> = drain(&mut rx).iter().map(|d| d.digit).collect();
    assert_eq!(got, vec![DtmfDigit::D2, DtmfDigit::D3]);
    // Packets older than the last reported event are ignored.
    rx.handle_packet(2000, &pkt(2, true, 800)).unwrap();
    assert!(rx.poll_digit().is_none());
}

#[test]
fn same_digit_twice_is_two_events() {
    let mut rx = Rfc4733Receiver::new();
    for ts in [1000u32, 3000] {
        rx.handle_packet(ts, &pkt(9, false, 0)).unwrap();
        for _ in 0..3 {
            rx.handle_packet(ts, &pkt(9, true, 640)).unwrap();
        }
    }
    assert_eq!(drain(&mut rx).len(), 2);
}

#[test]
fn timestamp_wrap_is_not_mistaken_for_old_event() {
    let mut rx = Rfc4733Receiver::new();
    rx.handle_packet(u32::MAX - 100, &pkt(4, true, 800))
        .unwrap();
    rx.handle_packet(500, &pkt(4, true, 800)).unwrap();
    assert_eq!(drain(&mut rx).len(), 2);
}

#[test]
fn flush_reports_open_event_and_non_dtmf_is_ignored() {
    let mut rx = Rfc4733Receiver::new();
    rx.handle_packet(10, &pkt(16, false, 0)).unwrap(); // flash-hook-ish, not DTMF
    rx.handle_packet(10, &pkt(16, true, 800)).unwrap();
    assert!(rx.poll_digit().is_none());
    rx.handle_packet(20, &pkt(10, false, 320)).unwrap();
    rx.flush();
    let got = drain(&mut rx);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].digit, DtmfDigit::Star);
    assert!(!got[0].ended);
    assert!(rx.handle_packet(30, &[0]).is_err());
}

#[test]
fn sender_packet_schedule() {
    let pkts: Vec<_> = DigitSender::new(DtmfDigit::Pound, 7777, 160, 8000, 10).collect();
    // 160 ms: updates at 0, 50, 100, 150 ms, then three ends at 160 ms.
    assert_eq!(pkts.len(), 4 + 3);
    assert!(pkts[0].marker);
    assert!(pkts[1..].iter().all(|p| !p.marker));
    assert!(pkts.iter().all(|p| p.timestamp == 7777));
    assert!(
        pkts.iter()
            .all(|p| p.event.event == 11 && p.event.volume == 10)
    );
    let at: Vec<u32> = pkts.iter().map(|p| p.send_at_ms).collect();
    assert_eq!(at, vec![0, 50, 100, 150, 160, 160, 160]);
    let durations: Vec<u16> = pkts.iter().map(|p| p.event.duration).collect();
    assert_eq!(durations, vec![0, 400, 800, 1200, 1280, 1280, 1280]);
    assert_eq!(pkts.iter().filter(|p| p.event.end).count(), 3);
    assert!(pkts[4..].iter().all(|p| p.event.end));
}

#[test]
fn sender_to_receiver_round_trip() {
    let mut rx = Rfc4733Receiver::new();
    let mut ts = 0u32;
    let mut got = Vec::new();
    for d in DtmfDigit::ALL {
        for p in DigitSender::new(d, ts, 100, 8000, 10) {
            rx.handle_packet(p.timestamp, &p.event.to_bytes()).unwrap();
            got.extend(std::iter::from_fn(|| rx.poll_digit()));
        }
        ts = ts.wrapping_add(8000 * 2 / 10); // 200 ms later
    }
    assert_eq!(got.len(), 16);
    for (r, d) in got.iter().zip(DtmfDigit::ALL) {
        assert_eq!(r.digit, d);
        assert_eq!(r.duration_ms(8000), 100);
        assert!(r.ended);
    }
}

#[test]
fn long_digit_duration_saturates_at_u16() {
    let pkts: Vec<_> = DigitSender::new(DtmfDigit::D0, 0, 10_000, 8000, 0).collect();
    assert_eq!(pkts.last().map(|p| p.event.duration), Some(u16::MAX));
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Random packet streams never panic and never report more digits than events seen.
        #[test]
        fn receiver_survives_arbitrary_packets(
            packets in proptest::collection::vec((0u32..5, proptest::collection::vec(any::<u8>(), 0..8)), 0..100)
        ) {
            let mut rx = Rfc4733Receiver::new();
            let mut reported = 0usize;
            let mut timestamps = std::collections::BTreeSet::new();
            for (ts, payload) in &packets {
                if rx.handle_packet(*ts * 1000, payload).is_ok() {
                    timestamps.insert(*ts);
                }
                reported += std::iter::from_fn(|| rx.poll_digit()).count();
            }
            rx.flush();
            reported += std::iter::from_fn(|| rx.poll_digit()).count();
            // At most one digit per (timestamp, event code) pair, at most 16 codes each.
            prop_assert!(reported <= timestamps.len() * 16);
        }
    }
}

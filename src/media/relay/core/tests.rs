use std::net::SocketAddr;
use std::time::Instant;

use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([198, 51, 100, 1], port))
}

fn rtp() -> Vec<u8> {
    let mut p = vec![0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 1, 2, 3, 4];
    p.resize(172, 0xd5);
    p
}

fn rtcp() -> Vec<u8> {
    vec![0x80, 201, 0x00, 0x01, 1, 2, 3, 4]
}

fn send(
    core: &mut RelayCore,
    side: Side,
    channel: Channel,
    from: SocketAddr,
    packet: &[u8],
) -> Verdict {
    let mut buf = packet.to_vec();
    core.handle_packet(Instant::now(), side, channel, from, &mut buf)
}

/// A core where A's SDP said 4000 and B's said 6000.
fn signalled() -> RelayCore {
    let mut core = RelayCore::new();
    core.set_remote(Side::A, addr(4000));
    core.set_remote(Side::B, addr(6000));
    core
}

#[test]
fn forwards_to_the_signalled_address_until_the_far_side_latches() {
    let mut core = signalled();
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Forward {
            to: addr(6000),
            len: 172
        }
    );
    // B's packets come from a NAT-mapped port: we latch to it and send there from now on.
    assert_eq!(
        send(&mut core, Side::B, Channel::Rtp, addr(36000), &rtp()),
        Verdict::Forward {
            to: addr(4000),
            len: 172
        }
    );
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Forward {
            to: addr(36000),
            len: 172
        }
    );
    let stats = core.counters().snapshot();
    assert_eq!(stats.b.latched, Some(addr(36000)));
    assert_eq!(stats.a.latched, Some(addr(4000)));
    assert_eq!(
        (
            stats.a.packets_in,
            stats.a.bytes_in,
            stats.b.packets_out,
            stats.b.bytes_out
        ),
        (2, 344, 2, 344)
    );
}

#[test]
fn latched_side_drops_other_sources_until_the_sdp_changes() {
    let mut core = signalled();
    send(&mut core, Side::B, Channel::Rtp, addr(36000), &rtp());
    assert_eq!(
        send(&mut core, Side::B, Channel::Rtp, addr(36002), &rtp()),
        Verdict::Drop(DropReason::ForeignSource)
    );
    assert_eq!(core.counters().snapshot().b.dropped_foreign, 1);
    // The same SDP again (a session refresh) keeps the latch.
    core.set_remote(Side::B, addr(6000));
    assert_eq!(core.destination(Side::B, Channel::Rtp), Some(addr(36000)));
    // A new address (re-INVITE) drops it; the next packet latches again.
    core.set_remote(Side::B, addr(7000));
    assert_eq!(core.destination(Side::B, Channel::Rtp), Some(addr(7000)));
    assert_eq!(core.counters().snapshot().b.latched, None);
    assert!(matches!(
        send(&mut core, Side::B, Channel::Rtp, addr(36002), &rtp()),
        Verdict::Forward { .. }
    ));
    assert_eq!(core.destination(Side::B, Channel::Rtp), Some(addr(36002)));
}

#[test]
fn drops_until_the_far_side_is_known() {
    let mut core = RelayCore::new();
    core.set_remote(Side::A, addr(4000));
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Drop(DropReason::NoRemote)
    );
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtcp, addr(4001), &rtcp()),
        Verdict::Drop(DropReason::NoRemote)
    );
    assert_eq!(core.counters().snapshot().a.dropped_no_remote, 2);
    // An old-style hold address is no address either.
    core.set_remote(Side::B, SocketAddr::from(([0, 0, 0, 0], 6000)));
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Drop(DropReason::NoRemote)
    );
    core.set_remote(Side::B, addr(6000));
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Forward {
            to: addr(6000),
            len: 172
        }
    );
}

#[test]
fn malformed_packets_are_counted_and_do_not_latch() {
    let mut core = signalled();
    let mut v1 = rtp();
    v1[0] = 0x40;
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(9999), &v1),
        Verdict::Drop(DropReason::Malformed(PacketError::Version))
    );
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(9999), &rtp()[..8]),
        Verdict::Drop(DropReason::Malformed(PacketError::TooShort))
    );
    assert!(matches!(
        send(&mut core, Side::A, Channel::Rtcp, addr(9999), &rtp()),
        Verdict::Drop(DropReason::Malformed(_))
    ));
    let stats = core.counters().snapshot();
    assert_eq!((stats.a.dropped_bad, stats.a.latched), (3, None));
    assert!(matches!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Forward { .. }
    ));
}

#[test]
fn hold_stops_rtp_toward_the_held_side_but_not_rtcp() {
    let mut core = signalled();
    // A holds: our answer to A is recvonly, our offer to B sendonly.
    core.set_direction(Side::A, Direction::RecvOnly);
    core.set_direction(Side::B, Direction::SendOnly);
    assert!(matches!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Forward { .. }
    ));
    assert_eq!(
        send(&mut core, Side::B, Channel::Rtp, addr(6000), &rtp()),
        Verdict::Drop(DropReason::Direction)
    );
    assert_eq!(
        send(&mut core, Side::B, Channel::Rtcp, addr(6001), &rtcp()),
        Verdict::Forward {
            to: addr(4001),
            len: 8
        }
    );
    assert_eq!(core.counters().snapshot().b.dropped_direction, 1);
    // Inactive both ways.
    core.set_direction(Side::A, Direction::Inactive);
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtp, addr(4000), &rtp()),
        Verdict::Drop(DropReason::Direction)
    );
    // Unhold.
    core.set_direction(Side::A, Direction::SendRecv);
    core.set_direction(Side::B, Direction::SendRecv);
    assert!(matches!(
        send(&mut core, Side::B, Channel::Rtp, addr(6000), &rtp()),
        Verdict::Forward { .. }
    ));
}

#[test]
fn rtcp_uses_port_plus_one_or_the_rtcp_attribute_and_latches_separately() {
    let mut core = signalled();
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtcp, addr(4001), &rtcp()),
        Verdict::Forward {
            to: addr(6001),
            len: 8
        }
    );
    core.set_remote_rtcp(Side::B, addr(6100));
    assert_eq!(
        send(&mut core, Side::A, Channel::Rtcp, addr(4001), &rtcp()),
        Verdict::Forward {
            to: addr(6100),
            len: 8
        }
    );
    send(&mut core, Side::B, Channel::Rtcp, addr(36001), &rtcp());
    assert_eq!(core.destination(Side::B, Channel::Rtcp), Some(addr(36001)));
    assert_eq!(core.destination(Side::B, Channel::Rtp), Some(addr(6000)));
    let stats = core.counters().snapshot();
    assert_eq!(
        (
            stats.a.rtcp_in,
            stats.b.rtcp_out,
            stats.b.rtcp_in,
            stats.a.rtcp_out
        ),
        (2, 2, 1, 1)
    );
}

proptest::proptest! {
    /// Any datagram is either forwarded or counted as dropped, and nothing panics.
    #[test]
    fn every_datagram_is_forwarded_or_counted(
        packets in proptest::collection::vec((proptest::bool::ANY, proptest::collection::vec(0u8..=255, 0..64)), 0..40),
    ) {
        let mut core = signalled();
        let mut forwarded = 0u64;
        for (rtcp_channel, mut bytes) in packets {
            let channel = if rtcp_channel { Channel::Rtcp } else { Channel::Rtp };
            if let Verdict::Forward { len, .. } = core.handle_packet(Instant::now(), Side::A, channel, addr(4000), &mut bytes) {
                proptest::prop_assert!(len <= bytes.len());
                forwarded += 1;
            }
        }
        let s = core.counters().snapshot();
        let dropped = s.a.dropped_bad + s.a.dropped_no_remote + s.a.dropped_direction + s.a.dropped_foreign;
        proptest::prop_assert_eq!(s.a.packets_in + s.a.rtcp_in, forwarded + dropped);
        proptest::prop_assert_eq!(s.b.packets_out + s.b.rtcp_out, forwarded);
    }
}

#[test]
fn a_silent_side_raises_one_silence_event_after_the_limit() {
    use crate::media::relay::events::{LegCodec, MediaEvent};
    let mut core = signalled();
    core.set_codec(Side::A, LegCodec::pcmu()).unwrap();
    core.set_inband_dtmf(Side::A, true).unwrap();
    core.watch_silence(Side::A, Some(std::time::Duration::from_millis(100)));
    assert!(core.needs_ticks());
    let mut now = Instant::now();
    let mut events = Vec::new();
    for _ in 0..10 {
        now += std::time::Duration::from_millis(20);
        core.handle_tick(now);
        events.extend(std::iter::from_fn(|| core.poll_event()));
    }
    assert_eq!(events, [MediaEvent::Silence { side: Side::A }]);
}

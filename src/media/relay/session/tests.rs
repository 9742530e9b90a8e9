use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::timeout;

use super::*;

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn rtp(seq: u16, payload: u8) -> Vec<u8> {
    let [hi, lo] = seq.to_be_bytes();
    let mut p = vec![0x80, 0x00, hi, lo, 0, 0, 0, 160, 9, 9, 9, 9];
    p.resize(172, payload);
    p
}

async fn bind() -> UdpSocket {
    UdpSocket::bind((loopback(), 0))
        .await
        .expect("bind loopback")
}

async fn receive(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (len, from) = timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
        .await
        .expect("packet in time")
        .expect("recv");
    (buf[..len].to_vec(), from)
}

/// Waits until the task has processed what the test sent (stats are updated per packet).
async fn until(session: &MediaSession, done: impl Fn(&SessionStats) -> bool) -> SessionStats {
    for _ in 0..200 {
        let stats = session.stats();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("relay did not get there: {:?}", session.stats());
}

#[tokio::test]
async fn packets_flow_both_ways_and_latch_to_the_real_source() {
    let pool = PortPool::new(loopback(), 47100, 47199);
    let session = MediaSession::open(&pool, loopback()).await.expect("open");
    let caller = bind().await;
    let callee = bind().await;
    // The caller's SDP names a port it does not send from (a NAT rewrote it).
    session.set_remote(Side::A, SocketAddr::new(loopback(), 9));
    session.set_remote(Side::B, callee.local_addr().expect("addr"));

    caller
        .send_to(&rtp(1, 0xaa), session.local(Side::A))
        .await
        .expect("send");
    let (packet, from) = receive(&callee).await;
    assert_eq!(packet, rtp(1, 0xaa));
    assert_eq!(from, session.local(Side::B));

    callee
        .send_to(&rtp(7, 0xbb), session.local(Side::B))
        .await
        .expect("send");
    let (packet, from) = receive(&caller).await;
    assert_eq!(packet, rtp(7, 0xbb));
    assert_eq!(from, session.local(Side::A));

    let stats = session.stats();
    assert_eq!(stats.a.latched, Some(caller.local_addr().expect("addr")));
    assert_eq!(stats.b.latched, Some(callee.local_addr().expect("addr")));
    assert_eq!(
        (
            stats.a.packets_in,
            stats.a.packets_out,
            stats.b.packets_in,
            stats.b.packets_out
        ),
        (1, 1, 1, 1)
    );
    session.close().await;
}

#[tokio::test]
async fn rtcp_is_relayed_between_the_rtcp_sockets() {
    let pool = PortPool::new(loopback(), 42100, 42199);
    let session = MediaSession::open(&pool, loopback()).await.expect("open");
    let caller_rtcp = bind().await;
    let callee_rtcp = bind().await;
    session.set_remote(Side::B, SocketAddr::new(loopback(), 9));
    session.set_remote_rtcp(Side::B, callee_rtcp.local_addr().expect("addr"));
    let report = [0x80, 201, 0x00, 0x01, 1, 2, 3, 4];
    let a_rtcp = SocketAddr::new(loopback(), session.local(Side::A).port() + 1);
    caller_rtcp.send_to(&report, a_rtcp).await.expect("send");
    let (packet, from) = receive(&callee_rtcp).await;
    assert_eq!(packet, report);
    assert_eq!(from.port(), session.local(Side::B).port() + 1);
    let stats = until(&session, |s| s.b.rtcp_out == 1).await;
    assert_eq!(stats.a.rtcp_in, 1);
}

#[tokio::test]
async fn bad_and_early_packets_are_counted_and_dropped() {
    let pool = PortPool::new(loopback(), 42200, 42299);
    let session = MediaSession::open(&pool, loopback()).await.expect("open");
    let caller = bind().await;
    let callee = bind().await;
    // B's address is not known yet.
    caller
        .send_to(&rtp(1, 1), session.local(Side::A))
        .await
        .expect("send");
    until(&session, |s| s.a.dropped_no_remote == 1).await;
    session.set_remote(Side::B, callee.local_addr().expect("addr"));
    caller
        .send_to(b"not rtp at all", session.local(Side::A))
        .await
        .expect("send");
    caller
        .send_to(&rtp(2, 2)[..10], session.local(Side::A))
        .await
        .expect("send");
    until(&session, |s| s.a.dropped_bad == 2).await;
    caller
        .send_to(&rtp(3, 3), session.local(Side::A))
        .await
        .expect("send");
    let (packet, _) = receive(&callee).await;
    assert_eq!(
        packet,
        rtp(3, 3),
        "only the good packet after the address came through"
    );
}

#[tokio::test]
async fn hold_stops_forwarding_toward_the_held_side() {
    let pool = PortPool::new(loopback(), 42300, 42399);
    let session = MediaSession::open(&pool, loopback()).await.expect("open");
    let caller = bind().await;
    let callee = bind().await;
    session.set_remote(Side::A, caller.local_addr().expect("addr"));
    session.set_remote(Side::B, callee.local_addr().expect("addr"));
    session.set_direction(Side::A, Direction::RecvOnly);
    session.set_direction(Side::B, Direction::SendOnly);
    callee
        .send_to(&rtp(1, 1), session.local(Side::B))
        .await
        .expect("send");
    until(&session, |s| s.b.dropped_direction == 1).await;
    caller
        .send_to(&rtp(2, 2), session.local(Side::A))
        .await
        .expect("send");
    assert_eq!(receive(&callee).await.0, rtp(2, 2));
}

#[tokio::test]
async fn close_frees_the_ports() {
    // Room for exactly one session (two pairs).
    let pool = PortPool::new(loopback(), 42400, 42403);
    let session = MediaSession::open(&pool, loopback()).await.expect("open");
    assert!(matches!(
        MediaSession::open(&pool, loopback()).await,
        Err(MediaError::PortsExhausted { .. })
    ));
    assert_eq!(pool.in_use(), 2, "the open session holds two pairs");
    let _ = session.local(Side::A);
    session.close().await;
    assert_eq!(pool.in_use(), 0);
    let again = MediaSession::open(&pool, loopback())
        .await
        .expect("ports free again");
    assert_eq!(pool.in_use(), 2);
    drop(again);
}

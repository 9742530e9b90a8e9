//! The UDP side: one socket shared by the receive loops and all senders.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, UdpSocket};

use super::Ingress;
use crate::sip::peer::Peer;

/// Large kernel buffers absorb bursts at thousands of calls per second.
const SOCKET_BUFFER: usize = 8 * 1024 * 1024;
/// Receive loops sharing the socket.
const RECEIVERS: usize = 2;
/// Largest UDP datagram.
const MAX_DATAGRAM: usize = 65_535;

/// Binds UDP and TCP to the same address; with port 0 the UDP port is chosen first and TCP
/// takes the same one.
pub(super) async fn bind_pair(listen: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let udp = bind_udp(listen)?;
    let port = udp.local_addr()?.port();
    let listener = TcpListener::bind(SocketAddr::new(listen.ip(), port)).await?;
    Ok((udp, listener))
}

fn bind_udp(listen: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(listen),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    // Best effort: the kernel caps the sizes at net.core.*mem_max.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&listen.into())?;
    UdpSocket::from_std(socket.into())
}

pub(super) fn spawn_receivers(socket: Arc<UdpSocket>, ingress: Ingress) {
    for _ in 0..RECEIVERS {
        let socket = socket.clone();
        let ingress = ingress.clone();
        tokio::spawn(async move {
            // One buffer for the largest datagram, reused; each message gets an allocation of
            // its own size. (Splitting messages off a shared buffer made every message kept
            // by a call pin part of a large block, and needed a fresh block every few
            // datagrams, which the kernel had to fault in.)
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                match socket.recv_from(&mut buf).await {
                    Ok((len, from)) => {
                        let datagram = Bytes::copy_from_slice(&buf[..len]);
                        ingress(datagram, Peer::udp(from), true);
                    }
                    Err(err) => {
                        // ICMP errors surface here on some systems; they are not fatal.
                        tracing::debug!(%err, "UDP receive error");
                    }
                }
            }
        });
    }
}

pub(super) fn send(socket: &Arc<UdpSocket>, to: SocketAddr, bytes: Bytes) {
    match socket.try_send_to(&bytes, to) {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Err(err) = socket.send_to(&bytes, to).await {
                    tracing::debug!(%err, "UDP send failed");
                }
            });
        }
        Err(err) => tracing::debug!(%err, "UDP send failed"),
    }
}

//! SIP transport shell: the shared UDP socket and the TCP connections on the same port.
//!
//! Owns: sockets, TCP framing by Content-Length (with a maximum message size), the table of
//! open connections (so responses and requests to TCP-registered contacts reuse them).
//! Must not touch: SIP semantics. It hands every received message, as bytes plus the `Peer`
//! it came from, to an `Ingress` callback (the endpoint), and sends bytes where it is told.
//! Driven by: `sip::endpoint`, which calls `send` and receives through `Ingress`.

mod tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::{TcpListener, UdpSocket};

use crate::sip::peer::{Peer, Transport};
use tcp::Connections;

/// Receives every message the transport reads: the bytes of one message, where it came
/// from, and whether it was a datagram (framing rules differ).
pub type Ingress = Arc<dyn Fn(Bytes, Peer, bool) + Send + Sync>;

/// Handle for sending; cheap to clone.
#[derive(Clone)]
pub struct TransportHandle {
    udp: Arc<UdpSocket>,
    connections: Arc<Connections>,
    local: SocketAddr,
}

/// Bound but not yet receiving sockets; `start` begins reading.
pub struct BoundTransport {
    handle: TransportHandle,
    listener: TcpListener,
    max_message_size: usize,
}

/// Binds UDP and TCP on `listen` (the same port for both; port 0 picks one free for both).
pub async fn bind(listen: SocketAddr, max_message_size: usize) -> io::Result<BoundTransport> {
    let (udp, listener) = udp::bind_pair(listen).await?;
    let local = udp.local_addr()?;
    let handle = TransportHandle {
        udp: Arc::new(udp),
        connections: Arc::new(Connections::default()),
        local,
    };
    Ok(BoundTransport {
        handle,
        listener,
        max_message_size,
    })
}

impl BoundTransport {
    /// The sending handle (available before receiving starts, to break the start-up cycle).
    pub fn handle(&self) -> TransportHandle {
        self.handle.clone()
    }

    /// Starts the receive loops; every message goes to `ingress`.
    pub fn start(self, ingress: Ingress) {
        udp::spawn_receivers(self.handle.udp.clone(), ingress.clone());
        tcp::spawn_acceptor(
            self.listener,
            self.handle.connections.clone(),
            ingress,
            self.max_message_size,
        );
    }
}

impl TransportHandle {
    /// The bound address (UDP and TCP share it).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends one message. Never blocks: UDP falls back to a task when the socket buffer is
    /// full, TCP queues on the connection (opening one when none is known).
    pub fn send(&self, to: Peer, bytes: Bytes) {
        match to.transport {
            Transport::Udp => udp::send(&self.udp, to.addr, bytes),
            Transport::Tcp { conn } => self.connections.send(conn, to.addr, bytes),
        }
    }

    /// Open TCP connections (for metrics and tests).
    pub fn tcp_connections(&self) -> usize {
        self.connections.len()
    }
}

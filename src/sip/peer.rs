//! Where a SIP message came from or goes to: the transport and the remote address.
//!
//! Owns: `Peer`, `Transport` and `ConnId`, shared by the transport shell, the transaction
//! layer (which needs to know whether the transport is reliable) and the registrar (which
//! remembers the connection a TCP contact registered over, to reuse it).

use std::fmt;
use std::net::SocketAddr;

/// Identifies one TCP connection held by the transport shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// The transport a message travels over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Datagrams on the shared UDP socket.
    Udp,
    /// A stream connection. `conn` is the connection the message arrived on, or the one to
    /// reuse; `None` means "open a new connection to the address".
    Tcp {
        /// The connection to use, if one is known.
        conn: Option<ConnId>,
    },
}

impl Transport {
    /// Reliable transports need no retransmissions (RFC 3261 section 17).
    pub fn is_reliable(&self) -> bool {
        matches!(self, Transport::Tcp { .. })
    }

    /// The transport token used in Via headers and `transport=` URI parameters.
    pub fn token(&self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp { .. } => "TCP",
        }
    }
}

/// The other end of a message: the transport plus the remote socket address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// How to reach the peer.
    pub transport: Transport,
    /// The peer's address (the source address for received messages).
    pub addr: SocketAddr,
}

impl Peer {
    /// A peer reached over UDP.
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer {
            transport: Transport::Udp,
            addr,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport.token(), self.addr)
    }
}

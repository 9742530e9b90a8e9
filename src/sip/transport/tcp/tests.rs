//! The caps on TCP connections, against real sockets on loopback.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::*;

async fn from(ip: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the server closed `stream` within `within`.
async fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(within, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

async fn server(limits: Limits) -> (SocketAddr, Arc<Connections>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(Connections::with_limits(limits));
    let ingress: Ingress = Arc::new(|_, _, _| {});
    spawn_acceptor(listener, connections.clone(), ingress, 65_535);
    (addr, connections)
}

#[tokio::test]
async fn connections_over_the_per_address_and_total_caps_are_closed() {
    let limits = Limits {
        per_ip: 2,
        total: 3,
        idle: Duration::from_secs(60),
    };
    let (addr, connections) = server(limits).await;
    let mut a1 = from("127.0.0.1", addr).await;
    let mut a2 = from("127.0.0.1", addr).await;
    let mut a3 = from("127.0.0.1", addr).await;
    assert!(
        closed(&mut a3, Duration::from_secs(2)).await,
        "third from one address"
    );
    let mut b1 = from("127.0.0.2", addr).await;
    let mut b2 = from("127.0.0.2", addr).await;
    assert!(
        closed(&mut b2, Duration::from_secs(2)).await,
        "fourth in all"
    );
    assert!(!closed(&mut a1, Duration::from_millis(200)).await);
    assert!(!closed(&mut a2, Duration::from_millis(10)).await);
    assert!(!closed(&mut b1, Duration::from_millis(10)).await);
    assert_eq!(connections.len(), 3);
    drop(a1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut b3 = from("127.0.0.2", addr).await;
    assert!(
        !closed(&mut b3, Duration::from_millis(300)).await,
        "a closed connection frees its place"
    );
}

#[tokio::test]
async fn a_connection_that_receives_nothing_is_closed_after_the_idle_time() {
    let limits = Limits {
        per_ip: 8,
        total: 8,
        idle: Duration::from_millis(300),
    };
    let (addr, connections) = server(limits).await;
    let mut quiet = from("127.0.0.1", addr).await;
    assert!(closed(&mut quiet, Duration::from_secs(3)).await);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(connections.len(), 0, "its place is free again");
}

//! The TCP side: accepted and outgoing connections, Content-Length framing, and the table
//! that lets a response or a request to a TCP-registered phone reuse its connection.
//!
//! Connections are capped so that they never use up the file descriptors RTP needs: at most
//! [`Limits::per_ip`] from one address and [`Limits::total`] in all (by default a quarter of
//! the open-files limit, so the RTP port pool, two descriptors per pair, keeps the rest); an
//! accepted connection over a cap is closed at once. A connection that receives nothing for
//! [`Limits::idle`] is closed (phones on TCP send CRLF keep-alives or re-register well
//! within it).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Ingress;
use crate::sip::message::{frame, skip_keepalive};
use crate::sip::peer::{ConnId, Peer, Transport};

/// Messages queued per connection before it is considered stuck and closed.
const WRITE_QUEUE: usize = 1024;

/// Connections from one address at most, by default.
const PER_IP: usize = 64;
/// Connections in all at most, by default (before the open-files limit is considered).
const TOTAL: usize = 4096;
/// How long a connection may receive nothing before it is closed, by default.
const IDLE: Duration = Duration::from_secs(600);

/// The caps on TCP connections.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// From one IP address.
    pub per_ip: usize,
    /// In all.
    pub total: usize,
    /// Closed after receiving nothing for this long.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let fds = crate::media::ports::open_files_limit().unwrap_or(1024);
        Limits {
            per_ip: PER_IP,
            total: TOTAL.min(fds / 4).max(16),
            idle: IDLE,
        }
    }
}

/// Open connections by id and by remote address.
#[derive(Default)]
pub(super) struct Connections {
    next_id: AtomicU64,
    table: Mutex<Table>,
    /// Where readers deliver messages, and the size limit; set when receiving starts.
    ingress: OnceLock<(Ingress, usize)>,
    limits: Limits,
}

#[derive(Default)]
struct Table {
    by_id: HashMap<ConnId, (SocketAddr, mpsc::Sender<Bytes>)>,
    by_addr: HashMap<SocketAddr, ConnId>,
    /// Open connections per remote IP.
    per_ip: HashMap<IpAddr, usize>,
}

impl Connections {
    /// A table with `limits` instead of the defaults.
    #[cfg(test)]
    pub(super) fn with_limits(limits: Limits) -> Connections {
        Connections {
            limits,
            ..Connections::default()
        }
    }

    /// Whether one more connection with `ip` stays within the caps.
    fn has_room_for(&self, ip: IpAddr) -> bool {
        let table = self.lock();
        table.by_id.len() < self.limits.total
            && table.per_ip.get(&ip).copied().unwrap_or(0) < self.limits.per_ip
    }

    pub(super) fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Queues `bytes` on the named connection, else on any connection to `addr`, else on a new
    /// connection to `addr`.
    pub(super) fn send(self: &Arc<Self>, conn: Option<ConnId>, addr: SocketAddr, bytes: Bytes) {
        let sender = {
            let table = self.lock();
            conn.and_then(|id| table.by_id.get(&id))
                .or_else(|| table.by_addr.get(&addr).and_then(|id| table.by_id.get(id)))
                .map(|(_, tx)| tx.clone())
        };
        match sender {
            Some(tx) => {
                if tx.try_send(bytes).is_err() {
                    tracing::warn!("TCP write queue full or closed; message dropped");
                }
            }
            None => self.connect_and_send(addr, bytes),
        }
    }

    fn connect_and_send(self: &Arc<Self>, addr: SocketAddr, bytes: Bytes) {
        let connections = self.clone();
        tokio::spawn(async move {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    let tx = connections.adopt(stream, addr);
                    let _ = tx.try_send(bytes);
                }
                Err(err) => tracing::debug!(%err, %addr, "TCP connect failed"),
            }
        });
    }

    /// Registers a connection (accepted or opened by us), spawns its reader and writer, and
    /// returns the queue to write to.
    fn adopt(self: &Arc<Self>, stream: TcpStream, addr: SocketAddr) -> mpsc::Sender<Bytes> {
        let id = ConnId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        {
            let mut table = self.lock();
            table.by_id.insert(id, (addr, tx.clone()));
            table.by_addr.insert(addr, id);
            *table.per_ip.entry(addr.ip()).or_insert(0) += 1;
        }
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        tokio::spawn(write_loop(writer, rx));
        let connections = self.clone();
        tokio::spawn(async move {
            if let Some((ingress, max)) = connections.ingress.get().cloned() {
                read_loop(reader, id, addr, ingress, max, connections.limits.idle).await;
            }
            connections.forget(id, addr);
        });
        tx
    }

    fn forget(&self, id: ConnId, addr: SocketAddr) {
        let mut table = self.lock();
        if table.by_id.remove(&id).is_none() {
            return;
        }
        if table.by_addr.get(&addr) == Some(&id) {
            table.by_addr.remove(&addr);
        }
        if let Some(count) = table.per_ip.get_mut(&addr.ip()) {
            *count -= 1;
            if *count == 0 {
                table.per_ip.remove(&addr.ip());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding this lock would be our bug; the table stays usable.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(super) fn spawn_acceptor(
    listener: TcpListener,
    connections: Arc<Connections>,
    ingress: Ingress,
    max_message_size: usize,
) {
    let _ = connections.ingress.set((ingress, max_message_size));
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, addr)) if connections.has_room_for(addr.ip()) => {
                    connections.adopt(stream, addr);
                }
                Ok((stream, addr)) => {
                    tracing::warn!(
                        %addr,
                        per_ip = connections.limits.per_ip,
                        total = connections.limits.total,
                        "TCP connection refused: over the connection cap"
                    );
                    drop(stream);
                }
                Err(err) => {
                    tracing::warn!(%err, "TCP accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    });
}

async fn write_loop(mut writer: tokio::net::tcp::OwnedWriteHalf, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(bytes) = rx.recv().await {
        if writer.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = writer.shutdown().await;
}

async fn read_loop(
    mut reader: tokio::net::tcp::OwnedReadHalf,
    id: ConnId,
    addr: SocketAddr,
    ingress: Ingress,
    max_message_size: usize,
    idle: Duration,
) {
    let peer = Peer {
        transport: Transport::Tcp { conn: Some(id) },
        addr,
    };
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        match tokio::time::timeout(idle, reader.read_buf(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => {
                tracing::debug!(%addr, "closing an idle TCP connection");
                return;
            }
        }
        loop {
            let skip = skip_keepalive(&buf);
            buf.advance(skip);
            match frame(&buf, max_message_size) {
                Ok(Some(len)) => ingress(buf.split_to(len).freeze(), peer, false),
                Ok(None) => break,
                Err(err) => {
                    tracing::info!(%err, "closing TCP connection after a framing error");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

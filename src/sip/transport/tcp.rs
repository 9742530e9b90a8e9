//! The TCP side: accepted and outgoing connections, Content-Length framing, and the table
//! that lets a response or a request to a TCP-registered phone reuse its connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Ingress;
use crate::sip::message::{frame, skip_keepalive};
use crate::sip::peer::{ConnId, Peer, Transport};

/// Messages queued per connection before it is considered stuck and closed.
const WRITE_QUEUE: usize = 1024;

/// Open connections by id and by remote address.
#[derive(Default)]
pub(super) struct Connections {
    next_id: AtomicU64,
    table: Mutex<Table>,
    /// Where readers deliver messages, and the size limit; set when receiving starts.
    ingress: OnceLock<(Ingress, usize)>,
}

#[derive(Default)]
struct Table {
    by_id: HashMap<ConnId, (SocketAddr, mpsc::Sender<Bytes>)>,
    by_addr: HashMap<SocketAddr, ConnId>,
}

impl Connections {
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
        }
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        tokio::spawn(write_loop(writer, rx));
        let connections = self.clone();
        tokio::spawn(async move {
            if let Some((ingress, max)) = connections.ingress.get().cloned() {
                read_loop(reader, id, addr, ingress, max).await;
            }
            connections.forget(id, addr);
        });
        tx
    }

    fn forget(&self, id: ConnId, addr: SocketAddr) {
        let mut table = self.lock();
        table.by_id.remove(&id);
        if table.by_addr.get(&addr) == Some(&id) {
            table.by_addr.remove(&addr);
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
                Ok((stream, addr)) => {
                    connections.adopt(stream, addr);
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
) {
    let peer = Peer {
        transport: Transport::Tcp { conn: Some(id) },
        addr,
    };
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        match reader.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
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

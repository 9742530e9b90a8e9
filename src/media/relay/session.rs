//! The relay shell: `MediaSession`, the handle the call task holds, and the tokio task that
//! moves one session's packets.
//!
//! Owns: the session's two port pairs (inside the task), the command channel, the task handle.
//! One task per session polls its four sockets and its command channel in one `poll_fn`, with
//! one reusable receive buffer: no allocation, no lock and no channel per packet. A send that
//! would block waits for the socket; a failed send is counted and the packet dropped.
//! Must not touch: per-packet decisions (they are `RelayCore`'s), SDP, SIP.
//! Driven by: `calls`. Dropping the handle (or `close`) ends the task, which frees the ports.

use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::media::MediaError;
use crate::media::ports::{PortPool, RtpPortPair};
use crate::media::relay::Side;
use crate::media::relay::core::{Channel, RelayCore, Verdict};
use crate::media::relay::stats::{Counters, SessionStats};
use crate::media::sdp::Direction;

/// The largest datagram relayed whole; longer ones are truncated by the receive and will
/// usually fail validation. RTP over UDP in telephony stays far below the Ethernet MTU.
const MAX_DATAGRAM: usize = 2048;

/// A running anchored media session: one port pair toward each leg and the relay task.
#[derive(Debug)]
pub struct MediaSession {
    /// Local commands to the task (remote addresses, directions, close).
    commands: mpsc::UnboundedSender<Command>,
    /// Shared with the task, which is their only writer.
    counters: Arc<Counters>,
    /// The addresses we advertise in SDP, by `Side::index`.
    local: [SocketAddr; 2],
    /// `None` once closed; aborted on drop.
    task: Option<JoinHandle<()>>,
}

#[derive(Debug)]
enum Command {
    Remote(Side, SocketAddr),
    RemoteRtcp(Side, SocketAddr),
    Direction(Side, Direction),
    Close,
}

impl MediaSession {
    /// Allocates one port pair per side (A toward the caller, B toward the callee) and spawns
    /// the relay task. Must be called within a tokio runtime. Fails when the pool is exhausted
    /// (answer 503).
    pub async fn open(pool: &PortPool, advertised_ip: IpAddr) -> Result<MediaSession, MediaError> {
        let a = pool.allocate().await?;
        let b = pool.allocate().await?;
        let local = [
            SocketAddr::new(advertised_ip, a.port),
            SocketAddr::new(advertised_ip, b.port),
        ];
        let counters = Arc::new(Counters::default());
        let core = RelayCore::with_counters(Arc::clone(&counters));
        let (commands, inbox) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(core, [a, b], inbox).instrument(tracing::Span::current()));
        Ok(MediaSession {
            commands,
            counters,
            local,
            task: Some(task),
        })
    }

    /// Our address toward `side` (advertised IP and that side's RTP port), for the SDP.
    pub fn local(&self, side: Side) -> SocketAddr {
        self.local[side.index()]
    }

    /// Sets where `side`'s far end said (in SDP) it receives RTP; RTCP goes to port + 1 unless
    /// `set_remote_rtcp` is called. Once packets arrive on that side's socket the relay latches
    /// to their source instead; a changed address (re-INVITE) drops the latch.
    pub fn set_remote(&self, side: Side, rtp: SocketAddr) {
        self.command(Command::Remote(side, rtp));
    }

    /// Sets `side`'s RTCP address from an SDP `a=rtcp` attribute.
    pub fn set_remote_rtcp(&self, side: Side, rtcp: SocketAddr) {
        self.command(Command::RemoteRtcp(side, rtcp));
    }

    /// Sets the direction Centrala negotiated toward `side` (the one in our SDP to it): e.g.
    /// `RecvOnly` stops forwarding RTP toward that side, `SendOnly` stops forwarding its RTP.
    pub fn set_direction(&self, side: Side, direction: Direction) {
        self.command(Command::Direction(side, direction));
    }

    /// A snapshot of both sides' counters and latched addresses.
    pub fn stats(&self) -> SessionStats {
        self.counters.snapshot()
    }

    /// Stops the task and waits until it has freed its ports.
    pub async fn close(mut self) {
        self.command(Command::Close);
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            tracing::warn!(%err, "media relay task failed");
        }
    }

    fn command(&self, command: Command) {
        // The task only ends on close or drop of this handle, so a failed send cannot lose
        // anything that matters.
        let _ = self.commands.send(command);
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What one poll of the session's sources produced.
enum Event {
    Command(Option<Command>),
    Packet {
        side: Side,
        channel: Channel,
        from: SocketAddr,
        len: usize,
    },
    RecvError {
        side: Side,
        channel: Channel,
        error: io::Error,
    },
}

/// The relay task: waits for a command or a datagram, feeds the core, sends what it says.
async fn run(
    mut core: RelayCore,
    pairs: [RtpPortPair; 2],
    mut inbox: mpsc::UnboundedReceiver<Command>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut start = 0;
    loop {
        start = (start + 1) % SOCKETS.len();
        match poll_fn(|cx| poll_sources(cx, &pairs, &mut inbox, &mut buf, start)).await {
            Event::Command(None | Some(Command::Close)) => break,
            Event::Command(Some(command)) => apply(&mut core, command),
            Event::Packet {
                side,
                channel,
                from,
                len,
            } => {
                let Some(packet) = buf.get_mut(..len) else {
                    continue;
                };
                if let Verdict::Forward { to, len } =
                    core.handle_packet(Instant::now(), side, channel, from, packet)
                {
                    let out = side.other();
                    let socket = socket(&pairs[out.index()], channel);
                    if let Err(err) = send(socket, &buf[..len], to).await {
                        tracing::debug!(?out, %err, "relay send failed");
                        core.record_send_error(out);
                    }
                }
            }
            Event::RecvError {
                side,
                channel,
                error,
            } => {
                // ICMP errors surface here on some platforms; the socket stays usable.
                tracing::debug!(?side, ?channel, %error, "relay receive failed");
            }
        }
    }
}

/// The four sockets, in polling order.
const SOCKETS: [(Side, Channel); 4] = [
    (Side::A, Channel::Rtp),
    (Side::B, Channel::Rtp),
    (Side::A, Channel::Rtcp),
    (Side::B, Channel::Rtcp),
];

/// Polls the command channel first, then the sockets starting at `start` (so one busy socket
/// cannot starve the others).
fn poll_sources(
    cx: &mut Context<'_>,
    pairs: &[RtpPortPair; 2],
    inbox: &mut mpsc::UnboundedReceiver<Command>,
    buf: &mut [u8],
    start: usize,
) -> Poll<Event> {
    if let Poll::Ready(command) = inbox.poll_recv(cx) {
        return Poll::Ready(Event::Command(command));
    }
    for step in 0..SOCKETS.len() {
        let (side, channel) = SOCKETS[(start + step) % SOCKETS.len()];
        let mut read = ReadBuf::new(buf);
        match socket(&pairs[side.index()], channel).poll_recv_from(cx, &mut read) {
            Poll::Ready(Ok(from)) => {
                let len = read.filled().len();
                return Poll::Ready(Event::Packet {
                    side,
                    channel,
                    from,
                    len,
                });
            }
            Poll::Ready(Err(error)) => {
                return Poll::Ready(Event::RecvError {
                    side,
                    channel,
                    error,
                });
            }
            Poll::Pending => {}
        }
    }
    Poll::Pending
}

fn apply(core: &mut RelayCore, command: Command) {
    match command {
        Command::Remote(side, rtp) => core.set_remote(side, rtp),
        Command::RemoteRtcp(side, rtcp) => core.set_remote_rtcp(side, rtcp),
        Command::Direction(side, direction) => core.set_direction(side, direction),
        Command::Close => {}
    }
}

fn socket(pair: &RtpPortPair, channel: Channel) -> &UdpSocket {
    match channel {
        Channel::Rtp => &pair.rtp,
        Channel::Rtcp => &pair.rtcp,
    }
}

/// Sends without waiting when the socket has room, else waits for it.
async fn send(socket: &UdpSocket, packet: &[u8], to: SocketAddr) -> io::Result<usize> {
    match socket.try_send_to(packet, to) {
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => socket.send_to(packet, to).await,
        result => result,
    }
}

#[cfg(test)]
mod tests;

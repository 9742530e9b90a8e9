//! The relay shell: `MediaSession`, the handle the call task holds, and the tokio task that
//! moves one session's packets.
//!
//! Owns: the session's two port pairs (inside the task), the command channel, the task handle.
//! One task per session polls its four sockets and its command channel in one `poll_fn`, with
//! one reusable receive buffer: no allocation, no lock and no channel per packet. A send that
//! would block waits for the socket; a failed send is counted and the packet dropped.
//! Must not touch: per-packet decisions (they are `RelayCore`'s), SDP, SIP.
//! Driven by: `calls`. Dropping the handle (or `close`) ends the task, which frees the ports.
//!
//! While the core `needs_ticks` (transcoding, a playback, DTMF being sent, recording, in-band
//! DTMF), the task also runs a 20 ms `tokio::time::Interval` (missed ticks burst, so the
//! outgoing audio keeps its clock) and calls `RelayCore::handle_tick`; the interval is dropped
//! again when nothing needs it. After every input the task drains the core's transmits and
//! events (events go to the channel from `MediaSession::events`).

use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};
use tracing::Instrument;

use crate::media::MediaError;
use crate::media::dtmf::DtmfDigit;
use crate::media::player::Playback;
use crate::media::ports::{PortPool, RtpPortPair};
use crate::media::recorder::{RecorderTap, RecordingDone, RecordingError, RecordingInfo};
use crate::media::relay::Side;
use crate::media::relay::core::{Channel, RelayCore, Verdict};
use crate::media::relay::events::{LegCodec, MediaEvent};
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
    /// The receiving end of the task's events, until the call layer takes it.
    events: Option<mpsc::UnboundedReceiver<MediaEvent>>,
    /// Resolves when the running recording's writer has closed its file.
    recording: Option<RecordingDone>,
}

#[derive(Debug)]
enum Command {
    Remote(Side, SocketAddr),
    RemoteRtcp(Side, SocketAddr),
    Direction(Side, Direction),
    Codec(Side, LegCodec),
    Inband(Side, bool),
    Play(Side, Playback),
    StopPlayback(Side),
    SendDtmf(Side, DtmfDigit),
    StartRecording(RecorderTap),
    PauseRecording(bool),
    WatchSilence(Side, Option<Duration>),
    /// Stop feeding the recorder; answers with the frames it dropped.
    StopRecording(oneshot::Sender<u64>),
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
        let mut core = RelayCore::with_counters(Arc::clone(&counters), rand::random());
        core.set_wall_clock(Instant::now(), SystemTime::now());
        let (commands, inbox) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        let task =
            tokio::spawn(run(core, [a, b], inbox, events_tx).instrument(tracing::Span::current()));
        Ok(MediaSession {
            commands,
            counters,
            local,
            task: Some(task),
            events: Some(events),
            recording: None,
        })
    }

    /// The session's events (DTMF digits, playbacks that ended). The first call takes the
    /// receiver; later calls return `None`.
    pub fn events(&mut self) -> Option<mpsc::UnboundedReceiver<MediaEvent>> {
        self.events.take()
    }

    /// Sets what `side` negotiated (codec, payload type, telephone-event). Legs with the same
    /// codec and no feature on are relayed packet by packet; different codecs are transcoded.
    pub fn set_codec(&self, side: Side, leg: LegCodec) {
        self.command(Command::Codec(side, leg));
    }

    /// Turns in-band DTMF detection on `side`'s audio on or off (decodes that side).
    pub fn set_inband_dtmf(&self, side: Side, on: bool) {
        self.command(Command::Inband(side, on));
    }

    /// Plays toward `side`, which hears the playback instead of the other leg until it ends
    /// (`MediaEvent::PlaybackFinished`) or `stop_playback`. Works with no other leg (IVR).
    /// Needs `side`'s codec (`set_codec`).
    pub fn play(&self, side: Side, playback: Playback) {
        self.command(Command::Play(side, playback));
    }

    /// Stops the playback toward `side`.
    pub fn stop_playback(&self, side: Side) {
        self.command(Command::StopPlayback(side));
    }

    /// Sends a DTMF digit toward `side` (RFC 4733 if negotiated there, else in-band tones).
    pub fn send_dtmf(&self, side: Side, digit: DtmfDigit) {
        self.command(Command::SendDtmf(side, digit));
    }

    /// Starts a stereo 8 kHz WAV recording at `path` (left: what side A sent; right: side B).
    /// Fails if one is running or the file cannot be created.
    pub async fn start_recording(&mut self, path: PathBuf) -> Result<(), RecordingError> {
        if self.recording.is_some() {
            return Err(RecordingError::AlreadyRecording);
        }
        let (tap, done) = RecorderTap::start(path, SystemTime::now()).await?;
        self.command(Command::StartRecording(tap));
        self.recording = Some(done);
        Ok(())
    }

    /// Pauses the recording: silence is written, so the file's timeline stays the call's.
    pub fn pause_recording(&self) {
        self.command(Command::PauseRecording(true));
    }

    /// Resumes a paused recording.
    pub fn resume_recording(&self) {
        self.command(Command::PauseRecording(false));
    }

    /// Watches `side` for `limit` of silence (`None`: stop watching); then
    /// `MediaEvent::Silence` is sent once. The side must be decoded (recording or in-band
    /// DTMF on).
    pub fn watch_silence(&self, side: Side, limit: Option<Duration>) {
        self.command(Command::WatchSilence(side, limit));
    }

    /// Stops the recording and waits until its file is complete.
    pub async fn stop_recording(&mut self) -> Result<RecordingInfo, RecordingError> {
        let done = self.recording.take().ok_or(RecordingError::NotRecording)?;
        let (dropped_tx, dropped) = oneshot::channel();
        self.command(Command::StopRecording(dropped_tx));
        let dropped = dropped.await.unwrap_or(0);
        let mut info = done.await.map_err(|_| RecordingError::WriterGone)??;
        info.dropped_frames = dropped;
        Ok(info)
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
    Tick,
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

/// The relay task: waits for a command, a datagram or a tick, feeds the core, sends what it
/// says.
async fn run(
    mut core: RelayCore,
    pairs: [RtpPortPair; 2],
    mut inbox: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut start = 0;
    let mut ticks: Option<Interval> = None;
    loop {
        start = (start + 1) % SOCKETS.len();
        let event =
            poll_fn(|cx| poll_sources(cx, &pairs, &mut inbox, &mut ticks, &mut buf, start)).await;
        match event {
            Event::Command(None | Some(Command::Close)) => break,
            Event::Command(Some(command)) => apply(&mut core, command),
            Event::Tick => core.handle_tick(Instant::now()),
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
        drain(&mut core, &pairs, &mut buf, &events).await;
        match (core.needs_ticks(), ticks.is_some()) {
            (true, false) => {
                let mut interval = tokio::time::interval(FRAME);
                interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
                // The first tick of an interval is immediate; the first frame is due in 20 ms.
                interval.reset();
                ticks = Some(interval);
            }
            (false, true) => ticks = None,
            _ => {}
        }
    }
}

/// The decode path's frame period.
const FRAME: Duration = Duration::from_millis(20);

/// Sends every packet the core generated and forwards its events.
async fn drain(
    core: &mut RelayCore,
    pairs: &[RtpPortPair; 2],
    buf: &mut [u8],
    events: &mpsc::UnboundedSender<MediaEvent>,
) {
    while let Some((side, channel, to, len)) = core.poll_transmit(buf) {
        if let Err(err) = send(socket(&pairs[side.index()], channel), &buf[..len], to).await {
            tracing::debug!(?side, %err, "media send failed");
            core.record_send_error(side);
        }
    }
    while let Some(event) = core.poll_event() {
        // The call layer may not listen (or have gone): events are then dropped.
        let _ = events.send(event);
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
    ticks: &mut Option<Interval>,
    buf: &mut [u8],
    start: usize,
) -> Poll<Event> {
    if let Poll::Ready(command) = inbox.poll_recv(cx) {
        return Poll::Ready(Event::Command(command));
    }
    if let Some(interval) = ticks
        && interval.poll_tick(cx).is_ready()
    {
        return Poll::Ready(Event::Tick);
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
    let result = match command {
        Command::Remote(side, rtp) => {
            core.set_remote(side, rtp);
            Ok(())
        }
        Command::RemoteRtcp(side, rtcp) => {
            core.set_remote_rtcp(side, rtcp);
            Ok(())
        }
        Command::Direction(side, direction) => {
            core.set_direction(side, direction);
            Ok(())
        }
        Command::Codec(side, leg) => core.set_codec(side, leg),
        Command::Inband(side, on) => core.set_inband_dtmf(side, on),
        Command::Play(side, playback) => core.play(side, playback),
        Command::StopPlayback(side) => core.stop_playback(side),
        Command::SendDtmf(side, digit) => core.send_dtmf(side, digit),
        Command::StartRecording(tap) => core.start_recording(tap).map(drop),
        Command::PauseRecording(paused) => {
            core.set_recording_paused(paused);
            Ok(())
        }
        Command::WatchSilence(side, limit) => {
            core.watch_silence(side, limit);
            Ok(())
        }
        Command::StopRecording(reply) => {
            let dropped = core.stop_recording().map_or(0, |tap| tap.dropped());
            let _ = reply.send(dropped);
            Ok(())
        }
        Command::Close => Ok(()),
    };
    if let Err(err) = result {
        tracing::warn!(%err, "media engine could not apply a command");
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
mod engine_tests;
#[cfg(test)]
mod tests;

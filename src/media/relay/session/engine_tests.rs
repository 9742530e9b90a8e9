//! Loopback tests of the media engine in the session task: plain UDP sockets play the phones.
//! Ports 47200-47999 only. Packets are paced at 20 ms like a phone's; nothing asserts timing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::timeout;

use super::*;
use crate::media::codec::{Codec, Decoder, Encoder};
use crate::media::dtmf::inband::goertzel_power;
use crate::media::dtmf::rfc4733::DigitSender;
use crate::media::player::Prompt;
use crate::media::relay::DtmfSource;
use crate::media::resample::SampleRate;
use crate::media::tone::{ToneGenerator, ToneSpec};
use crate::media::wav;

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

const OPUS: LegCodec = LegCodec {
    codec: Codec::Opus {
        rate: SampleRate::Hz48000,
    },
    payload_type: 111,
    telephone_event: Some(101),
};
const PCMA: LegCodec = LegCodec {
    codec: Codec::Pcma,
    payload_type: 8,
    telephone_event: None,
};

/// A phone on a loopback socket.
struct Phone {
    socket: UdpSocket,
}

impl Phone {
    async fn new() -> Phone {
        let socket = UdpSocket::bind((loopback(), 0)).await.expect("bind");
        Phone { socket }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("addr")
    }

    /// Sends `packets` every 20 ms.
    async fn stream(&self, to: SocketAddr, packets: Vec<Vec<u8>>) {
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        for packet in packets {
            pace.tick().await;
            self.socket.send_to(&packet, to).await.expect("send");
        }
    }

    /// Collects packets until none arrives for `quiet`.
    async fn collect(&self, quiet: Duration) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(Ok((len, _))) = timeout(quiet, self.socket.recv_from(&mut buf)).await {
            got.push(buf[..len].to_vec());
        }
        got
    }
}

/// A tone as 20 ms payloads of `codec`.
fn tone_payloads(codec: Codec, spec: ToneSpec, frames: usize) -> Vec<Vec<u8>> {
    let rate = codec.sample_rate();
    let mut generator = ToneGenerator::new(spec, rate.hz());
    let mut encoder = Encoder::new(codec).expect("encoder");
    let mut pcm = vec![0i16; rate.samples_per_frame()];
    (0..frames)
        .map(|_| {
            generator.fill(&mut pcm);
            let mut out = vec![0u8; 1500];
            let n = encoder.encode(&pcm, &mut out).expect("encode");
            out.truncate(n);
            out
        })
        .collect()
}

fn rtp(pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, (u8::from(marker) << 7) | pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn packets(leg: LegCodec, payloads: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let step = leg.codec.rtp_clock_rate() / 50;
    payloads
        .iter()
        .enumerate()
        .map(|(i, p)| rtp(leg.payload_type, 100 + i as u16, step * i as u32, false, p))
        .collect()
}

fn tone(freq: f32) -> ToneSpec {
    ToneSpec {
        freq1: freq,
        freq2: None,
        amplitude: 8000,
        on_ms: 60_000,
        off_ms: 0,
        repeat: true,
    }
}

/// Decodes received packets of `codec` (payload type `pt` only) into one PCM stream.
fn decode_all(codec: Codec, pt: u8, received: &[Vec<u8>]) -> Vec<i16> {
    let mut decoder = Decoder::new(codec).expect("decoder");
    let mut pcm = Vec::new();
    let mut out = vec![0i16; 5760];
    for packet in received.iter().filter(|p| p[1] & 0x7f == pt) {
        let n = decoder.decode(&packet[12..], &mut out).expect("decode");
        pcm.extend_from_slice(&out[..n]);
    }
    pcm
}

/// True when `freq` dominates the second half of `pcm` (past codec and buffer start-up).
fn has_tone(pcm: &[i16], freq: f32, rate: u32) -> bool {
    let settled = &pcm[pcm.len() / 2..];
    let wanted = goertzel_power(settled, freq, rate);
    let other = goertzel_power(settled, freq * 1.37, rate);
    !settled.is_empty() && wanted > 50.0 * other && wanted > 1e9
}

async fn session(min: u16) -> (MediaSession, Phone, Phone) {
    let pool = PortPool::new(loopback(), min, min + 9);
    let session = MediaSession::open(&pool, loopback()).await.expect("open");
    let (caller, callee) = (Phone::new().await, Phone::new().await);
    session.set_remote(Side::A, caller.addr());
    session.set_remote(Side::B, callee.addr());
    (session, caller, callee)
}

#[tokio::test]
async fn transcoding_pcmu_and_opus_keeps_a_1khz_tone_both_ways() {
    let (session, caller, callee) = session(47200).await;
    session.set_codec(Side::A, LegCodec::pcmu());
    session.set_codec(Side::B, OPUS);
    let to_b = packets(
        LegCodec::pcmu(),
        tone_payloads(Codec::Pcmu, tone(1000.0), 40),
    );
    let to_a = packets(OPUS, tone_payloads(OPUS.codec, tone(1000.0), 40));
    let quiet = Duration::from_millis(300);
    let (_, _, at_callee, at_caller) = tokio::join!(
        caller.stream(session.local(Side::A), to_b),
        callee.stream(session.local(Side::B), to_a),
        callee.collect(quiet),
        caller.collect(quiet),
    );
    let opus = decode_all(OPUS.codec, 111, &at_callee);
    assert!(at_callee.len() > 30, "{} Opus packets", at_callee.len());
    assert!(
        has_tone(&opus, 1000.0, 48000),
        "1 kHz lost toward the Opus side"
    );
    let pcmu = decode_all(Codec::Pcmu, 0, &at_caller);
    assert!(
        has_tone(&pcmu, 1000.0, 8000),
        "1 kHz lost toward the PCMU side"
    );
    let stats = session.stats();
    assert_eq!((stats.a.lost, stats.b.lost), (0, 0));
}

#[tokio::test]
async fn pcmu_to_pcma_is_transcoded() {
    let (session, caller, callee) = session(47210).await;
    session.set_codec(Side::A, LegCodec::pcmu());
    session.set_codec(Side::B, PCMA);
    let to_b = packets(
        LegCodec::pcmu(),
        tone_payloads(Codec::Pcmu, tone(1000.0), 30),
    );
    let (_, at_callee) = tokio::join!(
        caller.stream(session.local(Side::A), to_b),
        callee.collect(Duration::from_millis(300)),
    );
    assert!(at_callee.iter().all(|p| p[1] & 0x7f == 8));
    let pcm = decode_all(Codec::Pcma, 8, &at_callee);
    assert!(has_tone(&pcm, 1000.0, 8000));
}

#[tokio::test]
async fn a_prompt_replaces_the_far_side_and_the_stream_stays_continuous() {
    let (mut session, caller, callee) = session(47220).await;
    let mut events = session.events().expect("events");
    session.set_codec(Side::A, LegCodec::pcmu());
    session.set_codec(Side::B, LegCodec::pcmu());
    let mut generator = ToneGenerator::new(tone(1000.0), 8000);
    let mut pcm = vec![0i16; 1600];
    generator.fill(&mut pcm);
    let prompt = Arc::new(Prompt::new("beep", SampleRate::Hz8000, pcm));
    // The callee talks (silence, 0xff) throughout; a 200 ms prompt plays toward the caller.
    let silence = vec![vec![0xffu8; 160]; 40];
    session.play(Side::A, Playback::prompt(prompt));
    let (_, at_caller) = tokio::join!(
        callee.stream(session.local(Side::B), packets(LegCodec::pcmu(), silence)),
        caller.collect(Duration::from_millis(300)),
    );
    assert!(at_caller.len() >= 30, "{} packets", at_caller.len());
    let ssrc = &at_caller[0][8..12];
    let mut switches = Vec::new();
    for (i, pair) in at_caller.windows(2).enumerate() {
        let seq = |p: &[u8]| u16::from_be_bytes([p[2], p[3]]);
        let ts = |p: &[u8]| u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        assert_eq!(
            seq(&pair[1]),
            seq(&pair[0]).wrapping_add(1),
            "seq gap at {i}"
        );
        let step = ts(&pair[1]).wrapping_sub(ts(&pair[0]));
        assert!((1..=4000).contains(&step), "timestamp step {step} at {i}");
        assert_eq!(&pair[1][8..12], ssrc, "one SSRC");
        if pair[1][1] & 0x80 != 0 {
            switches.push(i + 1);
        }
    }
    // The first prompt packet starts the stream; the marker comes back with the relay.
    assert_eq!(at_caller[0][1] & 0x80, 0x80);
    assert_eq!(
        switches.len(),
        1,
        "one marker on the switch back: {switches:?}"
    );
    let prompt_part = decode_all(Codec::Pcmu, 0, &at_caller[..switches[0]]);
    assert!(has_tone(&prompt_part, 1000.0, 8000));
    assert!(
        at_caller[switches[0] + 1..]
            .iter()
            .all(|p| p[12..] == [0xff; 160])
    );
    let event = timeout(Duration::from_secs(1), events.recv()).await;
    assert_eq!(
        event.expect("in time"),
        Some(MediaEvent::PlaybackFinished { side: Side::A })
    );
}

#[tokio::test]
async fn rfc4733_digits_become_one_event_each_on_the_fast_path() {
    let (mut session, caller, callee) = session(47230).await;
    let mut events = session.events().expect("events");
    session.set_codec(Side::A, LegCodec::pcmu());
    session.set_codec(Side::B, LegCodec::pcmu());
    let mut to_b = Vec::new();
    let mut seq = 1u16;
    for (n, digit) in [DtmfDigit::D1, DtmfDigit::Pound].into_iter().enumerate() {
        for packet in DigitSender::new(digit, 8000 * n as u32, 120, 8000, 10) {
            let body = packet.event.to_bytes();
            to_b.push(rtp(101, seq, packet.timestamp, packet.marker, &body));
            seq += 1;
        }
    }
    let sent = to_b.len();
    let (_, at_callee) = tokio::join!(
        caller.stream(session.local(Side::A), to_b),
        callee.collect(Duration::from_millis(200)),
    );
    assert_eq!(at_callee.len(), sent, "telephone-events are relayed too");
    let mut got = Vec::new();
    while let Ok(Some(event)) = timeout(Duration::from_millis(100), events.recv()).await {
        got.push(event);
    }
    let dtmf = |digit| MediaEvent::Dtmf {
        side: Side::A,
        digit,
        source: DtmfSource::Rfc4733,
    };
    assert_eq!(got, [dtmf(DtmfDigit::D1), dtmf(DtmfDigit::Pound)]);
}

#[tokio::test]
async fn inband_digits_are_found_on_the_decode_path() {
    let (mut session, caller, _callee) = session(47240).await;
    let mut events = session.events().expect("events");
    session.set_codec(Side::A, LegCodec::pcmu());
    session.set_inband_dtmf(Side::A, true);
    let mut payloads = Vec::new();
    for digit in [DtmfDigit::D5, DtmfDigit::D9] {
        payloads.extend(tone_payloads(
            Codec::Pcmu,
            ToneSpec::dtmf(digit, 120, 100),
            11,
        ));
    }
    payloads.extend(vec![vec![0xffu8; 160]; 10]);
    caller
        .stream(session.local(Side::A), packets(LegCodec::pcmu(), payloads))
        .await;
    let mut got = Vec::new();
    while let Ok(Some(event)) = timeout(Duration::from_millis(200), events.recv()).await {
        got.push(event);
    }
    let dtmf = |digit| MediaEvent::Dtmf {
        side: Side::A,
        digit,
        source: DtmfSource::Inband,
    };
    assert_eq!(got, [dtmf(DtmfDigit::D5), dtmf(DtmfDigit::D9)]);
}

#[tokio::test]
async fn recording_puts_the_caller_left_and_the_callee_right() {
    let (mut session, caller, callee) = session(47250).await;
    session.set_codec(Side::A, LegCodec::pcmu());
    session.set_codec(Side::B, LegCodec::pcmu());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("recordings/call.wav");
    session.start_recording(path.clone()).await.expect("start");
    let from_a = packets(
        LegCodec::pcmu(),
        tone_payloads(Codec::Pcmu, tone(1000.0), 40),
    );
    let from_b = packets(
        LegCodec::pcmu(),
        tone_payloads(Codec::Pcmu, tone(600.0), 40),
    );
    let quiet = Duration::from_millis(200);
    let (_, _, at_callee, _) = tokio::join!(
        caller.stream(session.local(Side::A), from_a.clone()),
        callee.stream(session.local(Side::B), from_b),
        callee.collect(quiet),
        caller.collect(quiet),
    );
    assert_eq!(
        at_callee, from_a,
        "recording does not touch the relayed packets"
    );
    let info = session.stop_recording().await.expect("stop");
    assert_eq!(info.path, path);
    assert!(
        info.duration >= Duration::from_millis(600),
        "{:?}",
        info.duration
    );
    assert_eq!(info.bytes, std::fs::metadata(&path).expect("file").len());
    let audio = wav::read_file(&path).expect("WAV");
    assert_eq!((audio.channels, audio.sample_rate), (2, 8000));
    let left: Vec<i16> = audio.samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = audio.samples.iter().skip(1).step_by(2).copied().collect();
    assert!(has_tone(&left, 1000.0, 8000), "caller on the left");
    assert!(has_tone(&right, 600.0, 8000), "callee on the right");
    assert!(goertzel_power(&left, 600.0, 8000) * 50.0 < goertzel_power(&left, 1000.0, 8000));
    assert!(matches!(
        session.stop_recording().await,
        Err(RecordingError::NotRecording)
    ));
}

#[tokio::test]
async fn loss_is_counted_from_sequence_gaps() {
    let (session, caller, callee) = session(47260).await;
    session.set_codec(Side::A, LegCodec::pcmu());
    let sent: Vec<Vec<u8>> = (0u16..20)
        .filter(|seq| ![5, 6, 12].contains(seq))
        .map(|seq| rtp(0, seq, 160 * u32::from(seq), false, &[0xff; 160]))
        .collect();
    let (_, _) = tokio::join!(
        caller.stream(session.local(Side::A), sent),
        callee.collect(Duration::from_millis(100)),
    );
    let stats = session.stats();
    assert_eq!((stats.a.expected, stats.a.lost), (20, 3));
    assert!(stats.a.mos() < 4.3 && stats.a.mos() > 1.0);
}

#[tokio::test]
async fn send_dtmf_uses_telephone_events_toward_the_side() {
    let (session, _caller, callee) = session(47270).await;
    session.set_codec(Side::B, LegCodec::pcmu());
    session.send_dtmf(Side::B, DtmfDigit::D7);
    let got = callee.collect(Duration::from_millis(300)).await;
    assert!(!got.is_empty());
    assert!(got.iter().all(|p| p[1] & 0x7f == 101));
    assert_eq!(got[0][1] & 0x80, 0x80, "marker on the first packet");
    let ends = got
        .iter()
        .filter(|p| p[12] == 7 && p[13] & 0x80 != 0)
        .count();
    assert_eq!(ends, 3, "the end packet three times");
    let ts: Vec<&[u8]> = got.iter().map(|p| &p[4..8]).collect();
    assert!(
        ts.windows(2).all(|w| w[0] == w[1]),
        "one timestamp per event"
    );
}

//! RTP pcap generation for SIPp's `play_pcap_audio`, and the peers' media set.
//!
//! SIPp replays the UDP payloads of a classic pcap (it reads Ethernet frames, link type 1
//! EN10MB) at the recorded pace, rewriting only addresses and ports: SSRC, sequence numbers
//! and timestamps are sent as written here. [`PeerMedia::write`] generates, at test run time,
//! every file the scenarios in `tests/sipp/` load: the 1 kHz tone of the caller (PCMU and
//! PCMA, same SSRC), the RFC 4733 `159#` digits continuing that stream (same SSRC, sequence
//! and timestamps following the tone), and the 440 Hz tone of the callee.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::media::{self, TelephoneEvent};
use super::wav;

/// Samples (and timestamp units) per 20 ms packet at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;
/// Payload type used for telephone-event in every scenario.
pub const TELEPHONE_EVENT_PT: u8 = 101;
/// Tone amplitude (of full scale) of the generated media.
pub const TONE_AMPLITUDE: f64 = 0.3;
/// Length of the callee's 440 Hz pcaps: longer than any test call.
pub const CALLEE_TONE_SECS: u32 = 60;
/// The digits in `dtmf_159h.pcap`.
pub const DTMF_DIGITS: &str = "159#";

/// The running state of one RTP stream across pcaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpClock {
    /// SSRC.
    pub ssrc: u32,
    /// Next sequence number.
    pub seq: u16,
    /// Next RTP timestamp.
    pub ts: u32,
}

impl RtpClock {
    /// A stream with pseudo-random SSRC, sequence and timestamp start (from the clock and pid).
    pub fn random() -> RtpClock {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let x = u64::from(nanos) ^ (u64::from(std::process::id()) << 20);
        let mix = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        RtpClock {
            ssrc: (mix >> 32) as u32,
            seq: (mix >> 16) as u16,
            ts: mix as u32 & 0x0fff_ffff,
        }
    }
}

/// RTP packets to write: (time offset in µs, RTP packet bytes).
pub type Packets = Vec<(u64, Vec<u8>)>;

/// G.711 RTP packets (20 ms each, marker on the first) for `samples`; advances `clock`.
pub fn audio_packets(clock: &mut RtpClock, pt: u8, samples: &[i16]) -> Result<Packets> {
    let mut out = Vec::new();
    for (i, chunk) in samples.chunks_exact(SAMPLES_PER_PACKET).enumerate() {
        let Some(payload) = media::g711_encode(pt, chunk) else {
            bail!("payload type {pt} is not G.711")
        };
        out.push((i as u64 * 20_000, rtp_packet(clock, pt, i == 0, &payload)));
        clock.ts = clock.ts.wrapping_add(SAMPLES_PER_PACKET as u32);
    }
    Ok(out)
}

/// RFC 4733 packets for `digits`: each event 100 ms (5 updates, then the end packet sent 3
/// times), one event every 300 ms; advances `clock` past the last event.
pub fn dtmf_packets(clock: &mut RtpClock, pt: u8, digits: &str) -> Result<Packets> {
    let mut out = Vec::new();
    for (k, digit) in digits.chars().enumerate() {
        let Some(event) = media::dtmf_event_code(digit) else {
            bail!("{digit:?} is not a DTMF digit")
        };
        let start_us = k as u64 * 300_000;
        for j in 0..8u16 {
            let end = j >= 5;
            let duration = 160 * (j.min(4) + 1);
            let payload = TelephoneEvent {
                event,
                end,
                volume: 10,
                duration,
            }
            .to_bytes();
            out.push((
                start_us + u64::from(j) * 20_000,
                rtp_packet(clock, pt, j == 0, &payload),
            ));
        }
        clock.ts = clock.ts.wrapping_add(2400);
    }
    Ok(out)
}

/// One thing a scripted caller sends (see [`script_packets`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Say {
    /// An RFC 4733 key (100 ms).
    Key(char),
    /// A G.711 sine tone.
    Tone {
        /// Frequency, Hz.
        freq: f64,
        /// Length, seconds.
        secs: f64,
    },
}

/// A caller's script on one RTP stream: each `(offset ms, what)` starts at its offset from the
/// start of the pcap (RTP timestamps follow the offsets), in time order; keys use `event_pt`,
/// tones `audio_pt`. Advances `clock`.
pub fn script_packets(
    clock: &mut RtpClock,
    audio_pt: u8,
    event_pt: u8,
    script: &[(u64, Say)],
) -> Result<Packets> {
    let start_ts = clock.ts;
    let mut out = Vec::new();
    for &(at_ms, what) in script {
        clock.ts = start_ts.wrapping_add((at_ms * 8) as u32);
        let packets = match what {
            Say::Key(digit) => dtmf_packets(clock, event_pt, &digit.to_string())?,
            Say::Tone { freq, secs } => {
                let samples = media::sine(freq, secs, 8000, TONE_AMPLITUDE);
                audio_packets(clock, audio_pt, &samples)?
            }
        };
        out.extend(packets.into_iter().map(|(t, p)| (t + at_ms * 1000, p)));
    }
    Ok(out)
}

/// Writes `packets` as a classic pcap (link type EN10MB) of 127.0.0.1 UDP datagrams.
pub fn write_pcap(path: &Path, packets: &Packets) -> Result<()> {
    let mut out = Vec::new();
    // magic, version 2.4, thiszone, sigfigs, snaplen, linktype 1 (Ethernet)
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (t_us, rtp) in packets {
        let frame = udp_frame(40000, 20000, rtp);
        for v in [
            (t_us / 1_000_000) as u32,
            (t_us % 1_000_000) as u32,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).with_context(|| format!("writing {path:?}"))
}

/// The media files the scenarios load, generated into a SIPp run dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerMedia {
    /// Seconds of the caller's 1 kHz tone (the `-set secs` of uac_call.xml).
    pub tone_secs: u32,
}

impl PeerMedia {
    /// Writes tone1k_{pcmu,pcma}.pcap, dtmf_159h.pcap, tone440_{pcmu,pcma}.pcap into `dir`.
    pub fn write(self, dir: &Path) -> Result<()> {
        let caller = RtpClock::random();
        let tone = media::sine(1000.0, f64::from(self.tone_secs), 8000, TONE_AMPLITUDE);
        let mut after_tone = caller;
        for (pt, name) in [(0, "tone1k_pcmu.pcap"), (8, "tone1k_pcma.pcap")] {
            let mut clock = caller;
            write_pcap(&dir.join(name), &audio_packets(&mut clock, pt, &tone)?)?;
            after_tone = clock;
        }
        // the digits continue the caller's stream (same SSRC, next sequence and timestamp)
        let dtmf = dtmf_packets(&mut after_tone, TELEPHONE_EVENT_PT, DTMF_DIGITS)?;
        write_pcap(&dir.join("dtmf_159h.pcap"), &dtmf)?;
        let callee = RtpClock::random();
        let tone440 = media::sine(440.0, f64::from(CALLEE_TONE_SECS), 8000, TONE_AMPLITUDE);
        for (pt, name) in [(0, "tone440_pcmu.pcap"), (8, "tone440_pcma.pcap")] {
            write_pcap(
                &dir.join(name),
                &audio_packets(&mut callee.clone(), pt, &tone440)?,
            )?;
        }
        Ok(())
    }
}

/// Writes a tone WAV (16-bit mono) of `secs` seconds at `rate`, e.g. a baresip source.
pub fn write_tone_wav(path: &Path, freq: f64, secs: f64, rate: u32) -> Result<()> {
    wav::write(
        path,
        rate,
        1,
        &media::sine(freq, secs, rate, TONE_AMPLITUDE),
    )
}

/// One RTP packet (version 2, no CSRC/extension); advances the sequence number.
fn rtp_packet(clock: &mut RtpClock, pt: u8, marker: bool, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload.len());
    p.push(0x80);
    p.push((u8::from(marker) << 7) | (pt & 0x7f));
    p.extend_from_slice(&clock.seq.to_be_bytes());
    p.extend_from_slice(&clock.ts.to_be_bytes());
    p.extend_from_slice(&clock.ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    clock.seq = clock.seq.wrapping_add(1);
    p
}

/// Ethernet + IPv4 (127.0.0.1 -> 127.0.0.1, header checksum set) + UDP (checksum 0) frame.
fn udp_frame(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len() as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(20 + udp_len).to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
    let sum: u32 = ip
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !(((folded & 0xffff) + (folded >> 16)) as u16);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&sport.to_be_bytes());
    frame.extend_from_slice(&dport.to_be_bytes());
    frame.extend_from_slice(&udp_len.to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::super::pcap;
    use super::*;

    #[test]
    fn generated_pcaps_read_back_as_rtp() {
        let dir = std::env::temp_dir().join(format!("rtp-pcap-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        PeerMedia { tone_secs: 2 }.write(&dir).unwrap();
        let tone = pcap::read(&dir.join("tone1k_pcma.pcap")).unwrap();
        assert_eq!(tone.len(), 100);
        let last = tone.last().unwrap();
        assert!((last.time - tone[0].time - 1.98).abs() < 1e-6);
        let rtp = pcap::Rtp::parse(&last.payload).unwrap();
        assert_eq!(rtp.pt, 8);
        let dtmf = pcap::read(&dir.join("dtmf_159h.pcap")).unwrap();
        let first = pcap::Rtp::parse(&dtmf[0].payload).unwrap();
        assert_eq!(first.ssrc, rtp.ssrc);
        assert_eq!(first.seq, rtp.seq.wrapping_add(1));
        assert_eq!(first.ts, rtp.ts.wrapping_add(160));
        let events = dtmf
            .iter()
            .filter_map(|d| pcap::Rtp::parse(&d.payload))
            .map(|r| (r.ssrc, r.ts, r.payload.to_vec()))
            .collect::<Vec<_>>();
        assert_eq!(
            media::digits_from_events(events.iter().map(|(s, t, p)| (*s, *t, &p[..]))),
            "159#"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Packet capture on loopback with tcpdump, and what the captured RTP carried.
//!
//! [`Capture::start`] runs `tcpdump -i lo -n -U -s0 -w <dir>/<name>.pcap` with a filter on
//! the test's own ports (other tests share `lo`) and waits until tcpdump says it is
//! listening; [`Capture::stop`] ends it (SIGINT flushes) and reads the file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::media;
use super::pcap::{self, Datagram, Rtp};
use super::process::{Proc, SIGINT, wait_until};

/// A running tcpdump.
#[derive(Debug)]
pub struct Capture {
    proc: Proc,
    file: PathBuf,
}

/// The captured datagrams.
#[derive(Debug, Clone, Default)]
pub struct Pcap {
    /// Every IPv4 UDP datagram, in capture order.
    pub datagrams: Vec<Datagram>,
}

/// The RTP stream sent to one port, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RtpStream {
    /// Decoded G.711 audio (PT 0 and 8), 8 kHz.
    pub pcm: Vec<i16>,
    /// RFC 4733 digits (one per event), from PTs 96-127 with 4-byte payloads.
    pub digits: String,
    /// Packet count per payload type.
    pub packets_by_pt: std::collections::BTreeMap<u8, usize>,
    /// SSRCs seen.
    pub ssrcs: std::collections::BTreeSet<u32>,
}

impl Capture {
    /// Starts tcpdump on `iface` (normally "lo") writing `<dir>/<name>.pcap`, with `filter`
    /// (e.g. [`super::ports::PortBlock::capture_filter`]) restricted to UDP.
    pub fn start(dir: &Path, name: &str, iface: &str, filter: &str) -> Result<Capture> {
        let file = dir.join(format!("{name}.pcap"));
        let mut cmd = Command::new("tcpdump");
        cmd.args(["-i", iface, "-n", "-U", "-s0", "-w"])
            .arg(&file)
            .arg(format!("udp and ({filter})"));
        let mut proc = Proc::spawn(dir, name, cmd)?;
        let listening = wait_until(Duration::from_secs(10), || {
            let err = std::fs::read_to_string(proc.stderr_path()).unwrap_or_default();
            err.contains("listening on").then_some(())
        });
        if listening.is_none() {
            let tail = proc.log_tail(10);
            proc.stop(Duration::from_secs(1));
            bail!("tcpdump did not start listening:\n{tail}");
        }
        Ok(Capture { proc, file })
    }

    /// Stops tcpdump (SIGINT, so it flushes) and reads the capture.
    pub fn stop(mut self) -> Result<Pcap> {
        // let the last packets in flight be written
        std::thread::sleep(Duration::from_millis(200));
        self.proc.signal(SIGINT);
        self.proc.wait_timeout(Duration::from_secs(5))?;
        let datagrams = pcap::read(&self.file).context("reading the capture")?;
        Ok(Pcap { datagrams })
    }

    /// The capture file.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

impl Pcap {
    /// Datagrams sent to UDP port `dport`.
    pub fn to_port(&self, dport: u16) -> impl Iterator<Item = &Datagram> {
        self.datagrams.iter().filter(move |d| d.dst.port() == dport)
    }

    /// The RTP sent to `dport`: decoded G.711 and RFC 4733 digits.
    pub fn rtp_to(&self, dport: u16) -> RtpStream {
        let mut stream = RtpStream::default();
        let mut events = Vec::new();
        for d in self.to_port(dport) {
            let Some(rtp) = Rtp::parse(&d.payload) else {
                continue;
            };
            *stream.packets_by_pt.entry(rtp.pt).or_default() += 1;
            stream.ssrcs.insert(rtp.ssrc);
            if let Some(pcm) = media::g711_decode(rtp.pt, rtp.payload) {
                stream.pcm.extend(pcm);
            } else if rtp.pt >= 96 && rtp.payload.len() == 4 {
                events.push((rtp.ssrc, rtp.ts, rtp.payload.to_vec()));
            }
        }
        stream.digits = media::digits_from_events(events.iter().map(|(s, t, p)| (*s, *t, &p[..])));
        stream
    }
}

impl RtpStream {
    /// Seconds of `freq` in the decoded audio (see [`media::tone_seconds`]).
    pub fn tone_seconds(&self, freq: f64) -> f64 {
        media::tone_seconds(&self.pcm, 8000, freq)
    }

    /// Seconds of decoded audio.
    pub fn audio_seconds(&self) -> f64 {
        self.pcm.len() as f64 / 8000.0
    }
}

//! A classic pcap reader giving IPv4 UDP datagrams, and an RTP header parser.
//!
//! Link types handled: EN10MB (1, what tcpdump writes for `-i lo`), LINUX_SLL (113) and
//! LINUX_SLL2 (276, `-i any`), NULL (0), RAW (101, 12); both byte orders and both the
//! microsecond and nanosecond magics. pcapng is refused (tcpdump `-w` writes classic pcap).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// One captured UDP datagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Datagram {
    /// Capture time in seconds since the epoch.
    pub time: f64,
    /// Source address.
    pub src: SocketAddrV4,
    /// Destination address.
    pub dst: SocketAddrV4,
    /// UDP payload.
    pub payload: Vec<u8>,
}

/// Reads every IPv4 UDP datagram of a pcap file.
pub fn read(path: &Path) -> Result<Vec<Datagram>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path:?}"))?;
    parse(&bytes).with_context(|| format!("parsing {path:?}"))
}

/// Parses classic pcap bytes (a truncated last record is ignored: tcpdump may be mid-write).
pub fn parse(bytes: &[u8]) -> Result<Vec<Datagram>> {
    let Some(magic) = bytes.get(0..4) else {
        bail!("too short for a pcap")
    };
    let (big_endian, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
        _ => bail!("not a classic pcap (pcapng?)"),
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(i..i + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let linktype = u32_at(20).context("short pcap header")?;
    let mut out = Vec::new();
    let mut pos = 24;
    while let (Some(sec), Some(frac), Some(incl)) = (u32_at(pos), u32_at(pos + 4), u32_at(pos + 8))
    {
        let start = pos + 16;
        let Some(frame) = bytes.get(start..start + incl as usize) else {
            break;
        };
        pos = start + incl as usize;
        let time = f64::from(sec) + f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        if let Some(ip) = ip_payload(linktype, frame)? {
            out.extend(udp_datagram(time, ip));
        }
    }
    Ok(out)
}

/// An RTP packet's header fields and payload (CSRCs, extension and padding removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtp<'a> {
    /// Payload type.
    pub pt: u8,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// SSRC.
    pub ssrc: u32,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Rtp<'a> {
    /// Parses a version-2 RTP packet; `None` for anything else (RTCP included: PT 72-76).
    pub fn parse(p: &'a [u8]) -> Option<Rtp<'a>> {
        if p.len() < 12 || p[0] >> 6 != 2 || (72..=76).contains(&(p[1] & 0x7f)) {
            return None;
        }
        let mut start = 12 + 4 * usize::from(p[0] & 0x0f);
        if p[0] & 0x10 != 0 {
            let words = u16::from_be_bytes([*p.get(start + 2)?, *p.get(start + 3)?]);
            start += 4 + 4 * usize::from(words);
        }
        let mut end = p.len();
        if p[0] & 0x20 != 0 {
            end = end.checked_sub(usize::from(*p.last()?))?;
        }
        Some(Rtp {
            pt: p[1] & 0x7f,
            marker: p[1] & 0x80 != 0,
            seq: u16::from_be_bytes([p[2], p[3]]),
            ts: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
            ssrc: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
            payload: p.get(start..end)?,
        })
    }
}

/// The IPv4 packet inside a frame, `None` when the frame is not IPv4.
fn ip_payload(linktype: u32, frame: &[u8]) -> Result<Option<&[u8]>> {
    let ethertype_ipv4 = |at: usize| frame.get(at..at + 2) == Some(&[0x08, 0x00][..]);
    Ok(match linktype {
        1 => ethertype_ipv4(12).then(|| &frame[14..]),
        113 => ethertype_ipv4(14).then(|| &frame[16..]),
        276 => (ethertype_ipv4(0) && frame.len() >= 20).then(|| &frame[20..]),
        0 => frame.get(4..),
        101 | 12 => Some(frame),
        other => bail!("unsupported pcap link type {other}"),
    })
}

fn udp_datagram(time: f64, ip: &[u8]) -> Option<Datagram> {
    if ip.len() < 20 || ip[0] >> 4 != 4 || ip[9] != 17 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let udp = ip.get(ihl..)?;
    let port = |i: usize| u16::from_be_bytes([udp[i], udp[i + 1]]);
    if udp.len() < 8 {
        return None;
    }
    let len = usize::from(port(4)).clamp(8, udp.len());
    let addr = |i: usize| Ipv4Addr::new(ip[i], ip[i + 1], ip[i + 2], ip[i + 3]);
    Some(Datagram {
        time,
        src: SocketAddrV4::new(addr(12), port(0)),
        dst: SocketAddrV4::new(addr(16), port(2)),
        payload: udp[8..len].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_header_fields_and_padding() {
        let mut p = vec![0xa0, 0x80 | 8, 0, 5, 0, 0, 0, 9, 0, 0, 0, 7, 1, 2, 3, 0, 2];
        let r = Rtp::parse(&p).unwrap();
        assert_eq!((r.pt, r.marker, r.seq, r.ts, r.ssrc), (8, true, 5, 9, 7));
        assert_eq!(r.payload, &[1, 2, 3]);
        p[1] = 200; // RTCP SR
        assert!(Rtp::parse(&p).is_none());
        assert!(Rtp::parse(&[0x80, 0]).is_none());
    }

    #[test]
    fn refuses_pcapng_and_garbage() {
        assert!(parse(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0]).is_err());
        assert!(parse(&[]).is_err());
    }
}

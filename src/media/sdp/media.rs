//! One media description (RFC 4566 section 5.14): the `m=` line and the lines below it.
//!
//! Owns: `MediaDescription`, `RtpMap`, `Rtcp` and their parsing and printing. Typed: `c=`,
//! `a=rtpmap`, `a=fmtp`, the direction, `a=rtcp` (RFC 3605) and `a=ptime`; the rest is kept
//! verbatim. An attribute of a typed kind that does not parse is kept verbatim too.
//! Driven by: `media::sdp::session`.

use std::fmt;
use std::net::IpAddr;

use crate::media::sdp::session::{Connection, address_type};
use crate::media::sdp::{Direction, SdpError};

/// An `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `image`, `application`, ...
    pub kind: String,
    /// The port the writer receives on; 0 means the stream is rejected or disabled.
    pub port: u16,
    /// The `/<number of ports>` suffix of the port, when present (rare).
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/AVPF`, `RTP/SAVPF`, `udptl`, ...
    pub proto: String,
    /// The RTP payload type numbers, in the writer's preference order.
    pub formats: Vec<u8>,
    /// Formats that are not payload type numbers (`t38`, `*`), kept verbatim.
    pub format_tokens: Vec<String>,
    /// Media-level `c=`, overriding the session's.
    pub connection: Option<Connection>,
    /// `a=rtpmap` lines in order.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<pt> <parameters>` lines in order.
    pub fmtps: Vec<(u8, String)>,
    /// The stream direction (its own attribute, else the session's, else `SendRecv`).
    pub direction: Direction,
    /// `a=rtcp`: where the writer receives RTCP when it is not on port + 1.
    pub rtcp: Option<Rtcp>,
    /// `a=ptime` in milliseconds.
    pub ptime: Option<u32>,
    /// Every other attribute, verbatim without `a=` (`rtcp-mux`, `ssrc:1 cname:x`, ...).
    pub attributes: Vec<String>,
    /// Other lines of the section (`i=`, `b=`, `k=`), verbatim with their `x=`.
    pub other: Vec<String>,
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The payload type.
    pub pt: u8,
    /// The encoding name as written (`PCMU`, `telephone-event`, `opus`).
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count, when given.
    pub channels: Option<u8>,
}

/// `a=rtcp:<port> [IN <addrtype> <address>]` (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when it differs from the RTP one.
    pub address: Option<IpAddr>,
}

impl MediaDescription {
    /// A media description with no attributes.
    pub fn new(kind: &str, port: u16, proto: &str, formats: Vec<u8>) -> MediaDescription {
        MediaDescription {
            kind: kind.to_owned(),
            port,
            port_count: None,
            proto: proto.to_owned(),
            formats,
            format_tokens: Vec::new(),
            connection: None,
            rtpmaps: Vec::new(),
            fmtps: Vec::new(),
            direction: Direction::SendRecv,
            rtcp: None,
            ptime: None,
            attributes: Vec::new(),
            other: Vec::new(),
        }
    }

    /// The rtpmap of payload type `pt`, if one is given.
    pub fn rtpmap(&self, pt: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|map| map.pt == pt)
    }

    /// The fmtp parameters of payload type `pt`, if given.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.fmtps
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, params)| params.as_str())
    }

    /// The same section rejected (RFC 3264 section 6): port 0, same kind, proto and formats,
    /// no attributes.
    pub fn rejected(&self) -> MediaDescription {
        let mut m = MediaDescription::new(&self.kind, 0, &self.proto, self.formats.clone());
        m.format_tokens = self.format_tokens.clone();
        m
    }

    /// Parses the value of an `m=` line; `session` is the session-level direction, which the
    /// section keeps unless it has its own direction attribute.
    pub(crate) fn parse_m_line(
        value: &str,
        session: Option<Direction>,
        line: usize,
    ) -> Result<MediaDescription, SdpError> {
        let invalid = SdpError::Invalid {
            line,
            what: "m= line",
        };
        let mut fields = value.split_ascii_whitespace();
        let (Some(kind), Some(port), Some(proto)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid);
        };
        let (port, port_count) = match port.split_once('/') {
            Some((port, count)) => (port, Some(count.parse().map_err(|_| invalid.clone())?)),
            None => (port, None),
        };
        let port = port.parse().map_err(|_| invalid.clone())?;
        let mut m = MediaDescription::new(kind, port, proto, Vec::new());
        m.port_count = port_count;
        m.direction = session.unwrap_or_default();
        for format in fields {
            match format.parse::<u8>() {
                Ok(pt) if pt < 128 => m.formats.push(pt),
                _ => m.format_tokens.push(format.to_owned()),
            }
        }
        if m.formats.is_empty() && m.format_tokens.is_empty() {
            return Err(invalid);
        }
        Ok(m)
    }

    pub(crate) fn parse_line(
        &mut self,
        kind: char,
        value: &str,
        raw: &str,
        line: usize,
    ) -> Result<(), SdpError> {
        match kind {
            'c' => self.connection = Some(Connection::parse(value, line)?),
            'a' => self.parse_attribute(value),
            _ => self.other.push(raw.to_owned()),
        }
        Ok(())
    }

    fn parse_attribute(&mut self, value: &str) {
        let (name, arg) = value.split_once(':').unwrap_or((value, ""));
        let parsed = match name {
            "rtpmap" => RtpMap::parse(arg).map(|map| self.rtpmaps.push(map)),
            "fmtp" => parse_fmtp(arg).map(|fmtp| self.fmtps.push(fmtp)),
            "rtcp" => Rtcp::parse(arg).map(|rtcp| self.rtcp = Some(rtcp)),
            "ptime" => arg
                .trim()
                .parse()
                .ok()
                .map(|ptime| self.ptime = Some(ptime)),
            _ => {
                Direction::from_attribute(value.trim()).map(|direction| self.direction = direction)
            }
        };
        if parsed.is_none() {
            self.attributes.push(value.to_owned());
        }
    }
}

impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.kind, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.proto)?;
        for pt in &self.formats {
            write!(f, " {pt}")?;
        }
        for token in &self.format_tokens {
            write!(f, " {token}")?;
        }
        f.write_str("\r\n")?;
        let is_info = |line: &&String| line.starts_with("i=");
        for line in self.other.iter().filter(is_info) {
            write!(f, "{line}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            write!(f, "{connection}")?;
        }
        for line in self.other.iter().filter(|line| !is_info(line)) {
            write!(f, "{line}\r\n")?;
        }
        if let Some(rtcp) = &self.rtcp {
            write!(f, "a=rtcp:{rtcp}\r\n")?;
        }
        for map in &self.rtpmaps {
            write!(f, "a=rtpmap:{map}\r\n")?;
            for (_, params) in self.fmtps.iter().filter(|(pt, _)| *pt == map.pt) {
                write!(f, "a=fmtp:{} {params}\r\n", map.pt)?;
            }
        }
        for (pt, params) in self
            .fmtps
            .iter()
            .filter(|(pt, _)| self.rtpmap(*pt).is_none())
        {
            write!(f, "a=fmtp:{pt} {params}\r\n")?;
        }
        for attribute in &self.attributes {
            write!(f, "a={attribute}\r\n")?;
        }
        if let Some(ptime) = self.ptime {
            write!(f, "a=ptime:{ptime}\r\n")?;
        }
        // A rejected stream (port 0) needs no direction; keep a non-default one for round trips.
        if self.port != 0 || self.direction != Direction::SendRecv {
            write!(f, "a={}\r\n", self.direction.as_str())?;
        }
        Ok(())
    }
}

impl RtpMap {
    fn parse(arg: &str) -> Option<RtpMap> {
        let (pt, encoding) = arg.trim().split_once(' ')?;
        let pt = pt.parse().ok().filter(|pt| *pt < 128)?;
        let mut parts = encoding.trim().split('/');
        let encoding = parts.next().filter(|name| !name.is_empty())?.to_owned();
        let clock_rate = parts.next()?.parse().ok()?;
        let channels = match parts.next() {
            Some(channels) => Some(channels.parse().ok()?),
            None => None,
        };
        Some(RtpMap {
            pt,
            encoding,
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.pt, self.encoding, self.clock_rate)?;
        if let Some(channels) = self.channels {
            write!(f, "/{channels}")?;
        }
        Ok(())
    }
}

impl Rtcp {
    fn parse(arg: &str) -> Option<Rtcp> {
        let mut fields = arg.split_ascii_whitespace();
        let port = fields.next()?.parse().ok()?;
        let address = match (fields.next(), fields.next(), fields.next()) {
            (None, _, _) => None,
            (Some("IN"), Some(_), Some(address)) => Some(address.parse().ok()?),
            _ => return None,
        };
        Some(Rtcp { port, address })
    }
}

impl fmt::Display for Rtcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        if let Some(address) = self.address {
            write!(f, " IN {} {address}", address_type(address))?;
        }
        Ok(())
    }
}

fn parse_fmtp(arg: &str) -> Option<(u8, String)> {
    let (pt, params) = arg.trim_start().split_once(' ')?;
    let pt = pt.parse().ok().filter(|pt| *pt < 128)?;
    Some((pt, params.trim().to_owned()))
}

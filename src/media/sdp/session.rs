//! The session level of an SDP body (RFC 4566 section 5): `v=`, `o=`, `s=`, `c=`, the session
//! direction attribute, every other session line verbatim, and the media descriptions.
//!
//! Owns: `SessionDescription::parse` and its `Display` (CRLF line ends).
//! Driven by: the call layer, through `media::sdp`'s builders.

use std::fmt;
use std::net::IpAddr;

use crate::media::sdp::media::MediaDescription;
use crate::media::sdp::{Direction, SdpError};

/// A parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`: who made the session and which version of it this is.
    pub origin: Origin,
    /// `s=`: the session name (`-` or a space are common).
    pub session_name: String,
    /// Session-level `c=`, used by media descriptions that have none of their own.
    pub connection: Option<Connection>,
    /// A session-level direction attribute, which media without their own inherit.
    pub direction: Option<Direction>,
    /// Every other session-level line (`t=`, `b=`, `a=group:...`), verbatim with its `x=`.
    pub other: Vec<String>,
    /// The `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

/// The `o=` line (RFC 4566 section 5.2). Network type is always `IN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `username`, `-` when there is none.
    pub username: String,
    /// `sess-id`: fixed for the lifetime of the session.
    pub session_id: u64,
    /// `sess-version`: increases whenever the SDP changes (RFC 3264 section 8).
    pub session_version: u64,
    /// `IP4` or `IP6`, verbatim.
    pub address_type: String,
    /// `unicast-address`: an IP literal or a host name, verbatim.
    pub address: String,
}

/// A `c=` line (RFC 4566 section 5.7): where the writer receives media. Network type is always
/// `IN`; the address type follows the address. `0.0.0.0` is the old (RFC 2543) way to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Connection {
    /// The connection address.
    pub address: IpAddr,
}

impl SessionDescription {
    /// Parses an SDP body; `\r\n` and bare `\n` line ends are both accepted, blank lines are
    /// skipped. Fails on a missing or malformed `v=`/`o=`/`s=`, a malformed `c=` or `m=`, or a
    /// line that is not `<letter>=<value>`. Malformed attributes are kept verbatim instead.
    pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
        let mut version = false;
        let mut origin = None;
        let mut session_name = None;
        let mut connection = None;
        let mut direction = None;
        let mut other = Vec::new();
        let mut media: Vec<MediaDescription> = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let number = index + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() {
                continue;
            }
            let (kind, value) = split_line(line).ok_or(SdpError::Invalid {
                line: number,
                what: "line",
            })?;
            if kind == 'm' {
                media.push(MediaDescription::parse_m_line(value, direction, number)?);
                continue;
            }
            if let Some(current) = media.last_mut() {
                current.parse_line(kind, value, line, number)?;
                continue;
            }
            match kind {
                'v' if value.trim() == "0" => version = true,
                'v' => return Err(SdpError::Version),
                'o' => origin = Some(Origin::parse(value, number)?),
                's' => session_name = Some(value.to_owned()),
                'c' => connection = Some(Connection::parse(value, number)?),
                'a' if Direction::from_attribute(value.trim()).is_some() => {
                    direction = Direction::from_attribute(value.trim());
                }
                _ => other.push(line.to_owned()),
            }
        }
        if !version {
            return Err(SdpError::Missing('v'));
        }
        Ok(SessionDescription {
            origin: origin.ok_or(SdpError::Missing('o'))?,
            session_name: session_name.ok_or(SdpError::Missing('s'))?,
            connection,
            direction,
            other,
            media,
        })
    }

    /// The connection that applies to media description `index`: its own, else the session's.
    pub fn connection_for(&self, index: usize) -> Option<Connection> {
        self.media
            .get(index)
            .and_then(|m| m.connection)
            .or(self.connection)
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=0\r\n{}s={}\r\n", self.origin, self.session_name)?;
        // RFC 4566 order: i= u= e= p= come before c=; b= t= r= z= k= a= after it.
        let before_c =
            |line: &&String| matches!(line.as_bytes().first(), Some(b'i' | b'u' | b'e' | b'p'));
        for line in self.other.iter().filter(before_c) {
            write!(f, "{line}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            write!(f, "{connection}")?;
        }
        for line in self.other.iter().filter(|line| !before_c(line)) {
            write!(f, "{line}\r\n")?;
        }
        if let Some(direction) = self.direction {
            write!(f, "a={}\r\n", direction.as_str())?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl Origin {
    /// An origin with an IP literal as its address.
    pub fn new(username: &str, session_id: u64, session_version: u64, address: IpAddr) -> Origin {
        Origin {
            username: username.to_owned(),
            session_id,
            session_version,
            address_type: address_type(address).to_owned(),
            address: address.to_string(),
        }
    }

    fn parse(value: &str, line: usize) -> Result<Origin, SdpError> {
        let invalid = SdpError::Invalid {
            line,
            what: "origin",
        };
        let mut fields = value.split_ascii_whitespace();
        let mut next = || fields.next().ok_or(invalid.clone());
        let username = next()?.to_owned();
        let session_id = next()?.parse().map_err(|_| invalid.clone())?;
        let session_version = next()?.parse().map_err(|_| invalid.clone())?;
        let _network_type = next()?;
        let address_type = next()?.to_owned();
        let address = next()?.to_owned();
        Ok(Origin {
            username,
            session_id,
            session_version,
            address_type,
            address,
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "o={} {} {} IN {} {}\r\n",
            self.username, self.session_id, self.session_version, self.address_type, self.address
        )
    }
}

impl Connection {
    /// Whether this is the old-style hold address (`0.0.0.0` or `::`).
    pub fn is_hold(&self) -> bool {
        self.address.is_unspecified()
    }

    pub(crate) fn parse(value: &str, line: usize) -> Result<Connection, SdpError> {
        let invalid = SdpError::Invalid {
            line,
            what: "connection",
        };
        let mut fields = value.split_ascii_whitespace();
        let (Some("IN"), Some(_), Some(address), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid);
        };
        // Multicast addresses carry `/ttl[/count]`; only the address matters to a B2BUA.
        let address = address.split('/').next().unwrap_or(address);
        let address = address.parse().map_err(|_| invalid)?;
        Ok(Connection { address })
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "c=IN {} {}\r\n",
            address_type(self.address),
            self.address
        )
    }
}

/// `IP4` or `IP6`.
pub(crate) fn address_type(address: IpAddr) -> &'static str {
    match address {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

fn split_line(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let kind = chars.next().filter(char::is_ascii_lowercase)?;
    let value = chars.as_str().strip_prefix('=')?;
    Some((kind, value))
}

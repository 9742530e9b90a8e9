//! The Via header (RFC 3261 section 20.42) and the RFC 3581 `received`/`rport` rewrite.
//!
//! Owns: `Via` and `via_with_received`. Tolerates LWS around `/`, `;` and `=` as the grammar
//! allows (RFC 4475 wsinv). Must not touch: transaction matching (the transaction layer reads
//! `branch()` and decides).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::sip::message::error::ParseError;
use crate::sip::message::header::{find_byte, is_token, is_wsp, split_list, trim_wsp};
use crate::sip::message::params::Params;
use crate::sip::message::uri::split_hostport;

/// One via-parm: `SIP/2.0/<transport> host[:port];params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// The transport token as written (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...).
    pub transport: &'a str,
    /// The sent-by host, without brackets for IPv6.
    pub host: &'a str,
    /// The sent-by port, if given.
    pub port: Option<u16>,
    /// The via parameters (`branch`, `received`, `rport`, `maddr`, `ttl`, ...).
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    /// Parses one via-parm (one element of a comma list). Fails on a protocol other than
    /// `SIP/2.0`, a bad sent-by or bad parameters.
    pub fn parse(text: &'a str) -> Result<Via<'a>, ParseError> {
        let rest = trim_wsp(after_protocol(text)?);
        let transport_end = rest
            .bytes()
            .position(is_wsp)
            .ok_or(ParseError::Syntax("Via without sent-by"))?;
        let transport = &rest[..transport_end];
        if !is_token(transport) {
            return Err(ParseError::Syntax("invalid Via transport"));
        }
        let after = trim_wsp(&rest[transport_end..]);
        let (sent_by, params) = match find_byte(after, b';') {
            Some(semi) => (trim_wsp(&after[..semi]), &after[semi..]),
            None => (after, ""),
        };
        let (host, port) =
            split_hostport(sent_by).map_err(|_| ParseError::Syntax("invalid Via sent-by"))?;
        let params = Params::parse(params)?;
        Ok(Via {
            transport,
            host,
            port,
            params,
        })
    }

    /// The `branch` parameter; `None` if absent or valueless (RFC 2543 peers send none).
    pub fn branch(&self) -> Option<&'a str> {
        self.params.get("branch").flatten()
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.params.get("received").flatten()
    }

    /// The `rport` parameter: `Some(None)` when present without a value (RFC 3581 request),
    /// `Some(Some(port))` when filled in. A non-numeric value reads as `Some(None)`.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// `host[:port]` as it would be written in a Via (IPv6 hosts in brackets).
    pub fn sent_by(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 8);
        if self.host.contains(':') {
            out.push('[');
            out.push_str(self.host);
            out.push(']');
        } else {
            out.push_str(self.host);
        }
        if let Some(port) = self.port {
            out.push(':');
            push_decimal(&mut out, port);
        }
        out
    }
}

/// What follows `SIP/2.0/` (LWS allowed around the slashes, `SIP` in any case).
fn after_protocol(text: &str) -> Result<&str, ParseError> {
    // Nearly every peer writes exactly `SIP/2.0/`: one comparison instead of a split.
    if let Some(prefix) = text.get(..8)
        && prefix.eq_ignore_ascii_case("SIP/2.0/")
    {
        return Ok(&text[8..]);
    }
    let mut parts = text.splitn(3, '/');
    let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ParseError::Syntax("Via without SIP/2.0/transport"));
    };
    if !trim_wsp(name).eq_ignore_ascii_case("SIP") || trim_wsp(version) != "2.0" {
        return Err(ParseError::Syntax("Via protocol is not SIP/2.0"));
    }
    Ok(rest)
}

/// RFC 3581: the top Via value of a received request with `received=<src ip>` added (when the
/// sent-by host differs from the source ip, or rport is present) and a valueless `rport` filled
/// with the source port. Other params unchanged. A value that does not parse is returned as is.
pub fn via_with_received(via_value: &str, src: SocketAddr) -> String {
    let top = match split_list(via_value).next() {
        Some(Ok(top)) => top,
        _ => return via_value.to_owned(),
    };
    let Ok(via) = Via::parse(top) else {
        return via_value.to_owned();
    };
    let rport = via.rport();
    let same_host = via.host.parse::<IpAddr>().is_ok_and(|ip| ip == src.ip());
    let add_received = !same_host || rport.is_some();
    let head = match find_byte(top, b';') {
        Some(semi) => trim_wsp(&top[..semi]),
        None => top,
    };
    let mut out = String::with_capacity(top.len() + 40);
    out.push_str(head);
    for (name, value) in via.params.iter() {
        if name.eq_ignore_ascii_case("received") && add_received {
            continue;
        }
        out.push(';');
        out.push_str(name);
        match value {
            None if name.eq_ignore_ascii_case("rport") => {
                out.push('=');
                push_decimal(&mut out, src.port());
            }
            None => {}
            Some(v) => {
                out.push('=');
                out.push_str(v);
            }
        }
    }
    if add_received {
        out.push_str(";received=");
        push_ip(&mut out, src.ip());
    }
    out
}

/// Appends `n` in decimal. Every request and every transaction key prints a port or an
/// address, and `fmt` costs about thirty times as much as this.
fn push_decimal(out: &mut String, n: u16) {
    let mut digits = [0u8; 5];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// Appends `ip` as `Display` would (IPv4 by hand, IPv6 through `fmt`).
fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, u16::from(octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_via() {
        let via = Via::parse("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543;rport").unwrap();
        assert_eq!(
            (via.transport, via.host, via.port),
            ("UDP", "127.0.0.1", Some(5070))
        );
        assert_eq!(via.branch(), Some("z9hG4bK-d87543"));
        assert_eq!(via.rport(), Some(None));
        assert_eq!(via.received(), None);
        assert_eq!(via.sent_by(), "127.0.0.1:5070");
    }

    #[test]
    fn whitespace_everywhere() {
        let via = Via::parse("SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(
            (via.transport, via.host, via.branch()),
            ("UDP", "192.0.2.2", Some("390skdjuw"))
        );
        let via =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8")
                .unwrap();
        assert_eq!(
            (via.transport, via.host, via.branch()),
            ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8"))
        );
    }

    #[test]
    fn ipv6_sent_by() {
        let via = Via::parse("SIP/2.0/TLS [2001:db8::10]:5070;branch=z9hG4bKx;rport=5071").unwrap();
        assert_eq!(
            (via.host, via.port, via.rport()),
            ("2001:db8::10", Some(5070), Some(Some(5071)))
        );
        assert_eq!(via.sent_by(), "[2001:db8::10]:5070");
        assert_eq!(
            Via::parse("SIP/2.0/UDP iftgw.example.com")
                .unwrap()
                .branch(),
            None
        );
    }

    #[test]
    fn numbers_and_addresses_print_as_display_does() {
        for n in [0u16, 7, 10, 99, 100, 5060, 9999, 10000, 65535] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "192.0.2.10",
            "255.255.255.255",
            "2001:db8::1",
            "::",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = String::from("x");
            push_ip(&mut out, ip);
            assert_eq!(out, format!("x{ip}"));
        }
    }

    #[test]
    fn malformed_vias_are_rejected() {
        for bad in [
            "SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw",
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDP",
            "SIP/2.0 host",
            "SIP/2.0/UDP host:port",
            "SIP/2.0/UDP ",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn received_and_rport_are_filled_in() {
        let src: SocketAddr = "192.0.2.1:9988".parse().unwrap();
        let out = via_with_received(
            "SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff",
            src,
        );
        assert_eq!(
            out,
            "SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=192.0.2.1"
        );
        let same = via_with_received("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa", src);
        assert_eq!(same, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa");
        let named = via_with_received(
            "SIP/2.0/TCP pc.example.com;branch=z9hG4bKa;received=1.2.3.4",
            src,
        );
        assert_eq!(
            named,
            "SIP/2.0/TCP pc.example.com;branch=z9hG4bKa;received=192.0.2.1"
        );
        let v6: SocketAddr = "[2001:db8::1]:5062".parse().unwrap();
        let out = via_with_received(
            "SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKb;rport, SIP/2.0/UDP x",
            v6,
        );
        assert_eq!(
            out,
            "SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKb;rport=5062;received=2001:db8::1"
        );
        assert_eq!(via_with_received("garbage", src), "garbage");
    }
}

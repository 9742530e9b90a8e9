//! Outgoing-request destinations: which webhook URLs would reach the PBX's own machine or
//! private network (server-side request forgery), and so are refused unless allowed.
//!
//! Owns: the address classes refused (loopback, private, link-local, unique-local, carrier
//! NAT, unspecified, `localhost` names).
//! Must not touch: DNS (names other than `localhost` are taken as public: a name that
//! resolves to a private address is not caught here), HTTP.
//! Driven by: the config check of `[[cti.webhooks]]` and the webhook API, unless
//! `[cti] allow_private_webhooks = true`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `url` points inside (loopback, private or link-local), or `None` when it does not
/// (or cannot be parsed: the URL check reports that).
pub fn private_destination(url: &str) -> Option<&'static str> {
    // The URL parser normalises IPv4 forms (`0x7f.1`, `2130706433`) to dotted quads.
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => address_class(ip),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some("loopback")
        }
    }
}

/// `private_destination` for an address.
pub fn address_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => v4_class(ip),
        IpAddr::V6(ip) => v6_class(ip),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || ip.is_broadcast() {
        Some("unspecified")
    } else {
        None
    }
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_class(v4);
    }
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_named_and_public_ones_pass() {
        for (url, class) in [
            ("http://127.0.0.1:9000/hook", Some("loopback")),
            ("http://localhost/hook", Some("loopback")),
            ("https://[::1]/hook", Some("loopback")),
            ("http://10.1.2.3/", Some("private")),
            ("http://172.16.0.1/", Some("private")),
            ("http://192.168.1.10/", Some("private")),
            ("http://100.64.0.1/", Some("private")),
            ("http://[fd00::1]/", Some("private")),
            (
                "http://169.254.169.254/latest/meta-data",
                Some("link-local"),
            ),
            ("http://[fe80::1]/", Some("link-local")),
            ("http://[::ffff:127.0.0.1]/", Some("loopback")),
            ("http://0.0.0.0/", Some("unspecified")),
            ("http://2130706433/", Some("loopback")),
            ("https://crm.example.com/hooks", None),
            ("https://203.0.113.7/hooks", None),
        ] {
            assert_eq!(private_destination(url), class, "{url}");
        }
    }
}

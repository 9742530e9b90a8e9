//! Contact URI comparison for the registrar (RFC 3261 section 10.3 step 6, loosely following
//! the URI equality rules of section 19.1.4).
//!
//! Owns: the normalised key under which a contact is matched against existing bindings.
//! Rules: scheme and host-port compare case-insensitively; the user part (with its password and
//! user parameters) compares exactly; of the URI parameters only `transport`, `user`, `maddr`,
//! `ttl` and `method` take part (names and values case-insensitively, in any order); other
//! parameters (`ob`, `rinstance`, ...) and URI headers are ignored. Escapes are not decoded and
//! default ports are not filled in (`sip:a@h` and `sip:a@h:5060` differ, as in RFC 3261).

/// The normalised comparison key of a contact URI (optionally wrapped in `<>`).
pub fn contact_key(uri: &str) -> String {
    let uri = uri.trim();
    let uri = uri
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .unwrap_or(uri);
    let Some((scheme, rest)) = uri.split_once(':') else {
        return uri.to_ascii_lowercase();
    };
    let rest = rest
        .split_once('?')
        .map_or(rest, |(before, _headers)| before);
    let (user, host_and_params) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let mut parts = host_and_params.split(';');
    let host_port = parts.next().unwrap_or("");

    let mut key = String::with_capacity(uri.len());
    key.push_str(&scheme.to_ascii_lowercase());
    key.push(':');
    if let Some(user) = user {
        key.push_str(user);
        key.push('@');
    }
    key.push_str(&host_port.to_ascii_lowercase());

    let mut params: Vec<String> = parts
        .map(str::to_ascii_lowercase)
        .filter(|p| {
            let name = p.split_once('=').map_or(p.as_str(), |(n, _)| n);
            matches!(
                name.trim(),
                "transport" | "user" | "maddr" | "ttl" | "method"
            )
        })
        .collect();
    params.sort_unstable();
    for p in params {
        key.push(';');
        key.push_str(&p);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host_are_case_insensitive_user_is_exact() {
        assert_eq!(
            contact_key("SIP:1001@Example.COM:5070"),
            contact_key("sip:1001@example.com:5070")
        );
        assert_ne!(contact_key("sip:Alice@h"), contact_key("sip:alice@h"));
        assert_ne!(contact_key("sip:a@h"), contact_key("sip:a@h:5060"));
        assert_ne!(contact_key("sip:a@h"), contact_key("sips:a@h"));
    }

    #[test]
    fn only_significant_parameters_count_in_any_order() {
        assert_eq!(
            contact_key("<sip:a@10.0.0.1:5060;ob;transport=TCP;rinstance=x>"),
            contact_key("sip:a@10.0.0.1:5060;Transport=tcp")
        );
        assert_eq!(
            contact_key("sip:a@h;user=phone;transport=udp"),
            contact_key("sip:a@h;transport=udp;user=phone?X-Foo=1")
        );
        assert_ne!(
            contact_key("sip:a@h;transport=tcp"),
            contact_key("sip:a@h;transport=udp")
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        assert_eq!(contact_key("sip:host"), "sip:host");
        assert_eq!(contact_key(" NoScheme "), "noscheme");
        assert_eq!(contact_key("sip:"), "sip:");
        assert_eq!(contact_key("sip:1001;ext=2@h"), "sip:1001;ext=2@h");
        assert_eq!(contact_key("sip:@"), "sip:@");
    }

    proptest::proptest! {
        #[test]
        fn key_ignores_scheme_and_host_case_and_never_panics(
            user in "[a-zA-Z0-9]{1,8}",
            host in "[a-zA-Z0-9.]{1,12}",
            junk in "\\PC{0,40}",
        ) {
            let _ = contact_key(&junk);
            let lower = format!("sip:{user}@{}", host.to_lowercase());
            let upper = format!("SIP:{user}@{}", host.to_uppercase());
            proptest::prop_assert_eq!(contact_key(&lower), contact_key(&upper));
        }
    }
}

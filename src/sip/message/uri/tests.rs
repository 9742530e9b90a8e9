use super::*;

#[test]
fn sip_uri_with_everything() {
    let uri =
        Uri::parse("sips:alice:secret@[2001:db8::10]:5070;transport=tcp;lr?subject=hi").unwrap();
    assert_eq!(uri.scheme, Scheme::Sips);
    assert_eq!(uri.user, Some("alice"));
    assert_eq!(uri.password, Some("secret"));
    assert_eq!(uri.host, "2001:db8::10");
    assert_eq!(uri.port, Some(5070));
    assert_eq!(uri.params.get("transport"), Some(Some("tcp")));
    assert_eq!(uri.params.get("lr"), Some(None));
    assert_eq!(uri.headers, Some("subject=hi"));
    assert!(uri.is_sip());
}

#[test]
fn host_only_and_case_insensitive_scheme() {
    let uri = Uri::parse("SIP:example.com").unwrap();
    assert_eq!(
        (uri.scheme, uri.user, uri.host, uri.port),
        (Scheme::Sip, None, "example.com", None)
    );
    let uri = Uri::parse("sip:127.0.0.1:5080").unwrap();
    assert_eq!((uri.host, uri.port), ("127.0.0.1", Some(5080)));
    assert_eq!(Uri::parse("sip:[::1]").unwrap().host, "::1");
}

#[test]
fn user_part_may_hold_reserved_characters() {
    let uri = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
    assert_eq!(uri.user, Some("user;par=u%40example.net"));
    assert_eq!(uri.host, "example.com");
    assert!(uri.params.is_empty());
    let weird = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
    let uri = Uri::parse(weird).unwrap();
    assert_eq!(
        uri.user,
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        uri.password,
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
}

#[test]
fn tel_and_other_schemes() {
    let uri = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
    assert_eq!(uri.scheme, Scheme::Tel);
    assert_eq!(uri.user, Some("+1-201-555-0123"));
    assert_eq!(uri.params.get("phone-context"), Some(Some("example.com")));
    let uri = Uri::parse("soap.beep://192.0.2.103:3002").unwrap();
    assert_eq!(
        (uri.scheme, uri.host),
        (Scheme::Other, "//192.0.2.103:3002")
    );
    assert_eq!(
        Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent")
            .unwrap()
            .scheme,
        Scheme::Other
    );
}

#[test]
fn malformed_uris_are_rejected() {
    for bad in [
        "sip:user@example.com; lr",
        "<sip:a@b>",
        "sip:",
        "sip:@host",
        "sip:host:99999",
        "sip:host:",
        "sip:[::1",
        "sip:host;;lr",
        "nocolon",
        "1x:abc",
        "tel:",
        "tel:abc-xyz",
        "sip:ho st",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn unescape_decodes_valid_escapes_only() {
    assert_eq!(unescape("%75se%72"), "user");
    assert_eq!(unescape("I%20have%20spaces"), "I have spaces");
    assert_eq!(unescape("null-%00-null"), "null-\0-null");
    assert_eq!(unescape("100%"), "100%");
    assert_eq!(unescape("%Z%45"), "%ZE");
    assert!(matches!(unescape("plain"), Cow::Borrowed("plain")));
    assert_eq!(unescape("%ff"), "\u{fffd}");
}

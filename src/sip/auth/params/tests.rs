use std::borrow::Cow;

use super::*;

const RFC7616_SHA256: &str = "Digest username=\"Mufasa\",
    realm=\"http-auth@example.org\",
    uri=\"/dir/index.html\",
    algorithm=SHA-256,
    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",
    nc=00000001,
    cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",
    qop=auth,
    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

#[test]
fn parses_rfc7616_credentials_with_folded_lines() {
    let c = parse_credentials(RFC7616_SHA256).unwrap();
    assert_eq!(c.username, "Mufasa");
    assert_eq!(c.realm, "http-auth@example.org");
    assert_eq!(c.uri, "/dir/index.html");
    assert_eq!(c.algorithm, Algorithm::Sha256);
    assert_eq!(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    assert_eq!(c.nc.as_deref(), Some("00000001"));
    assert_eq!(
        c.cnonce.as_deref(),
        Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    );
    assert_eq!(c.qop.as_deref(), Some("auth"));
    assert_eq!(
        c.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
    assert!(matches!(c.username, Cow::Borrowed(_)));
}

#[test]
fn any_order_case_insensitive_names_unknown_params_ignored_md5_default() {
    let v = r#"digest  RESPONSE="0123" ,uri="sip:a@b;transport=tcp", x-foo=bar, Nonce="n", ,
        realm = "r" , userhash=false, username="1001""#;
    let c = parse_credentials(v).unwrap();
    assert_eq!(c.username, "1001");
    assert_eq!(c.uri, "sip:a@b;transport=tcp");
    assert_eq!(c.realm, "r");
    assert_eq!(c.response, "0123");
    assert_eq!(c.algorithm, Algorithm::Md5);
    assert_eq!((c.cnonce, c.qop, c.nc, c.opaque), (None, None, None, None));
}

#[test]
fn quoted_string_escapes_are_removed() {
    let v = r#"Digest username="a\"b\\c", realm="r", nonce="n", uri="u", response="x""#;
    let c = parse_credentials(v).unwrap();
    assert_eq!(c.username, "a\"b\\c");
    assert!(matches!(c.username, Cow::Owned(_)));
    assert!(matches!(c.realm, Cow::Borrowed(_)));
}

#[test]
fn utf8_in_quoted_values_survives() {
    let v = "Digest username=\"Zażółć\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"";
    assert_eq!(parse_credentials(v).unwrap().username, "Zażółć");
}

#[test]
fn rejects_bad_credentials() {
    let ok = r#"username="u", realm="r", nonce="n", uri="u", response="x""#;
    assert_eq!(
        parse_credentials(&format!("Basic {ok}")),
        Err(AuthError::NotDigest)
    );
    assert_eq!(parse_credentials(""), Err(AuthError::NotDigest));
    assert_eq!(
        parse_credentials("Digest"),
        Err(AuthError::MissingParam("username"))
    );
    assert_eq!(
        parse_credentials(r#"Digest username="u", realm="r", nonce="n", response="x""#),
        Err(AuthError::MissingParam("uri"))
    );
    assert_eq!(
        parse_credentials(&format!("Digest {ok}, realm=\"again\"")),
        Err(AuthError::DuplicateParam("realm"))
    );
    assert_eq!(
        parse_credentials(&format!("Digest {ok}, algorithm=SHA-512-256")),
        Err(AuthError::UnsupportedAlgorithm)
    );
    for broken in [
        r#"Digest username="u"#,
        r#"Digest username="u" realm="r""#,
        r#"Digest username"#,
        r#"Digest =x"#,
        r#"Digest username="u\"#,
        "Digest username=\"u\\\u{e9}\"",
        r#"Digest username=u"x""#,
    ] {
        assert!(
            matches!(parse_credentials(broken), Err(AuthError::Syntax(_))),
            "{broken}: {:?}",
            parse_credentials(broken)
        );
    }
}

#[test]
fn parses_challenges() {
    let c = parse_challenge(
        r#"Digest realm="sip.example.com", qop="auth,auth-int", nonce="abc", opaque="o", stale=TRUE, algorithm=sha-256, domain="sip:x""#,
    )
    .unwrap();
    assert_eq!(
        c,
        Challenge {
            realm: "sip.example.com".into(),
            nonce: "abc".into(),
            algorithm: Algorithm::Sha256,
            qop: Some("auth,auth-int".into()),
            opaque: Some("o".into()),
            stale: true,
        }
    );
    let c = parse_challenge(r#"Digest realm="r", nonce="n", stale="false""#).unwrap();
    assert_eq!((c.algorithm, c.stale, c.qop), (Algorithm::Md5, false, None));
    assert_eq!(
        parse_challenge(r#"Digest realm="r""#),
        Err(AuthError::MissingParam("nonce"))
    );
}

#[test]
fn push_quoted_round_trips_through_the_parser() {
    let mut v = String::from("Digest realm=");
    push_quoted(&mut v, "a \"b\" \\ c");
    v.push_str(", nonce=n");
    assert_eq!(parse_challenge(&v).unwrap().realm, "a \"b\" \\ c");
}

mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::sip::auth::authorization;

    proptest! {
        #[test]
        fn parsers_never_panic(value in "\\PC{0,120}", tail in "[a-z=\", \\\\]{0,40}") {
            let _ = parse_credentials(&value);
            let _ = parse_challenge(&value);
            let _ = parse_credentials(&format!("Digest {tail}"));
            let _ = parse_challenge(&format!("Digest {tail}"));
        }

        #[test]
        fn authorization_round_trips_through_the_parser(
            username in "\\PC{0,20}",
            realm in "\\PC{0,20}",
            uri in "\\PC{0,30}",
            nc in any::<u32>(),
        ) {
            let challenge = Challenge {
                realm: realm.clone(),
                nonce: "n".into(),
                algorithm: Algorithm::Sha256,
                qop: Some("auth".into()),
                opaque: None,
                stale: false,
            };
            let header = authorization(&challenge, &username, "pw", "REGISTER", &uri, "cn", nc);
            let creds = parse_credentials(&header).unwrap();
            prop_assert_eq!(creds.username, username);
            prop_assert_eq!(creds.realm, realm);
            prop_assert_eq!(creds.uri, uri);
            let expected_nc = format!("{nc:08x}");
            prop_assert_eq!(creds.nc.as_deref(), Some(expected_nc.as_str()));
        }
    }
}

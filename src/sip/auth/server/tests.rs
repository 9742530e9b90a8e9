use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::sip::auth::{Challenge, authorization, parse_challenge, parse_credentials};

const T0: u64 = 1_700_000_000;
const TTL: Duration = Duration::from_secs(300);

fn server() -> DigestServer {
    DigestServer::new("centrala".into(), [7; 32], TTL)
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(42)
}

/// The challenge for `algorithm` issued at `unix_secs`, as a client would parse it.
fn challenge(s: &DigestServer, unix_secs: u64, algorithm: Algorithm) -> Challenge {
    s.challenges(unix_secs, false, &mut rng())
        .iter()
        .map(|v| parse_challenge(v).unwrap())
        .find(|c| c.algorithm == algorithm)
        .unwrap()
}

fn answer(c: &Challenge, password: &str) -> String {
    authorization(
        c,
        "1001",
        password,
        "REGISTER",
        "sip:centrala.example",
        "c0ffee",
        1,
    )
}

fn verify_at(s: &DigestServer, header: &str, unix_secs: u64) -> Verdict {
    let creds = parse_credentials(header).unwrap();
    s.verify(&creds, "REGISTER", "secret", unix_secs)
}

#[test]
fn challenges_offer_sha256_then_md5_with_qop_auth() {
    let s = server();
    let v = s.challenges(T0, false, &mut rng());
    assert_eq!(v.len(), 2);
    let (a, b) = (
        parse_challenge(&v[0]).unwrap(),
        parse_challenge(&v[1]).unwrap(),
    );
    assert_eq!(
        (a.algorithm, b.algorithm),
        (Algorithm::Sha256, Algorithm::Md5)
    );
    assert_eq!(a.realm, "centrala");
    assert_eq!(a.qop.as_deref(), Some("auth"));
    assert!(!a.stale);
    assert_eq!(a.nonce.len(), 2 * NONCE_LEN);
    let stale = s.challenges(T0, true, &mut rng());
    assert!(stale.iter().all(|v| parse_challenge(v).unwrap().stale));
}

#[test]
fn client_answer_is_accepted_for_both_algorithms() {
    let s = server();
    for alg in [Algorithm::Sha256, Algorithm::Md5] {
        let h = answer(&challenge(&s, T0, alg), "secret");
        assert_eq!(verify_at(&s, &h, T0 + 1), Verdict::Ok, "{alg}");
    }
}

#[test]
fn session_algorithms_are_accepted_and_rfc2069_style_answers_without_qop_are_not() {
    let s = server();
    for alg in [Algorithm::Md5Sess, Algorithm::Sha256Sess] {
        let c = Challenge {
            algorithm: alg,
            ..challenge(&s, T0, Algorithm::Md5)
        };
        assert_eq!(
            verify_at(&s, &answer(&c, "secret"), T0),
            Verdict::Ok,
            "{alg}"
        );
    }
    // Without qop there is no nonce-count, so the answer could be replayed: refused.
    let c = Challenge {
        qop: None,
        ..challenge(&s, T0, Algorithm::Md5)
    };
    assert_eq!(verify_at(&s, &answer(&c, "secret"), T0), Verdict::Malformed);
}

#[test]
fn precomputed_ha1_is_accepted() {
    let s = server();
    let h = answer(&challenge(&s, T0, Algorithm::Sha256), "secret");
    let creds = parse_credentials(&h).unwrap();
    let good = ha1(Algorithm::Sha256, "1001", "centrala", "secret");
    let bad = ha1(Algorithm::Sha256, "1001", "centrala", "guess");
    assert_eq!(s.verify_ha1(&creds, "REGISTER", &good, T0), Verdict::Ok);
    assert_eq!(
        s.verify_ha1(&creds, "REGISTER", &bad, T0),
        Verdict::BadPassword
    );
}

#[test]
fn wrong_password_or_method_is_bad_password() {
    let s = server();
    let h = answer(&challenge(&s, T0, Algorithm::Md5), "guess");
    assert_eq!(verify_at(&s, &h, T0), Verdict::BadPassword);
    let h = answer(&challenge(&s, T0, Algorithm::Md5), "secret");
    let creds = parse_credentials(&h).unwrap();
    assert_eq!(
        s.verify(&creds, "INVITE", "secret", T0),
        Verdict::BadPassword
    );
}

#[test]
fn nonce_is_ok_until_ttl_and_stale_one_second_later() {
    let s = server();
    let h = answer(&challenge(&s, T0, Algorithm::Sha256), "secret");
    assert_eq!(verify_at(&s, &h, T0 + TTL.as_secs()), Verdict::Ok);
    assert_eq!(verify_at(&s, &h, T0 + TTL.as_secs() + 1), Verdict::Stale);
    // A stale nonce with the wrong password is a failure, not a stale.
    let bad = answer(&challenge(&s, T0, Algorithm::Sha256), "guess");
    assert_eq!(
        verify_at(&s, &bad, T0 + TTL.as_secs() + 1),
        Verdict::BadPassword
    );
}

#[test]
fn nonce_from_the_future_beyond_skew_is_stale() {
    let s = server();
    let h = answer(&challenge(&s, T0 + 100, Algorithm::Md5), "secret");
    assert_eq!(
        verify_at(&s, &h, T0 + 100 - MAX_CLOCK_SKEW_SECS),
        Verdict::Ok
    );
    assert_eq!(
        verify_at(&s, &h, T0 + 99 - MAX_CLOCK_SKEW_SECS),
        Verdict::Stale
    );
}

#[test]
fn tampered_or_foreign_nonce_is_bad_nonce() {
    let s = server();
    let mut c = challenge(&s, T0, Algorithm::Md5);
    // Move the issue time forward by one second to dodge staleness: the MAC no longer fits.
    let mut raw = hex::decode(&c.nonce).unwrap();
    raw[TIME_LEN - 1] ^= 1;
    c.nonce = hex::encode(raw);
    assert_eq!(verify_at(&s, &answer(&c, "secret"), T0), Verdict::BadNonce);

    let other = DigestServer::new("centrala".into(), [8; 32], TTL);
    let foreign = answer(&challenge(&other, T0, Algorithm::Md5), "secret");
    assert_eq!(verify_at(&s, &foreign, T0), Verdict::BadNonce);

    for nonce in ["", "zz", "dcd98b7102dd2f0e8b11d0f600bfb0c093"] {
        let c = Challenge {
            nonce: nonce.into(),
            ..challenge(&s, T0, Algorithm::Md5)
        };
        assert_eq!(
            verify_at(&s, &answer(&c, "secret"), T0),
            Verdict::BadNonce,
            "{nonce}"
        );
    }
}

#[test]
fn another_node_with_the_same_secret_accepts_the_nonce() {
    let h = answer(&challenge(&server(), T0, Algorithm::Sha256), "secret");
    assert_eq!(verify_at(&server(), &h, T0 + 5), Verdict::Ok);
}

#[test]
fn foreign_realm_is_bad_nonce() {
    let s = server();
    let c = Challenge {
        realm: "elsewhere".into(),
        ..challenge(&s, T0, Algorithm::Md5)
    };
    assert_eq!(verify_at(&s, &answer(&c, "secret"), T0), Verdict::BadNonce);
}

#[test]
fn inconsistent_credentials_are_malformed() {
    let s = server();
    let good = answer(&challenge(&s, T0, Algorithm::Md5), "secret");
    let cases = [
        good.replace("uri=\"sip:centrala.example\"", "uri=\"\""),
        good.replace("qop=auth", "qop=auth-int"),
        good.replace("nc=00000001", "nc=1"),
        good.replace(", nc=00000001", ""),
        good.replace("cnonce=\"c0ffee\"", "cnonce=\"\""),
        good.replace("response=\"", "response=\"0"),
        good.replace("algorithm=MD5", "algorithm=SHA-256"),
    ];
    for h in cases {
        assert_eq!(verify_at(&s, &h, T0), Verdict::Malformed, "{h}");
    }
}

#[test]
fn response_hex_case_does_not_matter() {
    let s = server();
    let h = answer(&challenge(&s, T0, Algorithm::Md5), "secret");
    let start = h.find("response=\"").unwrap() + 10;
    let upper = format!(
        "{}{}{}",
        &h[..start],
        h[start..start + 32].to_uppercase(),
        &h[start + 32..]
    );
    assert_eq!(verify_at(&s, &upper, T0), Verdict::Ok);
}

#[test]
fn rfc7616_credentials_verify_through_the_parser() {
    // RFC 7616 section 3.9.1, MD5 variant: parsed credentials, recomputed digest.
    let header = "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
        uri=\"/dir/index.html\", algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
        nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
        response=\"8ca523f5e9506fed4657c9700eebdbec\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    let creds = parse_credentials(header).unwrap();
    let input = digest_input(&creds, "GET").unwrap();
    let base = ha1(
        Algorithm::Md5,
        "Mufasa",
        "http-auth@example.org",
        "Circle of Life",
    );
    assert_eq!(request_digest(&base, &input), creds.response);
    // The nonce is not ours, so the server itself refuses it.
    let s = DigestServer::new("http-auth@example.org".into(), [0; 32], TTL);
    assert_eq!(
        s.verify(&creds, "GET", "Circle of Life", T0),
        Verdict::BadNonce
    );
}

//! The gate against replays: a captured header works once, only for its own Request-URI.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::sip::auth::{Algorithm, authorization, parse_challenge};

const T0: u64 = 1_800_000_000;
const PHONE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66));

fn guard() -> AuthGuard {
    let config = GuardConfig {
        realm: "centrala".into(),
        nonce_ttl: Duration::from_secs(300),
        max_failures: 5,
        window: Duration::from_secs(60),
        ban_for: Duration::from_secs(600),
        algorithms: vec![Algorithm::Md5],
    };
    let users = HashMap::from([("1001".to_string(), "pw1001-long".to_string())]);
    AuthGuard::new(config, users)
}

fn request(uri: &str, authorization: Option<&str>) -> Message {
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let text = format!(
        "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1\r\n\
         From: <sip:1001@centrala>;tag=a\r\nTo: <sip:1001@centrala>\r\nCall-ID: c1\r\n\
         CSeq: 1 REGISTER\r\n{auth}Content-Length: 0\r\n\r\n"
    );
    Message::parse(Bytes::from(text), true).unwrap()
}

/// A challenge from the guard and the phone's answer to it for `uri` with nonce-count `nc`.
fn answered(guard: &AuthGuard, uri: &str, nc: u32) -> String {
    let challenge = guard
        .challenge(T0, &request(uri, None), 401, false, "t")
        .build_message()
        .unwrap();
    let value = challenge.header("WWW-Authenticate").unwrap().to_string();
    let challenge = parse_challenge(&value).unwrap();
    authorization(
        &challenge,
        "1001",
        "pw1001-long",
        "REGISTER",
        uri,
        "cn0nce",
        nc,
    )
}

fn check(guard: &AuthGuard, uri: &str, header: &str, from: IpAddr) -> Decision {
    let msg = request(uri, Some(header));
    guard.check(Instant::now(), T0 + 1, &msg, from, "Authorization")
}

#[test]
fn a_captured_header_is_challenged_when_sent_again() {
    let guard = guard();
    let header = answered(&guard, "sip:centrala", 1);
    assert_eq!(
        check(&guard, "sip:centrala", &header, PHONE),
        Decision::Authenticated("1001".into())
    );
    assert_eq!(
        check(&guard, "sip:centrala", &header, ATTACKER),
        Decision::Challenge { stale: true },
        "the replay does not register the attacker"
    );
}

#[test]
fn the_phone_goes_on_with_the_next_nonce_count() {
    let guard = guard();
    let first = answered(&guard, "sip:centrala", 1);
    assert!(matches!(
        check(&guard, "sip:centrala", &first, PHONE),
        Decision::Authenticated(_)
    ));
    let nonce = parse_credentials(&first).unwrap().nonce.into_owned();
    let challenge = crate::sip::auth::Challenge {
        realm: "centrala".into(),
        nonce,
        algorithm: Algorithm::Md5,
        qop: Some("auth".into()),
        opaque: None,
        stale: false,
    };
    let second = authorization(
        &challenge,
        "1001",
        "pw1001-long",
        "REGISTER",
        "sip:centrala",
        "x",
        2,
    );
    assert!(matches!(
        check(&guard, "sip:centrala", &second, PHONE),
        Decision::Authenticated(_)
    ));
}

#[test]
fn a_header_for_another_request_uri_is_refused() {
    let guard = guard();
    let header = answered(&guard, "sip:1002@centrala", 1);
    assert_eq!(
        check(&guard, "sip:0048700123456@centrala", &header, ATTACKER),
        Decision::Malformed
    );
}

#[test]
fn a_uri_without_user_for_the_same_host_is_accepted_as_sipp_sends_it() {
    let guard = guard();
    let header = answered(&guard, "sip:centrala", 1);
    assert!(matches!(
        check(&guard, "sip:1002@centrala", &header, PHONE),
        Decision::Authenticated(_)
    ));
    let header = answered(&guard, "sip:centrala", 2);
    assert_eq!(
        check(&guard, "sip:1002@elsewhere", &header, PHONE),
        Decision::Malformed
    );
}

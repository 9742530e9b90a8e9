use super::*;

use bytes::Bytes;

fn check(text: &str) -> Result<(), Rejection> {
    let msg = Message::parse(Bytes::copy_from_slice(text.as_bytes()), true).unwrap();
    validate_request(&msg, &["100rel", "timer"])
}

fn request(start: &str, extra: &str) -> String {
    let method = start.split(' ').next().unwrap_or_default();
    format!(
        "{start}\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\n\
         To: <sip:b@example.com>\r\nCall-ID: c@h\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}\r\n"
    )
}

fn status(text: &str) -> u16 {
    check(text).map_or_else(|r| r.status, |()| 0)
}

#[test]
fn well_formed_requests_pass() {
    assert_eq!(
        check(&request("INVITE sip:b@example.com SIP/2.0", "")),
        Ok(())
    );
    assert_eq!(
        check(&request(
            "OPTIONS tel:+15551234 SIP/2.0",
            "Require: 100rel\r\n"
        )),
        Ok(())
    );
    let register = request(
        "REGISTER sip:example.com SIP/2.0",
        "Contact: <sip:b@h>;expires=60\r\nExpires: 60\r\n",
    );
    assert_eq!(check(&register), Ok(()));
}

#[test]
fn statuses_for_each_rule() {
    assert_eq!(
        status(
            &request("INVITE sip:b@example.com SIP/2.0", "")
                .replace("CSeq: 1 INVITE", "CSeq: 1 BYE")
        ),
        400
    );
    assert_eq!(
        status(
            &request("INVITE sip:b@example.com SIP/2.0", "")
                .replace("Max-Forwards: 70", "Max-Forwards: 0")
        ),
        483
    );
    assert_eq!(
        status(&request("INVITE mailto:b@example.com SIP/2.0", "")),
        416
    );
    assert_eq!(
        status(&request("INVITE <sip:b@example.com> SIP/2.0", "")),
        400
    );
    assert_eq!(
        status(&request("INVITE sip:b@example.com?Route=x SIP/2.0", "")),
        400
    );
    assert_eq!(
        status(&request("INVITE sip:b@example.com SIP/2.0", "").replace("Call-ID: c@h\r\n", "")),
        400
    );
    assert_eq!(
        status(&request(
            "INVITE sip:b@example.com SIP/2.0",
            "Call-ID: d@h\r\n"
        )),
        400
    );
    assert_eq!(
        status(&request(
            "INVITE sip:b@example.com SIP/2.0",
            "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n"
        )),
        400
    );
    assert_eq!(
        status(&request(
            "REGISTER sip:example.com SIP/2.0",
            "Expires: 99999999999\r\n"
        )),
        400
    );
    assert_eq!(
        status(&request(
            "REGISTER sip:example.com SIP/2.0",
            "Contact: <sip:b@h>;expires=x\r\n"
        )),
        400
    );
    assert_eq!(
        status(&request(
            "REGISTER sip:example.com SIP/2.0",
            "Contact: *\r\n"
        )),
        400
    );
    assert_eq!(
        status(&request(
            "REGISTER sip:example.com SIP/2.0",
            "Contact: *\r\nExpires: 0\r\n"
        )),
        0
    );
}

#[test]
fn require_lists_unsupported_options() {
    let text = request(
        "OPTIONS sip:b@example.com SIP/2.0",
        "Require: 100rel, foo\r\nRequire: bar\r\n",
    );
    let rejection = check(&text).unwrap_err();
    assert_eq!(
        (rejection.status, rejection.unsupported),
        (420, vec!["foo".to_owned(), "bar".to_owned()])
    );
    let ack = request("ACK sip:b@example.com SIP/2.0", "Require: foo\r\n");
    assert_eq!(check(&ack), Ok(()));
}

#[test]
fn stream_needs_content_length() {
    let text = request("OPTIONS sip:b@example.com SIP/2.0", "");
    let msg = Message::parse(Bytes::from(text.clone()), false).unwrap();
    assert_eq!(validate_request(&msg, &[]).unwrap_err().status, 400);
    let with = text.replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n");
    let msg = Message::parse(Bytes::from(with), false).unwrap();
    assert_eq!(validate_request(&msg, &[]), Ok(()));
}

#[test]
fn responses_are_checked_separately() {
    let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n\
                To: <sip:b@c>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
    let msg = Message::parse(Bytes::from_static(resp.as_bytes()), true).unwrap();
    assert_eq!(validate_response(&msg), Ok(()));
    assert_eq!(validate_request(&msg, &[]).unwrap_err().status, 400);
    let big = resp.replace("CSeq: 1", "CSeq: 9292394834772304023312");
    let msg = Message::parse(Bytes::from(big), true).unwrap();
    assert_eq!(validate_response(&msg).unwrap_err().status, 400);
}

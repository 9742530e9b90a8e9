use super::*;

fn parse(text: &str) -> Message {
    Message::parse(Bytes::copy_from_slice(text.as_bytes()), true).unwrap()
}

const INVITE: &str = "INVITE sip:bob@[2001:db8::10]:5070;transport=udp SIP/2.0\r\n\
    v: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK1;rport, SIP/2.0/TCP p1.example.com;branch=z9hG4bK2\r\n\
    Via: SIP/2.0/UDP p2.example.com:5080;branch=z9hG4bK3;received=192.0.2.9\r\n\
    f: \"Doe, \\\"Jo\\\"\" <sip:jo@example.com>;tag=a1\r\n\
    t: <tel:+15551234;phone-context=example.com>\r\n\
    i: abc@host\r\n\
    CSeq: 7 INVITE\r\n\
    m: <sip:jo@[2001:db8::1]:5062>;expires=60, \"Other\" <sips:jo@example.com>\r\n\
    Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
    Record-Route: <sip:rr.example.com;lr>\r\n\
    Max-Forwards: 69\r\n\
    k: 100rel\r\n\
    e: gzip\r\n\
    s: hello\r\n\
    Expires: 300\r\n\
    c: application/sdp\r\n\
    l: 4\r\n\r\nv=0\r\n";

#[test]
fn compact_names_are_found_by_both_spellings() {
    let msg = parse(INVITE);
    assert_eq!(msg.header("Call-ID"), Some("abc@host"));
    assert_eq!(msg.header("i"), Some("abc@host"));
    assert_eq!(msg.header("CONTENT-TYPE"), Some("application/sdp"));
    assert_eq!(msg.header("Supported"), Some("100rel"));
    assert_eq!(msg.header("Content-Encoding"), Some("gzip"));
    assert_eq!(msg.header("Subject"), Some("hello"));
    assert_eq!(msg.header("l"), Some("4"));
    assert_eq!(msg.headers("Via").count(), 2);
    assert_eq!(msg.content_length(), Ok(Some(4)));
    assert_eq!(msg.body(), b"v=0\r");
    assert_eq!(
        msg.all_headers().next(),
        Some(("v", msg.header("Via").unwrap()))
    );
    assert_eq!(msg.all_headers().count(), 16);
}

#[test]
fn typed_accessors_read_everything() {
    let msg = parse(INVITE);
    assert!(msg.is_request());
    assert_eq!(msg.method(), Some(&Method::Invite));
    assert_eq!(
        msg.request_uri(),
        Some("sip:bob@[2001:db8::10]:5070;transport=udp")
    );
    let uri = Uri::parse(msg.request_uri().unwrap()).unwrap();
    assert_eq!((uri.host, uri.port), ("2001:db8::10", Some(5070)));
    let vias = msg.vias().unwrap();
    let hosts: Vec<_> = vias.iter().map(|v| v.host).collect();
    assert_eq!(hosts, ["2001:db8::1", "p1.example.com", "p2.example.com"]);
    assert_eq!(msg.top_via().unwrap().branch(), Some("z9hG4bK1"));
    assert_eq!(vias[2].received(), Some("192.0.2.9"));
    let from = msg.from().unwrap();
    assert_eq!(
        (from.display, from.tag()),
        (Some("Doe, \\\"Jo\\\""), Some("a1"))
    );
    let to = msg.to().unwrap();
    assert_eq!(to.uri().unwrap().scheme, Scheme::Tel);
    assert_eq!(to.uri().unwrap().user, Some("+15551234"));
    assert_eq!(msg.call_id(), Ok("abc@host"));
    assert_eq!(
        msg.cseq(),
        Ok(CSeq {
            seq: 7,
            method: Method::Invite
        })
    );
    let Ok(Contacts::List(contacts)) = msg.contacts() else {
        panic!("contacts")
    };
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0].params.get("expires"), Some(Some("60")));
    assert_eq!(contacts[1].display, Some("Other"));
    assert_eq!(msg.routes().unwrap().len(), 2);
    assert_eq!(msg.record_routes().unwrap()[0].uri, "sip:rr.example.com;lr");
    assert_eq!(msg.max_forwards(), Ok(Some(69)));
    assert_eq!(msg.expires(), Ok(Some(300)));
    assert_eq!(msg.content_type(), Some("application/sdp"));
    assert!(msg.status().is_none() && msg.reason().is_none());
}

#[test]
fn folding_becomes_one_space() {
    let msg = parse(
        "OPTIONS sip:a@b SIP/2.0\r\nSubject: first  \r\n  second\r\n\tthird\r\nContact:\r\n  <sip:c@d>\r\n\
         Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n",
    );
    assert_eq!(msg.header("Subject"), Some("first second third"));
    assert_eq!(msg.header("Contact"), Some("<sip:c@d>"));
    assert_eq!(msg.header("Via"), Some("SIP/2.0/UDP h;branch=z9hG4bKx"));
    assert_eq!(msg.as_bytes().len(), msg.as_bytes().len());
}

#[test]
fn responses_and_empty_reason() {
    let msg = parse("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nl: 0\r\n\r\n");
    assert_eq!(
        (msg.status(), msg.reason(), msg.is_request()),
        (Some(486), Some("Busy Here"), false)
    );
    assert_eq!(msg.method(), None);
    assert_eq!(parse("SIP/2.0 100 \r\n\r\n").reason(), Some(""));
    assert_eq!(parse("SIP/2.0 100\r\n\r\n").reason(), Some(""));
}

#[test]
fn any_method_token_is_kept() {
    let msg = parse("NEWMETHOD sip:a@b SIP/2.0\r\nl: 0\r\n\r\n");
    assert_eq!(msg.method(), Some(&Method::Other("NEWMETHOD".into())));
}

#[test]
fn absent_headers() {
    let msg = parse("OPTIONS sip:a@b SIP/2.0\r\n\r\n");
    assert_eq!(msg.contacts(), Ok(Contacts::List(vec![])));
    assert_eq!(msg.from(), Err(ParseError::MissingHeader("From")));
    assert_eq!(msg.top_via(), Err(ParseError::MissingHeader("Via")));
    assert_eq!(msg.max_forwards(), Ok(None));
    assert_eq!(msg.content_length(), Ok(None));
    assert!(msg.routes().unwrap().is_empty());
}

#[test]
fn contact_star() {
    let msg = parse("REGISTER sip:a SIP/2.0\r\nContact: *\r\n\r\n");
    assert_eq!(msg.contacts(), Ok(Contacts::Star));
    let msg = parse("REGISTER sip:a SIP/2.0\r\nContact: *\r\nContact: <sip:x@y>\r\n\r\n");
    assert!(msg.contacts().is_err());
}

#[test]
fn fuzz_entry_point_survives_garbage() {
    fuzz_parse(INVITE.as_bytes());
    fuzz_parse(b"");
    fuzz_parse(b"\r\n\r\n");
    fuzz_parse(b"INVITE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP [::1\r\nFrom: \"\r\n\r\n");
}

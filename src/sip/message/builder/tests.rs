use super::*;

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
    Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bK1, SIP/2.0/UDP p.example.com;branch=z9hG4bK0\r\n\
    Via: SIP/2.0/UDP q.example.com;branch=z9hG4bKq\r\n\
    Max-Forwards: 70\r\n\
    Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n\
    From: Alice <sip:alice@example.com>;tag=f1\r\n\
    To: <sip:bob@example.com>\r\n\
    Call-ID: c1@pc\r\nCSeq: 42 INVITE\r\nContent-Length: 0\r\n\r\n";

fn parse(bytes: Bytes) -> Message {
    Message::parse(bytes, false).unwrap()
}

#[test]
fn request_with_body_prints_content_headers() {
    let out = MessageBuilder::request(&Method::Message, "sip:b@example.com")
        .header("Call-ID", "x")
        .header("CSeq", format_args!("{} MESSAGE", 3))
        .body("text/plain", Bytes::from_static(b"hi"))
        .build();
    assert_eq!(
        out.as_ref(),
        b"MESSAGE sip:b@example.com SIP/2.0\r\nCall-ID: x\r\nCSeq: 3 MESSAGE\r\n\
          Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
    );
}

#[test]
fn response_to_copies_dialog_headers() {
    let req = parse(Bytes::from_static(INVITE.as_bytes()));
    let resp = parse(MessageBuilder::response_to(&req, 180, "Ringing", Some("t9")).build());
    assert_eq!((resp.status(), resp.reason()), (Some(180), Some("Ringing")));
    let vias: Vec<_> = resp.headers("Via").collect();
    assert_eq!(vias, req.headers("Via").collect::<Vec<_>>());
    assert_eq!(resp.to().unwrap().tag(), Some("t9"));
    assert_eq!(resp.header("From"), req.header("From"));
    assert_eq!(resp.call_id(), Ok("c1@pc"));
    assert_eq!(resp.cseq().unwrap().seq, 42);
    assert_eq!(resp.content_length(), Ok(Some(0)));
    let again =
        parse(MessageBuilder::response_to(&resp_as_req(&resp), 200, "OK", Some("zz")).build());
    assert_eq!(again.to().unwrap().tag(), Some("t9"));
}

fn resp_as_req(resp: &Message) -> Message {
    let text = String::from_utf8(resp.as_bytes().to_vec()).unwrap();
    let text = text.replacen(
        "SIP/2.0 180 Ringing",
        "INVITE sip:bob@example.com SIP/2.0",
        1,
    );
    parse(Bytes::from(text))
}

#[test]
fn non2xx_ack_follows_17_1_1_3() {
    let response = "SIP/2.0 486 Busy Here\r\n\
        Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bK1\r\n\
        From: Alice <sip:alice@example.com>;tag=f1\r\n\
        To: <sip:bob@example.com>;tag=b7\r\n\
        Call-ID: c1@pc\r\nCSeq: 42 INVITE\r\nContent-Length: 0\r\n\r\n";
    let ack = parse(build_non2xx_ack(INVITE.as_bytes(), response.as_bytes()).unwrap());
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.request_uri(), Some("sip:bob@example.com"));
    let vias: Vec<_> = ack.headers("Via").collect();
    assert_eq!(vias, ["SIP/2.0/UDP pc.example.com;branch=z9hG4bK1"]);
    assert_eq!(ack.to().unwrap().tag(), Some("b7"));
    assert_eq!(ack.from().unwrap().tag(), Some("f1"));
    assert_eq!(
        ack.cseq(),
        Ok(crate::sip::message::CSeq {
            seq: 42,
            method: Method::Ack
        })
    );
    assert_eq!(ack.routes().unwrap().len(), 2);
    assert_eq!(ack.max_forwards(), Ok(Some(70)));
    assert_eq!(ack.body(), b"");
    let ok = response.replace("486 Busy Here", "200 OK");
    assert!(build_non2xx_ack(INVITE.as_bytes(), ok.as_bytes()).is_none());
    assert!(build_non2xx_ack(b"garbage", response.as_bytes()).is_none());
}

#[test]
fn reason_phrases() {
    assert_eq!(reason_phrase(200), "OK");
    assert_eq!(reason_phrase(486), "Busy Here");
    assert_eq!(reason_phrase(416), "Unsupported URI Scheme");
    assert_eq!(reason_phrase(499), "Client Error");
    assert_eq!(reason_phrase(699), "Global Failure");
}

/// `build_message` must give what parsing `build`'s bytes gives: the same bytes, start line,
/// header table (ids, names, values) and body, or the same error.
fn assert_built_as_parsed(builder: MessageBuilder) {
    let parsed = Message::parse(builder.clone().build(), true);
    match (builder.build_message(), parsed) {
        (Ok(built), Ok(parsed)) => {
            assert_eq!(built.as_bytes(), parsed.as_bytes());
            assert_eq!(built.method(), parsed.method());
            assert_eq!(built.request_uri(), parsed.request_uri());
            assert_eq!(
                (built.status(), built.reason()),
                (parsed.status(), parsed.reason())
            );
            let table = |m: &Message| -> Vec<(HeaderId, String, String)> {
                m.headers
                    .iter()
                    .map(|h| (h.id, m.text(h.name).to_owned(), m.value(h).to_owned()))
                    .collect()
            };
            assert_eq!(table(&built), table(&parsed));
            for header in &parsed.headers {
                assert_eq!(built.index.first(header.id), parsed.index.first(header.id));
            }
            assert_eq!(built.body(), parsed.body());
            assert_eq!(built.from_datagram(), parsed.from_datagram());
        }
        (Err(built), Err(parsed)) => assert_eq!(built, parsed),
        (built, parsed) => panic!("built {built:?}, parsed {parsed:?}"),
    }
}

#[test]
fn build_message_needs_no_parse_and_agrees_with_it() {
    let req = parse(Bytes::from_static(INVITE.as_bytes()));
    assert_built_as_parsed(MessageBuilder::response_to(
        &req,
        180,
        "Ringing",
        Some("t9"),
    ));
    assert_built_as_parsed(
        MessageBuilder::response_to(&req, 200, "OK", Some("t9"))
            .header("Contact", "<sip:c@192.0.2.1>")
            .body("application/sdp", Bytes::from_static(b"v=0\r\n")),
    );
    assert_built_as_parsed(
        MessageBuilder::request(&Method::Invite, "sip:bob@example.com")
            .header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx")
            .header("v", "SIP/2.0/TCP b;branch=z9hG4bKy")
            .header("X-Padded", "  spaced\t ")
            .header("X-Empty", "")
            .header("X-Blank", "   ")
            .header("CSeq", format_args!("{} INVITE", 7)),
    );
    assert_built_as_parsed(MessageBuilder::response(487, ""));
    assert_built_as_parsed(MessageBuilder::request(
        &Method::Other("INVITE".into()),
        "sip:a@b",
    ));
    // What the fast path leaves to the parser: folding, bad names, a second Content-Length.
    assert_built_as_parsed(
        MessageBuilder::request(&Method::Info, "sip:a@b").header("Subject", "one\r\n two"),
    );
    assert_built_as_parsed(
        MessageBuilder::request(&Method::Info, "sip:a@b").header("Bad Name", "x"),
    );
    assert_built_as_parsed(MessageBuilder::request(&Method::Info, "sip:a@b").header("l", 3));
    assert_built_as_parsed(MessageBuilder::request(&Method::Info, "sip:a@b").header("l", 0));
    assert_built_as_parsed(MessageBuilder::request(&Method::Info, ""));
    assert_built_as_parsed(MessageBuilder::request(&Method::Info, "sip:a@b\r\nX: y"));
    assert_built_as_parsed(MessageBuilder::request(
        &Method::Other("A B".into()),
        "sip:a@b",
    ));
    assert_built_as_parsed(MessageBuilder::response(99, "Low"));
    assert_built_as_parsed(MessageBuilder::response(200, "O\nK"));
}

mod round_trip {
    use proptest::prelude::*;

    use super::*;

    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z][A-Za-z0-9.!%*_+`'~-]{0,11}"
    }

    fn header() -> impl Strategy<Value = (String, String)> {
        (token(), "[!-~]([ -~]{0,30}[!-~])?").prop_filter(
            "framing headers are printed by build()",
            |(name, _)| {
                !matches!(
                    name.to_ascii_lowercase().as_str(),
                    "content-length" | "l" | "content-type" | "c"
                )
            },
        )
    }

    proptest! {
        #[test]
        fn parse_gives_back_what_was_built(
            method in token(),
            user in "[a-z0-9]{1,8}",
            status in 100u16..700,
            reason in "[ -~]{0,20}",
            as_request in any::<bool>(),
            headers in prop::collection::vec(header(), 0..8),
            body in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let uri = format!("sip:{user}@example.com");
            let method = Method::from_token(&method);
            let mut builder = if as_request {
                MessageBuilder::request(&method, &uri)
            } else {
                MessageBuilder::response(status, &reason)
            };
            for (name, value) in &headers {
                builder = builder.header(name, value);
            }
            if !body.is_empty() {
                builder = builder.body("application/octet-stream", Bytes::from(body.clone()));
            }
            assert_built_as_parsed(builder.clone());
            for datagram in [true, false] {
                let msg = Message::parse(builder.clone().build(), datagram).unwrap();
                if as_request {
                    prop_assert_eq!(msg.method(), Some(&method));
                    prop_assert_eq!(msg.request_uri(), Some(uri.as_str()));
                } else {
                    prop_assert_eq!(msg.status(), Some(status));
                    prop_assert_eq!(msg.reason(), Some(reason.as_str()));
                }
                let printed: Vec<_> = msg.all_headers().take(headers.len()).collect();
                let expected: Vec<_> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                prop_assert_eq!(printed, expected);
                prop_assert_eq!(msg.body(), body.as_slice());
                prop_assert_eq!(msg.content_length(), Ok(Some(body.len())));
            }
        }
    }
}

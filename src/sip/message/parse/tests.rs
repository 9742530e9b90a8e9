use super::*;

fn parse(text: &str, datagram: bool) -> Result<Message, ParseError> {
    Message::parse(Bytes::copy_from_slice(text.as_bytes()), datagram)
}

const REQ: &str = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nContent-Length: 5\r\n\r\nhello";

#[test]
fn content_length_frames_the_body() {
    let msg = parse(&format!("{REQ}trailing junk"), true).unwrap();
    assert_eq!(msg.body(), b"hello");
    assert_eq!(msg.as_bytes().as_ref(), REQ.as_bytes());
    let msg = parse("OPTIONS sip:a@b SIP/2.0\r\n\r\nrest", true).unwrap();
    assert_eq!(msg.body(), b"rest");
    let msg = parse("OPTIONS sip:a@b SIP/2.0\r\n\r\nrest", false).unwrap();
    assert_eq!(msg.body(), b"");
    assert!(!msg.from_datagram());
}

#[test]
fn bad_content_lengths_are_errors() {
    for value in ["-999", "abc", "99999999999999999999999", "1 2", ""] {
        let text = format!("OPTIONS sip:a@b SIP/2.0\r\nl: {value}\r\n\r\n");
        assert_eq!(
            parse(&text, true).unwrap_err(),
            ParseError::ContentLength,
            "{value}"
        );
    }
    let short = "OPTIONS sip:a@b SIP/2.0\r\nl: 10\r\n\r\nabc";
    assert_eq!(
        parse(short, true).unwrap_err(),
        ParseError::BodyTruncated {
            expected: 10,
            available: 3
        }
    );
    let twice = "OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nabc";
    assert_eq!(parse(twice, true).unwrap_err(), ParseError::ContentLength);
}

#[test]
fn malformed_heads_are_errors() {
    let cases = [
        ("", ParseError::Empty),
        ("\r\n\r\n", ParseError::Empty),
        (
            "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n",
            ParseError::Unterminated,
        ),
        (
            "OPTIONS sip:a@b SIP/2.0\nVia: x\n\n",
            ParseError::LineEnding,
        ),
        (
            "OPTIONS sip:a@b SIP/2.0\r\nVia: x\ry\r\n\r\n",
            ParseError::LineEnding,
        ),
        ("OPTIONS sip:a@b SIP/7.0\r\n\r\n", ParseError::Version),
        ("OPTIONS sip:a@b SIP/2.0  \r\n\r\n", ParseError::StartLine),
        ("OPTIONS sip:a@b\r\n\r\n", ParseError::StartLine),
        ("OPT<IONS sip:a@b SIP/2.0\r\n\r\n", ParseError::StartLine),
        ("SIP/2.0 4294967301 big\r\n\r\n", ParseError::Status),
        ("SIP/2.0 99 low\r\n\r\n", ParseError::Status),
        ("SIP/2.0 700 high\r\n\r\n", ParseError::Status),
        ("SIP/3.0 200 OK\r\n\r\n", ParseError::Version),
        (
            "OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            "OPTIONS sip:a@b SIP/2.0\r\n: empty\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            "OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            "OPTIONS sip:a@b SIP/2.0\r\n folded: x\r\n\r\n",
            ParseError::HeaderLine,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text, true).unwrap_err(), expected, "{text:?}");
    }
    let latin1 = Bytes::from_static(b"OPTIONS sip:a@b SIP/2.0\r\nSubject: \xe9\r\n\r\n");
    assert_eq!(
        Message::parse(latin1, true).unwrap_err(),
        ParseError::NotUtf8
    );
}

#[test]
fn leading_keepalives_are_skipped() {
    let msg = parse(&format!("\r\n\r\n{REQ}"), false).unwrap();
    assert_eq!(msg.as_bytes().as_ref(), REQ.as_bytes());
    assert_eq!(skip_keepalive(b"\r\n\r\nINVITE"), 4);
    assert_eq!(skip_keepalive(b"INVITE"), 0);
}

#[test]
fn frame_two_messages_back_to_back() {
    let stream = format!("{REQ}{REQ}");
    let first = frame(stream.as_bytes(), 4096).unwrap().unwrap();
    assert_eq!(first, REQ.len());
    let second = frame(&stream.as_bytes()[first..], 4096).unwrap();
    assert_eq!(second, Some(REQ.len()));
    let msg = parse(&stream[..first], false).unwrap();
    assert_eq!(msg.body(), b"hello");
}

#[test]
fn frame_partial_buffers_need_more() {
    for cut in 0..REQ.len() {
        assert_eq!(
            frame(&REQ.as_bytes()[..cut], 4096),
            Ok(None),
            "cut at {cut}"
        );
    }
    let with_ping = format!("\r\n\r\n{REQ}");
    assert_eq!(frame(with_ping.as_bytes(), 4096), Ok(Some(with_ping.len())));
    assert_eq!(frame(b"\r\n\r\n", 4096), Ok(None));
}

#[test]
fn frame_errors() {
    assert_eq!(
        frame(REQ.as_bytes(), 20),
        Err(ParseError::TooLarge { max: 20 })
    );
    assert_eq!(
        frame(&[b'A'; 100], 50),
        Err(ParseError::TooLarge { max: 50 })
    );
    let missing = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
    assert_eq!(frame(missing, 4096), Err(ParseError::MissingContentLength));
    let negative = b"OPTIONS sip:a@b SIP/2.0\r\nl: -1\r\n\r\n";
    assert_eq!(frame(negative, 4096), Err(ParseError::ContentLength));
    let folded = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 3\r\n\r\nabc";
    assert_eq!(frame(folded, 4096), Ok(Some(folded.len())));
    let no_colon = b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\nGarbage\r\n\r\n";
    assert_eq!(frame(no_colon, 4096), Err(ParseError::HeaderLine));
    let huge = b"OPTIONS sip:a@b SIP/2.0\r\nl: 18446744073709551615\r\n\r\n";
    assert_eq!(frame(huge, 4096), Err(ParseError::ContentLength));
}

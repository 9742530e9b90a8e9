//! Bad input on the wire: malformed and torture messages get their RFC answers, OPTIONS is
//! answered, and the switch keeps serving calls afterwards.

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use crate::support::{Pbx, enabled};

/// Sends `message` from a fresh UDP socket and returns the status line of the first answer
/// that is not a 100.
fn ask(pbx: &Pbx, message: &[u8]) -> Option<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.send_to(message, pbx.sip).unwrap();
    let mut buf = [0u8; 65536];
    loop {
        let len = socket.recv(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..len]);
        let status = text.lines().next()?.to_owned();
        if !status.starts_with("SIP/2.0 100") {
            return Some(status);
        }
    }
}

#[test]
fn malformed_invite_gets_400_and_the_next_call_works() {
    if !enabled("malformed_invite") {
        return;
    }
    let pbx = Pbx::start("malformed_invite", "");
    let malformed = "INVITE sip:1002@127.0.0.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbad1\r\n\
        From: <sip:1001@127.0.0.1>;tag=x\r\nTo: <sip:1002@127.0.0.1>\r\n\
        Call-ID: malformed@test\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        ask(&pbx, malformed.as_bytes()).as_deref().map(|s| &s[..11]),
        Some("SIP/2.0 400")
    );
    let truncated = malformed
        .replace("Content-Length: 0", "Content-Length: 500")
        .replace("1 BYE", "1 INVITE");
    assert_eq!(
        ask(&pbx, truncated.as_bytes()).as_deref().map(|s| &s[..11]),
        Some("SIP/2.0 400")
    );
    assert!(pbx.metric("centrala_sip_parse_errors_total") >= 2.0);
    pbx.register(1, "1002");
    let uas = pbx.answering_phone(1, 1);
    pbx.call_from_1001("1002", 1);
    assert!(uas.wait().unwrap().check().is_ok());
}

#[test]
fn torture_messages_get_their_rfc_4475_answers() {
    if !enabled("torture_over_udp") {
        return;
    }
    let pbx = Pbx::start("torture_over_udp", "");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sip-torture");
    for (file, expected) in [
        ("unkscm.dat", "416"),
        ("bext01.dat", "420"),
        ("zeromf.dat", "483"),
        ("insuf.dat", "400"),
        ("badaspec.dat", "400"),
        ("lwsstart.dat", "400"),
        ("clerr.dat", "400"),
    ] {
        let message = std::fs::read(dir.join(file)).unwrap();
        let answer = ask(&pbx, &message);
        assert!(
            answer
                .as_deref()
                .is_some_and(|s| s.starts_with(&format!("SIP/2.0 {expected}"))),
            "{file}: wanted {expected}, got {answer:?}"
        );
    }
    assert_eq!(pbx.centrala.get("/healthz").unwrap().0, 200);
}

#[test]
fn options_to_the_server_is_answered_200() {
    if !enabled("options_200") {
        return;
    }
    let pbx = Pbx::start("options_200", "");
    let options = format!(
        "OPTIONS sip:{} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKopt1\r\n\
         From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:{}>\r\nCall-ID: options@test\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        pbx.sip, pbx.sip
    );
    assert_eq!(
        ask(&pbx, options.as_bytes()).as_deref(),
        Some("SIP/2.0 200 OK")
    );
}

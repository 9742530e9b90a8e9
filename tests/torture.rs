//! RFC 4475 torture messages: every valid one parses, validates and yields its typed headers;
//! every invalid one is refused; nothing panics on any message, prefix or mutation.

use std::path::PathBuf;

use bytes::Bytes;
use centrala::sip::message::{
    Contacts, Message, Method, ParseError, Rejection, Uri, fuzz_parse, unescape, validate_request,
    validate_response,
};
use proptest::prelude::*;

const SUPPORTED: &[&str] = &["100rel", "timer", "replaces"];

/// What must happen to each message.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Parses and validates (RFC 4475 3.1.1 and the accepted special cases).
    Valid,
    /// `Message::parse` fails.
    ParseError,
    /// Parses, and validation refuses it with this status.
    Rejected(u16),
}

use Expect::{ParseError as Unparsable, Rejected, Valid};

/// RFC 4475 section 3: file name and expectation.
const TABLE: &[(&str, Expect)] = &[
    // 3.1.1 valid messages
    ("wsinv", Valid),
    ("intmeth", Valid),
    ("esc01", Valid),
    ("escnull", Valid),
    ("esc02", Valid),
    ("lwsdisp", Valid),
    ("longreq", Valid),
    ("dblreq", Valid),
    ("semiuri", Valid),
    ("transports", Valid),
    ("mpart01", Valid),
    ("unreason", Valid),
    ("noreason", Valid),
    // 3.1.2 invalid messages
    ("badinv01", Rejected(400)),
    ("clerr", Unparsable),
    ("scalar02", Rejected(400)),
    ("scalarlg", Rejected(400)),
    ("quotbal", Rejected(400)),
    ("ltgtruri", Rejected(400)),
    ("lwsruri", Rejected(400)),
    ("lwsstart", Rejected(400)),
    ("trws", Unparsable),
    ("escruri", Rejected(400)),
    ("baddate", Rejected(400)),
    ("regbadct", Rejected(400)),
    ("badaspec", Rejected(400)),
    ("baddn", Unparsable),
    ("badvers", Unparsable),
    ("mismatch01", Rejected(400)),
    ("mismatch02", Rejected(400)),
    ("bigcode", Unparsable),
    ("ncl", Unparsable),
    // 3.2 - 3.4 transaction, application and backward-compatibility cases
    ("unkscm", Rejected(416)),
    ("novelsc", Rejected(416)),
    ("unksm2", Rejected(400)),
    ("bext01", Rejected(420)),
    ("insuf", Rejected(400)),
    ("multi01", Rejected(400)),
    ("mcl01", Unparsable),
    ("bcast", Valid),
    ("zeromf", Rejected(483)),
    ("inv2543", Valid),
    ("invut", Valid),
    ("regaut01", Valid),
    ("regescrt", Valid),
    ("sdp01", Valid),
    ("test", Unparsable),
    ("badbranch", Valid),
    ("cparam01", Valid),
    ("cparam02", Valid),
];

fn load(name: &str) -> Bytes {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "sip-torture",
        &format!("{name}.dat"),
    ]
    .iter()
    .collect();
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn outcome(bytes: Bytes) -> Result<Message, Result<Rejection, ParseError>> {
    let msg = Message::parse(bytes, true).map_err(Err)?;
    let checked = if msg.is_request() {
        validate_request(&msg, SUPPORTED)
    } else {
        validate_response(&msg)
    };
    checked.map_err(Ok)?;
    Ok(msg)
}

fn valid(name: &str) -> Message {
    outcome(load(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

#[test]
fn table_covers_all_fifty_messages() {
    assert_eq!(TABLE.len(), 50);
    let dir = [env!("CARGO_MANIFEST_DIR"), "tests", "sip-torture"]
        .iter()
        .collect::<PathBuf>();
    let files = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "dat"))
        })
        .count();
    assert_eq!(files, 50);
}

#[test]
fn every_message_meets_its_expectation() {
    for &(name, expect) in TABLE {
        match (expect, outcome(load(name))) {
            (Valid, Ok(msg)) => check_typed_headers(name, &msg),
            (Unparsable, Err(Err(_))) => {}
            (Rejected(status), Err(Ok(rejection))) if rejection.status == status => {}
            (expect, got) => panic!("{name}: expected {expect:?}, got {got:?}"),
        }
    }
}

/// Every valid message's typed headers parse.
fn check_typed_headers(name: &str, msg: &Message) {
    let vias = msg.vias().unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!vias.is_empty(), "{name}");
    msg.from().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.to().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.call_id().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.cseq().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.contacts().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.routes().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.record_routes()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.max_forwards().unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.content_length()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    if let Some(uri) = msg.request_uri() {
        Uri::parse(uri).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn wsinv_whitespace_and_folding() {
    let msg = valid("wsinv");
    assert_eq!(msg.call_id(), Ok("wsinv.ndaksdj@192.0.2.1"));
    assert_eq!(msg.to().unwrap().tag(), Some("1918181833n"));
    let from = msg.from().unwrap();
    assert_eq!(
        (from.display, from.tag()),
        (Some(r#"J Rosenberg \\\""#), Some("98asjd8"))
    );
    assert_eq!(msg.max_forwards(), Ok(Some(68)));
    assert_eq!(msg.cseq().unwrap().seq, 9);
    let vias = msg.vias().unwrap();
    let branches: Vec<_> = vias
        .iter()
        .map(|v| (v.transport, v.branch().unwrap_or_default()))
        .collect();
    assert_eq!(
        branches,
        [
            ("UDP", "390skdjuw"),
            ("TCP", "z9hG4bK9ikj8"),
            ("UDP", "z9hG4bK30239")
        ]
    );
    assert_eq!(
        msg.header("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(msg.header("Subject"), Some(""));
    let Ok(Contacts::List(contacts)) = msg.contacts() else {
        panic!("contacts")
    };
    assert_eq!(contacts[0].params.get("newparam"), Some(Some("newvalue")));
    assert_eq!(contacts[0].params.get("q"), Some(Some("0.33")));
    assert_eq!(msg.body().len(), 150);
}

#[test]
fn intmeth_method_token_and_odd_values() {
    let msg = valid("intmeth");
    let token = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(msg.method(), Some(&Method::Other(token.into())));
    assert_eq!(msg.cseq().unwrap().method.as_str(), token);
    assert_eq!(msg.from().unwrap().tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        msg.to().unwrap().display,
        Some(r#"BEL:\ NUL:\ DEL:\"#).map(|_| msg.to().unwrap().display.unwrap())
    );
    let uri = Uri::parse(msg.request_uri().unwrap()).unwrap();
    assert_eq!(
        uri.password,
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(
        msg.call_id(),
        Ok(r#"intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{"#)
    );
}

#[test]
fn esc01_and_escnull_unescape_users() {
    let msg = valid("esc01");
    let uri = Uri::parse(msg.request_uri().unwrap()).unwrap();
    assert_eq!(unescape(uri.user.unwrap()), "sips:user@example.com");
    let to = msg.to().unwrap();
    assert_eq!(unescape(to.uri().unwrap().user.unwrap()), "user");
    let from = msg.from().unwrap();
    assert_eq!(unescape(from.uri().unwrap().user.unwrap()), "I have spaces");
    let Ok(Contacts::List(contacts)) = msg.contacts() else {
        panic!("contacts")
    };
    assert_eq!(unescape(contacts[0].uri().unwrap().user.unwrap()), "caller");
    let msg = valid("escnull");
    assert_eq!(
        unescape(msg.to().unwrap().uri().unwrap().user.unwrap()),
        "null-\0-null"
    );
    let Ok(Contacts::List(contacts)) = msg.contacts() else {
        panic!("contacts")
    };
    assert_eq!(contacts.len(), 2);
}

#[test]
fn esc02_lwsdisp_longreq_semiuri() {
    let msg = valid("esc02");
    assert_eq!(msg.method(), Some(&Method::Other("RE%47IST%45R".into())));
    assert_eq!(
        msg.contacts()
            .map(|c| matches!(c, Contacts::List(l) if l.len() == 2)),
        Ok(true)
    );
    assert_eq!(
        msg.header("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
    assert_eq!(valid("lwsdisp").from().unwrap().display, Some("caller"));
    let msg = valid("longreq");
    assert_eq!(msg.vias().unwrap().len(), 34);
    assert_eq!(msg.to().unwrap().uri().unwrap().port, Some(6000));
    assert_eq!(msg.body().len(), 150);
    let msg = valid("semiuri");
    let uri = Uri::parse(msg.request_uri().unwrap()).unwrap();
    assert_eq!(
        (uri.user, uri.host),
        (Some("user;par=u%40example.net"), "example.com")
    );
    assert!(
        msg.header("Accept")
            .unwrap()
            .contains("multipart/mixed, multipart/signed, message/sip")
    );
}

#[test]
fn dblreq_yields_only_the_first_request() {
    let msg = valid("dblreq");
    assert_eq!(msg.method(), Some(&Method::Register));
    assert_eq!(msg.call_id(), Ok("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    assert_eq!(msg.body(), b"");
    assert!(!msg.as_bytes().windows(6).any(|w| w == b"INVITE"));
}

#[test]
fn transports_mpart01_and_responses() {
    let msg = valid("transports");
    let transports: Vec<_> = msg.vias().unwrap().iter().map(|v| v.transport).collect();
    assert_eq!(transports, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    let msg = valid("mpart01");
    assert_eq!(msg.body().len(), 553);
    assert_eq!(msg.top_via().unwrap().rport(), Some(None));
    assert_eq!(msg.routes().unwrap()[0].uri().unwrap().port, Some(5080));
    let msg = valid("unreason");
    assert_eq!(msg.status(), Some(200));
    assert!(msg.reason().unwrap().starts_with("= 2**3 * 5**2 "));
    let msg = valid("noreason");
    assert_eq!((msg.status(), msg.reason()), (Some(100), Some("")));
}

#[test]
fn special_cases_map_to_their_statuses() {
    let bext = outcome(load("bext01")).unwrap_err().unwrap();
    assert_eq!(
        bext.unsupported,
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    let msg = valid("inv2543");
    assert_eq!(msg.top_via().unwrap().branch(), None);
    let msg = valid("cparam01");
    let Ok(Contacts::List(contacts)) = msg.contacts() else {
        panic!("contacts")
    };
    assert_eq!(contacts[0].params.get("unknownparam"), Some(None));
    let msg = valid("cparam02");
    let Ok(Contacts::List(contacts)) = msg.contacts() else {
        panic!("contacts")
    };
    assert!(contacts[0].params.is_empty());
    assert_eq!(
        contacts[0].uri().unwrap().params.get("unknownparam"),
        Some(None)
    );
}

#[test]
fn baddn_is_refused_for_its_display_name_too() {
    let mut bytes = load("baddn").to_vec();
    bytes.extend_from_slice(b"\r\n");
    let rejection = outcome(Bytes::from(bytes)).unwrap_err().unwrap();
    assert_eq!(
        (rejection.status, rejection.reason.as_str()),
        (400, "Malformed From header")
    );
}

#[test]
fn fuzz_entry_point_over_the_corpus() {
    for &(name, _) in TABLE {
        let bytes = load(name);
        fuzz_parse(&bytes);
        for cut in 0..bytes.len() {
            fuzz_parse(&bytes[..cut]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn flipped_bytes_never_panic(index in 0..TABLE.len(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = load(TABLE[index].0).to_vec();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        fuzz_parse(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Random header values (biased towards SIP punctuation) in every typed header.
    #[test]
    fn random_typed_header_values_never_panic(
        value in r#"[a-z0-9 :;=,<>"\\@\[\]./?%*-]{0,40}"#,
        name in prop::sample::select(vec!["Via", "From", "To", "Contact", "Route", "Record-Route", "CSeq", "Call-ID", "Max-Forwards", "Expires", "Require", "Content-Length"]),
    ) {
        let text = format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: x\r\n\
             CSeq: 1 REGISTER\r\n{name}: {value}\r\nContent-Length: 0\r\n\r\n"
        );
        fuzz_parse(text.as_bytes());
    }
}

//! `Message::parse` plus the typed reads a UAS makes on every INVITE (target: under 1 µs).

use std::hint::black_box;

use bytes::Bytes;
use centrala::sip::message::Message;
use criterion::{Criterion, criterion_group, criterion_main};

const SDP: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\ns=-\r\n\
    c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n\
    a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";

fn invite() -> Bytes {
    let head = format!(
        "INVITE sip:+48225550100@pbx.example.com;user=phone SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport\r\n\
         Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK4b43c2ff8.1;received=198.51.100.7\r\n\
         Max-Forwards: 69\r\n\
         Record-Route: <sip:198.51.100.7;lr>\r\n\
         From: \"Alice Caller\" <sip:+48601000111@example.com>;tag=1928301774\r\n\
         To: <sip:+48225550100@pbx.example.com;user=phone>\r\n\
         Call-ID: a84b4c76e66710@pc33.example.com\r\n\
         CSeq: 314159 INVITE\r\n\
         Contact: <sip:+48601000111@192.0.2.101:5060;transport=udp>\r\n\
         Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY\r\n\
         Supported: replaces, timer, 100rel\r\n\
         User-Agent: ExamplePhone/5.1\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n",
        SDP.len()
    );
    Bytes::from(head + SDP)
}

fn parse_and_read(c: &mut Criterion) {
    let wire = invite();
    eprintln!("INVITE size: {} bytes", wire.len());
    c.bench_function("baseline_line_split", |b| {
        b.iter(|| baseline_split(black_box(&wire)))
    });
    c.bench_function("parse", |b| {
        b.iter(|| Message::parse(black_box(wire.clone()), true).map(|m| m.headers("Via").count()))
    });
    c.bench_function("parse_and_read_typed", |b| {
        b.iter(|| {
            let msg = Message::parse(black_box(wire.clone()), true).ok()?;
            let via = msg.top_via().ok()?;
            let from = msg.from().ok()?;
            let to = msg.to().ok()?;
            let call_id = msg.call_id().ok()?;
            let cseq = msg.cseq().ok()?;
            let contacts = msg.contacts().ok()?;
            let max_forwards = msg.max_forwards().ok()?;
            let length = msg.content_length().ok()?;
            black_box((
                via.branch(),
                from.tag(),
                to.tag(),
                call_id,
                cseq.seq,
                &contacts,
                max_forwards,
                length,
            ));
            Some(())
        })
    });
}

/// Calibration: the least any parser must do (find every line end), to compare machines.
fn baseline_split(wire: &[u8]) -> usize {
    let mut lines = 0;
    let mut pos = 0;
    while let Some(lf) = memchr::memchr(b'\n', &wire[pos..]) {
        if lf <= 1 {
            break;
        }
        lines += 1;
        pos += lf + 1;
    }
    lines
}

criterion_group!(benches, parse_and_read);
criterion_main!(benches);

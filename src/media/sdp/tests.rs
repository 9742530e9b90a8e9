use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use super::*;

/// In our canonical print order, so it must print back byte for byte.
const SIPP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 10.0.0.5\r\n\
s=-\r\n\
c=IN IP4 10.0.0.5\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

const BARESIP: &str = "v=0\r\n\
o=- 1466436963 2060435733 IN IP4 192.168.1.10\r\n\
s=-\r\n\
c=IN IP4 192.168.1.10\r\n\
t=0 0\r\n\
a=tool:baresip 3.10.1\r\n\
m=audio 10570 RTP/AVP 96 9 0 8 101\r\n\
b=AS:128\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp-mux\r\n\
a=label:1\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

/// Browser-like: many attributes, interleaved rtpmap/fmtp, a=rtcp, a video stream, no c= per
/// session but per media, LF line ends.
const BROWSER: &str = "v=0\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\n\
s=-\n\
t=0 0\n\
a=group:BUNDLE 0 1\n\
a=extmap-allow-mixed\n\
a=msid-semantic: WMS stream1\n\
m=audio 54321 RTP/AVPF 111 63 9 0 8 13 110 126\n\
c=IN IP4 203.0.113.7\n\
a=rtcp:9 IN IP4 0.0.0.0\n\
a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0\n\
a=ice-ufrag:EsAw\n\
a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n\
a=ice-options:trickle\n\
a=mid:0\n\
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n\
a=sendrecv\n\
a=msid:stream1 track1\n\
a=rtcp-mux\n\
a=rtpmap:111 opus/48000/2\n\
a=rtcp-fb:111 transport-cc\n\
a=fmtp:111 minptime=10;useinbandfec=1\n\
a=rtpmap:63 red/48000/2\n\
a=fmtp:63 111/111\n\
a=rtpmap:9 G722/8000\n\
a=rtpmap:0 PCMU/8000\n\
a=rtpmap:8 PCMA/8000\n\
a=rtpmap:13 CN/8000\n\
a=rtpmap:110 telephone-event/48000\n\
a=rtpmap:126 telephone-event/8000\n\
a=ssrc:3735928559 cname:x8gR2lVgI5fdzVsz\n\
m=video 9 RTP/AVPF 96 97\n\
c=IN IP4 0.0.0.0\n\
a=mid:1\n\
a=rtpmap:96 VP8/90000\n\
a=rtpmap:97 rtx/90000\n\
a=fmtp:97 apt=96\n\
a=recvonly\n";

fn parse(text: &str) -> SessionDescription {
    SessionDescription::parse(text).expect("valid SDP")
}

fn local() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 20000))
}

fn assert_round_trips(text: &str) {
    let first = parse(text);
    let printed = first.to_string();
    let second = parse(&printed);
    assert_eq!(first, second, "{printed}");
    assert_eq!(printed, second.to_string());
}

#[test]
fn sipp_offer_prints_back_unchanged() {
    assert_eq!(parse(SIPP).to_string(), SIPP);
}

#[test]
fn baresip_offer_prints_back_unchanged() {
    assert_eq!(parse(BARESIP).to_string(), BARESIP);
}

#[test]
fn browser_offer_round_trips_and_keeps_attributes() {
    assert_round_trips(BROWSER);
    let sdp = parse(BROWSER);
    assert_eq!(sdp.origin.session_id, 4611731400430051336);
    assert_eq!(sdp.other.len(), 4);
    let audio = &sdp.media[0];
    assert_eq!(audio.formats, [111, 63, 9, 0, 8, 13, 110, 126]);
    assert_eq!(
        audio.rtcp,
        Some(Rtcp {
            port: 9,
            address: Some(IpAddr::from([0, 0, 0, 0]))
        })
    );
    assert_eq!(audio.fmtp(111), Some("minptime=10;useinbandfec=1"));
    assert!(
        audio
            .attributes
            .iter()
            .any(|a| a == "rtcp-fb:111 transport-cc")
    );
    assert!(
        audio
            .attributes
            .iter()
            .any(|a| a.starts_with("candidate:1 1 udp"))
    );
    assert_eq!(sdp.media[1].direction, Direction::RecvOnly);
    assert_eq!(
        sdp.connection_for(0).map(|c| c.address),
        Some(IpAddr::from([203, 0, 113, 7]))
    );
}

#[test]
fn ipv6_connection_round_trips() {
    let text = SIPP.replace("IN IP4 10.0.0.5", "IN IP6 2001:db8::5");
    let sdp = parse(&text);
    assert_eq!(
        sdp.connection.map(|c| c.address),
        "2001:db8::5".parse().ok()
    );
    assert_eq!(sdp.to_string(), text);
    let remote = remote_audio(&sdp).expect("audio");
    assert_eq!(remote.rtp, "[2001:db8::5]:6000".parse().expect("addr"));
}

#[test]
fn malformed_sdp_is_rejected() {
    assert_eq!(SessionDescription::parse(""), Err(SdpError::Missing('v')));
    assert_eq!(SessionDescription::parse("v=1\r\n"), Err(SdpError::Version));
    assert_eq!(
        SessionDescription::parse("v=0\r\ns=-\r\n"),
        Err(SdpError::Missing('o'))
    );
    let bad_origin = SIPP.replace("53655765", "x");
    assert_eq!(
        SessionDescription::parse(&bad_origin),
        Err(SdpError::Invalid {
            line: 2,
            what: "origin"
        })
    );
    let bad_port = SIPP.replace("audio 6000", "audio 70000");
    assert!(matches!(
        SessionDescription::parse(&bad_port),
        Err(SdpError::Invalid {
            what: "m= line",
            ..
        })
    ));
    let bad_c = SIPP.replace("c=IN IP4 10.0.0.5", "c=IN IP4 pbx.example.com");
    assert!(SessionDescription::parse(&bad_c).is_err());
    assert!(SessionDescription::parse("v=0\r\nnot a line\r\n").is_err());
}

#[test]
fn remote_audio_understands_static_types_without_rtpmap() {
    let text = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n\
                m=audio 4000 RTP/AVP 18 8 0\r\na=rtcp:4005\r\n";
    let remote = remote_audio(&parse(text)).expect("audio");
    assert_eq!(remote.rtp, SocketAddr::from(([10, 0, 0, 9], 4000)));
    assert_eq!(remote.rtcp, SocketAddr::from(([10, 0, 0, 9], 4005)));
    assert_eq!(
        remote.codecs,
        [
            Payload {
                pt: 8,
                codec: Codec::PCMA
            },
            Payload {
                pt: 0,
                codec: Codec::PCMU
            }
        ]
    );
    assert_eq!(remote.telephone_event, None);
    assert_eq!(remote.direction, Direction::SendRecv);
}

#[test]
fn remote_audio_of_browser_offer_picks_the_opus_rate_telephone_event() {
    let remote = remote_audio(&parse(BROWSER)).expect("audio");
    assert_eq!(
        remote.codecs.iter().map(|p| p.pt).collect::<Vec<_>>(),
        [111, 0, 8]
    );
    assert_eq!(
        remote.telephone_event,
        Some(110),
        "telephone-event/48000 goes with Opus, its first codec"
    );
    assert_eq!(remote.rtcp, SocketAddr::from(([0, 0, 0, 0], 9)));
}

#[test]
fn remote_audio_is_none_without_usable_audio() {
    assert!(remote_audio(&parse(&SIPP.replace("audio 6000", "audio 0"))).is_none());
    let only_g722 = BARESIP.replace("96 9 0 8 101", "9 101");
    assert!(remote_audio(&parse(&only_g722)).is_none());
    let no_connection = SIPP.replace("c=IN IP4 10.0.0.5\r\n", "");
    assert!(remote_audio(&parse(&no_connection)).is_none());
}

#[test]
fn anchored_offer_filters_codecs_keeping_a_order_and_types() {
    let mut origin = OriginState::with_session_id(7);
    let offer = anchored_offer(&parse(BARESIP), local(), &mut origin).expect("offer");
    let text = offer.to_string();
    assert!(text.starts_with(
        "v=0\r\no=centrala 7 8 IN IP4 192.0.2.1\r\ns=Centrala\r\nc=IN IP4 192.0.2.1\r\n"
    ));
    let audio = &offer.media[0];
    assert_eq!(offer.media.len(), 1);
    assert_eq!((audio.port, audio.proto.as_str()), (20000, "RTP/AVP"));
    assert_eq!(
        audio.formats,
        [96, 0, 8, 101, 97],
        "A's order, G.722 dropped, telephone-event/48000 added for Opus"
    );
    assert_eq!(audio.fmtp(101), Some("0-15"));
    assert_eq!(
        audio.rtpmap(96).map(|m| (m.encoding.as_str(), m.channels)),
        Some(("opus", Some(2)))
    );
    assert_eq!(audio.ptime, Some(20));
    assert!(
        audio.attributes.is_empty(),
        "A's private attributes (rtcp-mux) are not forwarded"
    );
    assert_eq!(audio.direction, Direction::SendRecv);
}

#[test]
fn anchored_offer_is_none_when_nothing_is_supported() {
    let only_g722 = BARESIP.replace("96 9 0 8 101", "9 101");
    let mut origin = OriginState::with_session_id(1);
    assert!(anchored_offer(&parse(&only_g722), local(), &mut origin).is_none());
    assert!(answer_locally(&parse(&only_g722), local(), &mut origin).is_none());
}

#[test]
fn anchored_answer_keeps_b_choice_within_a_offer_and_rejects_other_streams() {
    let a_offer = parse(BROWSER);
    let mut to_b = OriginState::with_session_id(100);
    let mut to_a = OriginState::with_session_id(200);
    let b_offer = anchored_offer(
        &a_offer,
        SocketAddr::from(([192, 0, 2, 1], 20002)),
        &mut to_b,
    )
    .expect("offer");
    assert_eq!(b_offer.media[0].formats, [111, 0, 8, 110, 126]);
    // B answers PCMA, an unoffered G.729 and telephone-event (at PCMA's 8 kHz).
    let b_answer = "v=0\r\no=bob 9 9 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n\
                    m=audio 30000 RTP/AVP 8 18 126\r\na=rtpmap:126 telephone-event/8000\r\n\
                    a=fmtp:126 0-16\r\na=sendrecv\r\n";
    let answer = anchored_answer(&parse(b_answer), &a_offer, local(), &mut to_a).expect("answer");
    assert_eq!(answer.media.len(), 2);
    let audio = &answer.media[0];
    assert_eq!((audio.port, audio.proto.as_str()), (20000, "RTP/AVPF"));
    assert_eq!(audio.formats, [8, 126]);
    assert_eq!(answer.media[1].port, 0);
    assert_eq!(answer.media[1].kind, "video");
    assert_eq!(answer.origin.session_version, 201);
    assert_round_trips(&answer.to_string());
}

#[test]
fn anchored_answer_is_none_when_b_rejects_or_picks_nothing_offered() {
    let a_offer = parse(SIPP);
    let mut origin = OriginState::with_session_id(5);
    let rejected = SIPP.replace("audio 6000", "audio 0");
    assert!(anchored_answer(&parse(&rejected), &a_offer, local(), &mut origin).is_none());
    let g729 = SIPP.replace("RTP/AVP 0 8 101", "RTP/AVP 18 101");
    assert!(anchored_answer(&parse(&g729), &a_offer, local(), &mut origin).is_none());
}

#[test]
fn offer_adds_transcodable_codecs_and_answer_transcodes_when_b_picks_one() {
    let pcmu_only = SIPP.replace("RTP/AVP 0 8 101", "RTP/AVP 0 101");
    let a_offer = parse(&pcmu_only);
    let mut to_b = OriginState::with_session_id(1);
    let b_offer = anchored_offer(&a_offer, local(), &mut to_b).expect("offer");
    assert_eq!(
        b_offer.media[0].formats,
        [0, 101, 8, 96, 97],
        "A's codecs first, then ours (telephone-event/48000 for Opus)"
    );
    assert_eq!(
        b_offer.media[0]
            .rtpmap(97)
            .map(|m| (m.encoding.as_str(), m.clock_rate)),
        Some(("telephone-event", 48000))
    );
    let opus_answer = "v=0\r\no=b 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n\
                       m=audio 30000 RTP/AVP 96 97\r\na=rtpmap:96 opus/48000/2\r\n\
                       a=rtpmap:97 telephone-event/48000\r\n";
    let b_answer = parse(opus_answer);
    let mut to_a = OriginState::with_session_id(2);
    let answer = anchored_answer(&b_answer, &a_offer, local(), &mut to_a).expect("answer");
    assert_eq!(
        answer.media[0].formats,
        [0, 101],
        "A keeps PCMU; the engine transcodes"
    );
    let (b_codec, b_events) = negotiated(&b_answer).expect("B's codec");
    assert_eq!(
        (b_codec.codec, b_codec.pt, b_events),
        (Codec::OPUS, 96, Some(97))
    );
    let (a_codec, a_events) = negotiated(&answer).expect("A's codec");
    assert_eq!((a_codec.codec, a_events), (Codec::PCMU, Some(101)));
}

#[test]
fn telephone_event_is_negotiated_at_the_audio_codec_clock_rate() {
    // Opus with only an 8 kHz event stream: taken (the peer knows no other); with both rates,
    // the 48 kHz one.
    let opus_8k_events = "v=0\r\no=b 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\n\
                          t=0 0\r\nm=audio 30000 RTP/AVP 96 101\r\n\
                          a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n";
    let (codec, events) = negotiated(&parse(opus_8k_events)).expect("codec");
    assert_eq!((codec.codec, events), (Codec::OPUS, Some(101)));
    let mut origin = OriginState::with_session_id(4);
    let answer = answer_locally(&parse(opus_8k_events), local(), &mut origin).expect("answer");
    assert_eq!(answer.media[0].formats, [96, 101]);
    let both =
        opus_8k_events.replace("96 101", "96 101 110") + "a=rtpmap:110 telephone-event/48000\r\n";
    let answer = answer_locally(&parse(&both), local(), &mut origin).expect("answer");
    assert_eq!(answer.media[0].formats, [96, 110]);
    assert_eq!(
        answer.media[0]
            .rtpmap(110)
            .map(|m| (m.encoding.as_str(), m.clock_rate)),
        Some(("telephone-event", 48000))
    );
    // A G.711 leg keeps its 8 kHz events when both are offered.
    let pcmu_both = SIPP.replace("RTP/AVP 0 8 101", "RTP/AVP 0 110 101")
        + "a=rtpmap:110 telephone-event/48000\r\n";
    let (codec, events) = negotiated(&parse(&pcmu_both)).expect("codec");
    assert_eq!((codec.codec, events), (Codec::PCMU, Some(101)));
}

#[test]
fn answer_locally_picks_first_codec_and_telephone_event() {
    let mut origin = OriginState::with_session_id(3);
    let answer = answer_locally(&parse(BROWSER), local(), &mut origin).expect("answer");
    assert_eq!(
        answer.media[0].formats,
        [111, 110],
        "Opus with telephone-event/48000"
    );
    assert_eq!(answer.media[0].direction, Direction::SendRecv);
    assert_eq!(answer.media[1].port, 0);
    let hold = SIPP.replace("a=sendrecv", "a=sendonly");
    let answer = answer_locally(&parse(&hold), local(), &mut origin).expect("hold answer");
    assert_eq!(answer.media[0].direction, Direction::RecvOnly);
    assert_eq!(origin.version(), 5);
}

/// A re-INVITE from A with `direction` (and optionally the old `c=0.0.0.0`), B's answer with
/// `b_direction`: returns (our offer's direction to B, our answer's direction to A).
fn hold_round_trip(a: &str, old_style: bool, b: &str) -> (Direction, Direction) {
    let mut text = SIPP.replace("a=sendrecv", &format!("a={a}"));
    if old_style {
        text = text.replace("c=IN IP4 10.0.0.5", "c=IN IP4 0.0.0.0");
    }
    let a_offer = parse(&text);
    let mut to_b = OriginState::with_session_id(1);
    let mut to_a = OriginState::with_session_id(2);
    let b_offer = anchored_offer(&a_offer, local(), &mut to_b).expect("offer");
    let b_answer = parse(&SIPP.replace("a=sendrecv", &format!("a={b}")));
    let answer = anchored_answer(&b_answer, &a_offer, local(), &mut to_a).expect("answer");
    assert!(
        !b_offer.connection.is_some_and(|c| c.is_hold()),
        "we always receive"
    );
    (b_offer.media[0].direction, answer.media[0].direction)
}

#[test]
fn hold_and_unhold_directions_round_trip() {
    use Direction::*;
    assert_eq!(
        hold_round_trip("sendonly", false, "recvonly"),
        (SendOnly, RecvOnly)
    );
    assert_eq!(
        hold_round_trip("inactive", false, "inactive"),
        (Inactive, Inactive)
    );
    assert_eq!(
        hold_round_trip("sendrecv", true, "recvonly"),
        (SendOnly, RecvOnly)
    );
    assert_eq!(
        hold_round_trip("recvonly", true, "inactive"),
        (Inactive, Inactive)
    );
    // B answering sendrecv to a hold is clamped to the reverse of A's offer.
    assert_eq!(
        hold_round_trip("sendonly", false, "sendrecv"),
        (SendOnly, RecvOnly)
    );
    assert_eq!(
        hold_round_trip("sendrecv", false, "sendrecv"),
        (SendRecv, SendRecv)
    );
    // B puts A on hold in its answer.
    assert_eq!(
        hold_round_trip("sendrecv", false, "sendonly"),
        (SendRecv, SendOnly)
    );
}

#[test]
fn old_style_hold_shows_in_remote_direction() {
    let text = SIPP.replace("c=IN IP4 10.0.0.5", "c=IN IP4 0.0.0.0");
    let remote = remote_audio(&parse(&text)).expect("audio");
    assert!(remote.rtp.ip().is_unspecified());
    assert_eq!(remote.direction, Direction::SendOnly);
}

#[test]
fn session_level_direction_is_inherited() {
    let text = SIPP
        .replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
        .replace("a=sendrecv\r\n", "");
    let sdp = parse(&text);
    assert_eq!(sdp.direction, Some(Direction::SendOnly));
    assert_eq!(sdp.media[0].direction, Direction::SendOnly);
    assert_round_trips(&text);
}

#[test]
fn origin_version_increments_per_sdp() {
    let mut origin = OriginState::new();
    let id = origin.session_id();
    let first = origin.next_origin(IpAddr::from([127, 0, 0, 1]));
    let second = origin.next_origin(IpAddr::from([127, 0, 0, 1]));
    assert_eq!((first.session_id, second.session_id), (id, id));
    assert_eq!(second.session_version, first.session_version + 1);
    assert!(id < 1 << 62);
}

#[test]
fn direction_algebra() {
    use Direction::*;
    assert_eq!(SendOnly.reversed(), RecvOnly);
    assert_eq!(Inactive.reversed(), Inactive);
    assert_eq!(SendRecv.intersect(RecvOnly), RecvOnly);
    assert_eq!(SendOnly.intersect(RecvOnly), Inactive);
}

proptest! {
    #[test]
    fn parse_never_panics(text in "(?s).{0,400}") {
        let _ = SessionDescription::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_sdp_like_lines(lines in proptest::collection::vec(
        "(v=0|o=- [0-9]{1,3} [0-9]{1,3} IN IP[46] [0-9a-f:.]{1,9}|s=-|c=IN IP[46] [0-9a-f:./]{0,12}|\
          m=audio [0-9]{1,6}(/[0-9])? RTP/AVPF? [0-9 ]{0,12}|a=[a-z]{0,8}:?[0-9a-z /-]{0,12})",
        0..12,
    )) {
        let text = lines.join("\r\n");
        if let Ok(sdp) = SessionDescription::parse(&text) {
            let reparsed = SessionDescription::parse(&sdp.to_string());
            prop_assert_eq!(reparsed, Ok(sdp.clone()));
            let mut origin = OriginState::with_session_id(1);
            let _ = anchored_offer(&sdp, SocketAddr::from(([127, 0, 0, 1], 10000)), &mut origin);
            let _ = answer_locally(&sdp, SocketAddr::from(([127, 0, 0, 1], 10000)), &mut origin);
            let _ = remote_audio(&sdp);
        }
    }
}

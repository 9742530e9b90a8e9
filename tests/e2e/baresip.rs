//! baresip, a real softphone, registers to Centrala and calls a SIPp extension through it,
//! over UDP and over TCP; audio is checked in both directions.

use std::time::Duration;

use crate::common::baresip::Transport;
use crate::common::capture::Capture;
use crate::common::{media, wav};
use crate::support::{Pbx, enabled};

fn baresip_calls_a_sipp_extension(test: &str, transport: Transport) {
    if !enabled(test) {
        return;
    }
    let pbx = Pbx::start(test, "");
    let callee = pbx.peer(1);
    pbx.register(1, "1002");
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let uas = pbx
        .sipp(1, "uas", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(8);
    let uas = uas.spawn().unwrap();
    let t = transport.uri_param();
    let account = format!(
        "<sip:1001@{}{t}>;auth_pass=pw1001;regint=300;audio_codecs=PCMU,PCMA",
        pbx.sip
    );
    let (mut baresip, mut ctrl) = pbx.softphone(0, "baresip", 1000.0, account);
    let wait = Duration::from_secs(10);
    let bindings = pbx.api("/api/v1/registrations");
    let expected_transport = if transport == Transport::Tcp {
        "tcp"
    } else {
        "udp"
    };
    assert!(
        bindings["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["aor"] == "1001" && b["transport"] == expected_transport),
        "{bindings}"
    );
    ctrl.command("dial", &format!("sip:1002@{}{t}", pbx.sip))
        .unwrap();
    ctrl.wait_event("CALL_ESTABLISHED", wait).unwrap();
    ctrl.drain_for(Duration::from_secs(4)).unwrap();
    ctrl.command("hangup", "").unwrap();
    ctrl.wait_event("CALL_CLOSED", wait).unwrap();
    let uas = uas.wait().unwrap();
    assert!(uas.check().is_ok(), "{}", uas.describe());
    baresip.stop();
    let pcap = capture.stop().unwrap();
    let heard = wav::read(&baresip.recorded_wav().unwrap()).unwrap();
    let heard_440 = media::tone_seconds(&heard.mono(), heard.rate, 440.0);
    assert!(
        heard_440 >= 2.5,
        "baresip heard {heard_440} s of the callee's 440 Hz"
    );
    let at_callee = pcap.rtp_to(callee.media).tone_seconds(1000.0);
    assert!(
        at_callee >= 2.5,
        "the callee got {at_callee} s of baresip's 1 kHz"
    );
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["result"].as_str(), cdr["caller"].as_str()),
        (Some("answered"), Some("1001"))
    );
}

#[test]
fn baresip_calls_a_sipp_extension_over_udp() {
    baresip_calls_a_sipp_extension("baresip_udp", Transport::Udp);
}

#[test]
fn baresip_calls_a_sipp_extension_over_tcp() {
    baresip_calls_a_sipp_extension("baresip_tcp", Transport::Tcp);
}

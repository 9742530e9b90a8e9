//! Calls through the B2BUA between registered SIPp endpoints: audio both ways, busy, cancel,
//! no answer, hang-up from either side, unknown and unregistered extensions, CDRs.

use std::time::Duration;

use crate::common::capture::Capture;
use crate::common::sipp::SippTransport;
use crate::support::{Pbx, enabled};

/// A full call 1001 -> 1002 with a 1 kHz tone from the caller and 440 Hz from the callee,
/// checked on the wire at both phones; the CDR says who hung up.
fn call_with_audio(test: &str, pt: u8, codec: &str, transport: SippTransport) {
    if !enabled(test) {
        return;
    }
    let pbx = Pbx::start(test, "");
    let (caller, callee) = (pbx.peer(0), pbx.peer(1));
    let register = pbx
        .sipp(1, "register", "register.xml")
        .service("1002")
        .auth("1002", "pw1002");
    let registered = register
        .set("expires", 300)
        .transport(transport)
        .run()
        .unwrap();
    assert!(registered.check().is_ok(), "{}", registered.describe());
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let uas = pbx
        .sipp(1, "uas", "uas_answer.xml")
        .set("pt", pt)
        .set("codec", codec)
        .transport(transport);
    let uas = uas.media_secs(4).spawn().unwrap();
    let uac = pbx
        .sipp(0, "uac", "uac_call.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .transport(transport)
        .tone_secs(4)
        .run()
        .unwrap();
    let uas = uas.wait().unwrap();
    let pcap = capture.stop().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert!(uas.check().is_ok(), "{}", uas.describe());
    let to_callee = pcap.rtp_to(callee.media);
    let to_caller = pcap.rtp_to(caller.media);
    let report = format!(
        "to callee {:?}, to caller {:?}",
        to_callee.packets_by_pt, to_caller.packets_by_pt
    );
    assert!(
        to_callee.tone_seconds(1000.0) >= 3.0,
        "caller's tone at the callee: {report}"
    );
    assert_eq!(to_callee.digits, "159#", "{report}");
    assert!(
        to_caller.tone_seconds(440.0) >= 3.0,
        "callee's tone at the caller: {report}"
    );
    assert_eq!(
        to_callee.tone_seconds(440.0),
        0.0,
        "no echo of the callee's tone: {report}"
    );
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(cdr["result"], "answered", "{cdr}");
    assert_eq!(
        (cdr["caller"].as_str(), cdr["callee"].as_str()),
        (Some("1001"), Some("1002"))
    );
    assert_eq!(cdr["hangup_side"], "caller", "{cdr}");
    assert!(cdr["billsec_ms"].as_i64().unwrap() >= 4000, "{cdr}");
    for side in ["caller_quality", "callee_quality"] {
        let quality = &cdr[side];
        assert!(quality["packets"].as_i64().unwrap() >= 150, "{side}: {cdr}");
        assert!(quality["lost"].as_i64().unwrap() <= 2, "{side}: {cdr}");
        assert!(quality["mos"].as_f64().unwrap() >= 4.0, "{side}: {cdr}");
    }
    assert_eq!(pbx.metric("centrala_active_calls"), 0.0);
}

#[test]
fn call_carries_audio_both_ways_pcmu() {
    call_with_audio(
        "call_carries_audio_both_ways_pcmu",
        0,
        "PCMU",
        SippTransport::Udp,
    );
}

#[test]
fn call_carries_audio_both_ways_pcma() {
    call_with_audio(
        "call_carries_audio_both_ways_pcma",
        8,
        "PCMA",
        SippTransport::Udp,
    );
}

#[test]
fn call_carries_audio_both_ways_over_tcp() {
    call_with_audio(
        "call_carries_audio_both_ways_over_tcp",
        0,
        "PCMU",
        SippTransport::Tcp,
    );
}

/// Registers 1002 at slot 1 and runs `scenario` there, then has 1001 call 1002 with
/// `uac_expect.xml` expecting `status`; returns the newest CDR.
fn refused_call(
    test: &str,
    extra_sip: &str,
    scenario: &str,
    status: u16,
) -> (Pbx, serde_json::Value) {
    let pbx = Pbx::start(test, extra_sip);
    pbx.register(1, "1002");
    let uas = pbx.sipp(1, "uas", scenario).spawn().unwrap();
    let uac = pbx
        .sipp(0, "uac", "uac_expect.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .set("expect", status)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(
        uac.log_lines(&format!("STATUS {status} ")).count(),
        1,
        "{}",
        uac.describe()
    );
    let uas = uas.wait().unwrap();
    assert!(uas.check().is_ok(), "{}", uas.describe());
    let cdr = pbx.cdrs(1)[0].clone();
    (pbx, cdr)
}

#[test]
fn busy_callee_gives_486() {
    if !enabled("busy_callee_gives_486") {
        return;
    }
    let (_pbx, cdr) = refused_call("busy_callee_gives_486", "", "uas_busy.xml", 486);
    assert_eq!(cdr["result"], "busy", "{cdr}");
}

#[test]
fn no_answer_times_out_with_480_and_cancels_the_phone() {
    if !enabled("no_answer_times_out") {
        return;
    }
    let (_pbx, cdr) = refused_call(
        "no_answer_times_out",
        "no_answer_timeout_secs = 2",
        "uas_ring.xml",
        480,
    );
    assert_eq!(cdr["result"], "no_answer", "{cdr}");
}

#[test]
fn cancel_before_answer_reaches_the_callee() {
    if !enabled("cancel_before_answer") {
        return;
    }
    let pbx = Pbx::start("cancel_before_answer", "");
    pbx.register(1, "1002");
    let uas = pbx.sipp(1, "uas", "uas_ring.xml").spawn().unwrap();
    let uac = pbx
        .sipp(0, "uac", "uac_cancel.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001");
    let uac = uac.run().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(uac.log_lines("CANCELLED ").count(), 1, "{}", uac.describe());
    let uas = uas.wait().unwrap();
    assert_eq!(uas.log_lines("CANCELLED ").count(), 1, "{}", uas.describe());
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["result"].as_str(), cdr["hangup_side"].as_str()),
        (Some("cancelled"), Some("caller"))
    );
}

#[test]
fn callee_hangs_up_and_the_caller_gets_bye() {
    if !enabled("callee_hangs_up") {
        return;
    }
    let pbx = Pbx::start("callee_hangs_up", "");
    pbx.register(1, "1002");
    let uas = pbx
        .sipp(1, "uas", "uas_hangup.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .set("secs", 2);
    let uas = uas.media_secs(6).spawn().unwrap();
    let uac = pbx
        .sipp(0, "uac", "uac_wait_bye.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(10)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(
        uac.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{}",
        uac.describe()
    );
    let uas = uas.wait().unwrap();
    assert!(uas.check().is_ok(), "{}", uas.describe());
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["result"].as_str(), cdr["hangup_side"].as_str()),
        (Some("answered"), Some("callee"))
    );
}

#[test]
fn unknown_and_unregistered_extensions_are_refused() {
    if !enabled("unknown_and_unregistered") {
        return;
    }
    let pbx = Pbx::start("unknown_and_unregistered", "");
    for (number, status) in [("9999", 404), ("1003", 480)] {
        let uac = pbx
            .sipp(0, &format!("uac-{number}"), "uac_expect.xml")
            .service(number)
            .key("caller", "1001")
            .auth("1001", "pw1001")
            .set("expect", status)
            .timeout(Duration::from_secs(15))
            .run()
            .unwrap();
        assert!(uac.check().is_ok(), "{number}: {}", uac.describe());
    }
    assert_eq!(
        pbx.metric("centrala_calls_total{result=\"unavailable\"}"),
        2.0
    );
}

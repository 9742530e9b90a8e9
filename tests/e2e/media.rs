//! The media engine on real calls: a G.711 caller and an Opus-only softphone hear each other
//! through Centrala's transcoder, and a recorded call keeps the caller on the left channel and
//! the callee on the right.

use std::time::Duration;

use crate::common::capture::Capture;
use crate::common::{media, wav};
use crate::support::{Pbx, enabled};

#[test]
fn pcmu_caller_and_opus_phone_hear_each_other_through_the_transcoder() {
    if !enabled("transcoded_pcmu_opus") {
        return;
    }
    let pbx = Pbx::start("transcoded_pcmu_opus", "");
    let (caller, phone) = (pbx.peer(0), pbx.peer(1));
    let account = format!(
        "<sip:1002@{}>;auth_pass=pw1002;regint=300;answermode=auto;audio_codecs=opus/48000/2",
        pbx.sip
    );
    let (mut baresip, mut ctrl) = pbx.softphone(1, "opus-phone", 440.0, account);
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    pbx.call_from_1001("1002", 5);
    ctrl.wait_event("CALL_CLOSED", Duration::from_secs(10))
        .unwrap();
    baresip.stop();
    let pcap = capture.stop().unwrap();
    let to_caller = pcap.rtp_to(caller.media);
    assert!(
        to_caller.packets_by_pt.contains_key(&0),
        "PCMU toward the caller: {:?}",
        to_caller.packets_by_pt
    );
    // baresip picks its RTP port anywhere in its range: take the busiest one.
    let to_phone = (phone.media..=phone.media_last)
        .map(|port| pcap.rtp_to(port))
        .max_by_key(|s| s.packets_by_pt.values().sum::<usize>())
        .unwrap();
    assert!(
        !to_phone.packets_by_pt.is_empty() && to_phone.packets_by_pt.keys().all(|pt| *pt >= 96),
        "only Opus (dynamic payload types) toward the phone: {:?}",
        to_phone.packets_by_pt
    );
    let heard_by_caller = to_caller.tone_seconds(440.0);
    assert!(
        heard_by_caller >= 3.0,
        "the caller heard {heard_by_caller} s of the phone's 440 Hz"
    );
    let heard = wav::read(&baresip.recorded_wav().unwrap()).unwrap();
    let heard_1k = media::tone_seconds(&heard.mono(), heard.rate, 1000.0);
    assert!(
        heard_1k >= 3.0,
        "the Opus phone heard {heard_1k} s of the caller's 1 kHz"
    );
}

#[test]
fn recorded_call_has_the_caller_left_and_the_callee_right() {
    if !enabled("recorded_call") {
        return;
    }
    let pbx = Pbx::start_full(
        "recorded_call",
        "",
        "[[extensions]]\nnumber = \"1004\"\npassword = \"pw1004\"\nrecord = \"always\"\n",
    );
    pbx.register(1, "1004");
    let uas = pbx.answering_phone(1, 6);
    pbx.call_from_1001("1004", 5);
    assert!(uas.wait().unwrap().check().is_ok());
    let cdr = &pbx.cdrs(1)[0];
    let recording = pbx.done_recording();
    assert_eq!(recording["call_id"], cdr["id"], "{recording}");
    assert!(
        recording["duration_ms"].as_i64().unwrap() >= 4000,
        "{recording}"
    );
    let file = pbx
        .dir
        .join("data/recordings")
        .join(format!("{}.wav", cdr["id"].as_str().unwrap()));
    let audio = wav::read(&file).unwrap();
    assert_eq!((audio.channels, audio.rate), (2, 8000));
    let left: Vec<i16> = audio.samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = audio.samples.iter().skip(1).step_by(2).copied().collect();
    assert!(
        media::tone_seconds(&left, 8000, 1000.0) >= 3.0,
        "caller's 1 kHz on the left"
    );
    assert!(
        media::tone_seconds(&right, 8000, 440.0) >= 3.0,
        "callee's 440 Hz on the right"
    );
    assert_eq!(
        media::tone_seconds(&left, 8000, 440.0),
        0.0,
        "no callee on the left"
    );
}
